"""Secrets in the browser: a secret environment variable (event editor) and
a secret variable (/variables), entered through the UI, never come back to
the browser once saved: not in the page, not in a websocket frame (the
Reflex state travels in them), not in the log of a job that printed them
(*** there). Stored secrets are kept, replaced, made plain and removed
through the UI; the service's messages show beside the fields."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.helpers import EVENT_URL_RE, log_lines, type_script, wait_job_status
from tests.support import ui_flows
from tests.support.clients import job_lines, wait_for_job

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SECRET_SET = "•••••• (secret: set)"
FIRST_SECRET_ENV = "tok-Wb52-first-secret-env"
SECRET_ENV = "tok-Zq81-secret-env"
SECRET_VARIABLE = "pw-Kx47-secret-variable"
VARIABLE_KEY = "db.password"
PRINTING_SCRIPT = (
    "import os\n"
    "print('token=' + os.environ['API_TOKEN'], flush=True)\n"
    f"print('variable=' + str(cronium.get_variable('{VARIABLE_KEY}')), flush=True)\n"
    "print('region=' + os.environ['REGION'], flush=True)\n"
)


@dataclass
class Frames:
    """Every websocket frame a page sends or receives, as text, in order."""

    texts: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        def record(payload: str | bytes) -> None:
            self.texts.append(payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

        def on_websocket(socket) -> None:
            socket.on("framesent", record)
            socket.on("framereceived", record)

        page.on("websocket", on_websocket)

    def mark(self) -> int:
        return len(self.texts)

    def since(self, mark: int) -> str:
        return "\n".join(self.texts[mark:])


def _signed_in(new_context, user, app_url: str) -> tuple[Page, Frames]:
    page = new_context().new_page()
    frames = Frames()
    frames.watch(page)
    ui_flows.login(page, app_url, user.user["email"])
    return page, frames


def _env_row(page: Page, name: str) -> Locator:
    """The environment variable row whose name field says `name`, once
    the page shows it."""
    index = page.wait_for_function(
        """(name) => { const keys = Array.from(document.querySelectorAll('[data-testid=env-key]'));
                       const at = keys.findIndex((key) => key.value === name);
                       return at >= 0 ? at + 1 : 0; }""",
        arg=name,
    ).json_value()
    return page.locator("[data-testid=env-row]").nth(index - 1)


def _add_env(page: Page, name: str, value: str, *, secret: bool = False) -> None:
    rows = page.locator("[data-testid=env-row]")
    count = rows.count()
    page.locator("#add-env").click()
    expect(rows).to_have_count(count + 1)  # the new row is on the page: fill that one
    row = rows.nth(count)
    row.locator("[data-testid=env-key]").fill(name)
    if secret:
        row.locator("[data-testid=env-secret]").click()
        expect(row.locator("[data-testid=env-value]")).to_have_attribute("type", "password")
    row.locator("[data-testid=env-value]").fill(value)


def _expect_stored_secret(row: Locator) -> None:
    value = row.locator("[data-testid=env-value]")
    expect(value).to_have_value("")
    expect(value).to_have_attribute("placeholder", SECRET_SET)
    expect(row).to_have_attribute("data-secret", "true")


def _variable_row(page: Page, key: str) -> Locator:
    return page.locator(f"[data-testid=variable-row][data-key='{key}']")


def _save_variable(page: Page, value: str, *, secret: bool | None = None) -> None:
    """Fill the open variable dialog (and set its secret box) and save it."""
    page.locator("#variable-value").fill(value)
    box = page.locator("#variable-secret")
    if secret is not None and (box.get_attribute("data-state") == "checked") != secret:
        box.click()
    page.locator("#variable-save").click()
    expect(page.locator("#variable-dialog")).to_be_hidden()


def _expect_secret_variable(page: Page, key: str) -> None:
    row = _variable_row(page, key)
    expect(row).to_have_attribute("data-secret", "true")
    expect(row.locator("[data-testid=secret-badge]")).to_have_text("secret")
    expect(row.locator("[data-testid=variable-value]")).to_have_text(SECRET_SET)


def _absent(text: str, *secrets: str) -> list[str]:
    return [secret for secret in secrets if secret in text]


def test_saved_secrets_reach_no_page_no_websocket_frame_and_no_job_log(new_context, make_api_user, app_url):
    user = make_api_user()
    page, frames = _signed_in(new_context, user, app_url)

    page.goto("/variables")
    page.locator("#new-variable").click()
    page.locator("#variable-key").fill(VARIABLE_KEY)
    _save_variable(page, SECRET_VARIABLE, secret=True)
    _expect_secret_variable(page, VARIABLE_KEY)
    variable_saved = frames.mark()
    assert user.http.get(f"/api/v1/variables/{VARIABLE_KEY}").json()["value"] is None

    page.goto("/events/new")
    page.locator("#field-name").fill("Prints its secrets")
    type_script(page, PRINTING_SCRIPT)
    _add_env(page, "REGION", "eu-west")
    _add_env(page, "API_TOKEN", FIRST_SECRET_ENV, secret=True)
    page.locator("#save-event").click()
    page.wait_for_url(EVENT_URL_RE, timeout=30_000)
    event_created = frames.mark()
    _expect_stored_secret(_env_row(page, "API_TOKEN"))
    event_id = int(EVENT_URL_RE.match(page.url).group(1))
    saved = user.http.get(f"/api/v1/events/{event_id}").json()
    assert (saved["envVars"], saved["secretEnvVarNames"]) == ({"REGION": "eu-west"}, ["API_TOKEN"])

    # Replaced on the saved event's page (an update: the page stays).
    _env_row(page, "API_TOKEN").locator("[data-testid=env-value]").fill(SECRET_ENV)
    page.locator("#save-event").click()
    expect(page.locator("[data-sonner-toast][data-type=success]")).to_contain_text("Saved.")
    event_saved = frames.mark()
    _expect_stored_secret(_env_row(page, "API_TOKEN"))
    assert not _absent(page.content(), FIRST_SECRET_ENV, SECRET_ENV, SECRET_VARIABLE)

    page.reload()
    _expect_stored_secret(_env_row(page, "API_TOKEN"))
    expect(_env_row(page, "REGION").locator("[data-testid=env-value]")).to_have_value("eu-west")
    assert not _absent(page.content(), FIRST_SECRET_ENV, SECRET_ENV, SECRET_VARIABLE)

    page.locator("#execute-event").click()
    page.wait_for_url(ui_flows.JOB_URL_RE, timeout=30_000)
    wait_job_status(page, "completed")
    expect(page.locator("[data-testid=log-line]")).to_have_count(3)
    assert [line["text"] for line in log_lines(page)] == ["token=***", "variable=***", "region=eu-west"]
    assert not _absent(page.content(), FIRST_SECRET_ENV, SECRET_ENV, SECRET_VARIABLE)

    page.goto("/variables")
    _expect_secret_variable(page, VARIABLE_KEY)
    assert not _absent(page.content(), FIRST_SECRET_ENV, SECRET_ENV, SECRET_VARIABLE)

    # The frames were seen both ways: the secrets went out while typed, and
    # the saved names came back after. At least one secret, not each: in one
    # run of the whole suite, one typed secret was missing from the frames
    # Playwright reported, though the app had received it.
    typed = [secret for secret in (FIRST_SECRET_ENV, SECRET_ENV, SECRET_VARIABLE) if secret in frames.since(0)]
    assert typed, "no frame sent while typing was seen"
    assert "API_TOKEN" in frames.since(event_saved) and VARIABLE_KEY in frames.since(event_saved)
    assert not _absent(frames.since(variable_saved), SECRET_VARIABLE)
    assert not _absent(frames.since(event_created), FIRST_SECRET_ENV)
    assert not _absent(frames.since(event_saved), SECRET_ENV)


# The names whose values a run prints, hashed (never the value: a plain one
# would show in the log, a secret one would be masked).
HASHED = ("KEEP_ME", "REPLACE_ME", "MAKE_PLAIN", "REMOVE_ME", "MAKE_SECRET")
HASH_SCRIPT = (
    "import hashlib, os\n"
    f"for name in {HASHED!r}:\n"
    "    value = os.environ.get(name)\n"
    "    print(name, 'unset' if value is None else hashlib.sha256(value.encode()).hexdigest()[:16], flush=True)\n"
)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _hash_line(name: str, value: str | None) -> str:
    return f"{name} {'unset' if value is None else _digest(value)}"


def test_stored_secrets_are_kept_replaced_made_plain_and_removed(new_context, make_api_user, app_url):
    user = make_api_user()
    event = user.create_event(
        name="Secret rotation", type="python", script=HASH_SCRIPT,
        envVars={"MAKE_SECRET": "was-plain-1"},
        secretEnvVars={"KEEP_ME": "kept-value-2", "REPLACE_ME": "old-value-3", "MAKE_PLAIN": "old-value-4",
                       "REMOVE_ME": "old-value-5"},
    )
    page, _frames = _signed_in(new_context, user, app_url)
    page.goto(f"/events/{event['id']}")
    for name in ("KEEP_ME", "REPLACE_ME", "MAKE_PLAIN", "REMOVE_ME"):
        _expect_stored_secret(_env_row(page, name))

    _env_row(page, "REPLACE_ME").locator("[data-testid=env-value]").fill("new-value-6")
    _env_row(page, "MAKE_SECRET").locator("[data-testid=env-secret]").click()
    _env_row(page, "REMOVE_ME").get_by_role("button", name="Remove").click()
    plain = _env_row(page, "MAKE_PLAIN")
    plain.locator("[data-testid=env-secret]").click()
    expect(plain.locator("[data-testid=env-value]")).to_have_attribute("placeholder", "enter the value again")
    _add_env(page, "CRONIUM_TOKEN", "reserved-7", secret=True)

    # Refused: a secret made plain without its value, and a reserved name
    # (the event schema's message), each beside the variables.
    page.locator("#save-event").click()
    expect(page.locator("#error-envVars")).to_contain_text("Enter a value for MAKE_PLAIN: it was a secret")
    expect(page.locator("#error-secretEnvVars")).to_contain_text("reserved (CRONIUM_ prefix)")
    plain.locator("[data-testid=env-value]").fill("now-plain-8")
    _env_row(page, "CRONIUM_TOKEN").get_by_role("button", name="Remove").click()
    expect(page.locator("#error-envVars")).to_have_count(0)
    page.locator("#save-event").click()
    expect(page.locator("[data-sonner-toast][data-type=success]")).to_contain_text("Saved.")

    for name in ("KEEP_ME", "REPLACE_ME", "MAKE_SECRET"):
        _expect_stored_secret(_env_row(page, name))
    saved = user.http.get(f"/api/v1/events/{event['id']}").json()
    assert saved["envVars"] == {"MAKE_PLAIN": "now-plain-8"}
    assert saved["secretEnvVarNames"] == ["KEEP_ME", "MAKE_SECRET", "REPLACE_ME"]

    job = wait_for_job(user, user.execute(event["id"]))
    assert job["status"] == "completed", job
    seen = {"KEEP_ME": "kept-value-2", "REPLACE_ME": "new-value-6", "MAKE_PLAIN": "now-plain-8", "REMOVE_ME": None,
            "MAKE_SECRET": "was-plain-1"}
    assert [line["line"] for line in job_lines(user, job["id"])] == [_hash_line(name, seen[name]) for name in HASHED]


VARIABLE_HASH_SCRIPT = (
    "import hashlib\n"
    f"print(hashlib.sha256(str(cronium.get_variable('{VARIABLE_KEY}')).encode()).hexdigest()[:16], flush=True)\n"
)


def test_a_secret_variable_is_replaced_made_plain_and_deleted(new_context, make_api_user, app_url):
    user = make_api_user()
    created = user.http.put(f"/api/v1/variables/{VARIABLE_KEY}", json={"value": "first-secret-1", "secret": True})
    assert created.status_code == 201, created.text
    reader = user.create_event(name="Reads the variable", type="python", script=VARIABLE_HASH_SCRIPT)
    page, _frames = _signed_in(new_context, user, app_url)
    page.goto("/variables")
    _expect_secret_variable(page, VARIABLE_KEY)

    row = _variable_row(page, VARIABLE_KEY)
    replace = row.locator("[data-testid=edit-variable]")
    expect(replace).to_have_attribute("aria-label", "Replace value")
    replace.click()
    expect(page.locator("#variable-dialog")).to_contain_text("Replace secret value")
    expect(page.locator("#variable-value")).to_have_value("")
    expect(page.locator("#variable-secret")).to_have_attribute("data-state", "checked")
    _save_variable(page, "second-secret-2")
    _expect_secret_variable(page, VARIABLE_KEY)
    job = wait_for_job(user, user.execute(reader["id"]))
    assert [line["line"] for line in job_lines(user, job["id"])] == [_digest("second-secret-2")]

    row.locator("[data-testid=edit-variable]").click()
    _save_variable(page, "now plain", secret=False)
    expect(row).to_have_attribute("data-secret", "false")
    expect(row.locator("[data-testid=variable-value]")).to_have_text('"now plain"')
    assert user.http.get(f"/api/v1/variables/{VARIABLE_KEY}").json()["value"] == "now plain"

    row.locator("[data-testid=delete-variable]").click()
    page.locator("#delete-confirm").click()
    expect(row).to_have_count(0)
    assert user.http.get(f"/api/v1/variables/{VARIABLE_KEY}").status_code == 404
    expect(page.locator("#variables-empty")).to_be_visible()
