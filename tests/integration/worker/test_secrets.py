"""Secret environment variables and secret variables through a real app,
a real worker and real Docker: the script gets the real values, and no
stored log line, no API reply and no row of the database shows them, plain,
base64- or URL-encoded, or inside other text."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from cronium_app.db import make_engine
from tests.integration.worker.jobkit import texts
from tests.support.clients import UserClient, job_lines, wait_for_job

SECRET_ENV = "env-s3cret-Value/+=9"
SECRET_VARIABLE = "variable-s3cret-Value?&7"
PLAIN_ENV = "just-a-plain-value"


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [secret, base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(), quote(secret, safe="")]


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Prints every secret in every form, plain and inside other text, and the
# hash of each (which proves the script saw the real value).
SCRIPT = r'''
import base64, hashlib, os, urllib.parse
import cronium

def leak(label, value):
    raw = value.encode()
    print(f"{label} plain {value}")
    print(f"{label} inside token={value};next")
    print(f"{label} base64 {base64.b64encode(raw).decode()}")
    print(f"{label} base64url {base64.urlsafe_b64encode(raw).decode()}")
    print(f"{label} base64 of longer text {base64.b64encode(b'user:' + raw).decode()}")
    print(f"{label} url {urllib.parse.quote(value, safe='')}")
    print(f"{label} sha256 {hashlib.sha256(raw).hexdigest()}")

leak("env", os.environ["API_KEY"])
leak("variable", cronium.get_variable("db_password"))
print("plain env", os.environ["PLAIN"])
'''


@pytest.fixture(scope="module")
def leaky_job(worker_user: UserClient, running_worker) -> Iterator[tuple[dict, list[str]]]:
    response = worker_user.http.put("/api/v1/variables/db_password", json={"value": SECRET_VARIABLE, "secret": True})
    assert response.status_code in (200, 201), response.text
    event = worker_user.create_event(name="leaky", type="python", script=SCRIPT, envVars={"PLAIN": PLAIN_ENV},
                                     secretEnvVars={"API_KEY": SECRET_ENV})
    job = wait_for_job(worker_user, worker_user.execute(event["id"]), timeout=90)
    yield job, texts(job_lines(worker_user, job["id"]))


def test_the_script_gets_the_real_secret_values(leaky_job):
    job, lines = leaky_job
    assert job["status"] == "completed", job
    assert f"env sha256 {digest(SECRET_ENV)}" in lines
    assert f"variable sha256 {digest(SECRET_VARIABLE)}" in lines
    assert f"plain env {PLAIN_ENV}" in lines


@pytest.mark.parametrize("secret", [SECRET_ENV, SECRET_VARIABLE], ids=["env", "variable"])
def test_no_stored_log_line_shows_a_secret_in_any_form(leaky_job, secret):
    _, lines = leaky_job
    log = "\n".join(lines)
    assert [form for form in forms(secret) if form in log] == []
    assert "token=***;next" in log


@pytest.mark.parametrize("secret", [SECRET_ENV, SECRET_VARIABLE], ids=["env", "variable"])
def test_no_api_reply_shows_a_secret(worker_user, leaky_job, secret):
    job, _ = leaky_job
    replies = [
        worker_user.http.get(path).text
        for path in (f"/api/v1/jobs/{job['id']}", "/api/v1/jobs", f"/api/v1/events/{job['eventId']}",
                     "/api/v1/events", "/api/v1/variables", "/api/v1/variables/db_password")
    ]
    assert [form for reply in replies for form in forms(secret) if form in reply] == []


@pytest.mark.parametrize("secret", [SECRET_ENV, SECRET_VARIABLE], ids=["env", "variable"])
def test_no_database_row_holds_a_secret_in_the_clear(worker_app, leaky_job, secret):
    engine = make_engine(worker_app.database_url)
    try:
        with engine.connect() as conn:
            dump = json.dumps([
                [list(row) for row in conn.execute(sa.text(f"SELECT * FROM {table}")).all()]
                for table in ("jobs", "events", "variables", "execution_logs", "workflow_runs")
            ], default=str)
    finally:
        engine.dispose()
    assert [form for form in forms(secret) if form in dump] == []


def test_the_event_lists_its_secret_names_and_never_their_values(worker_user, leaky_job):
    job, _ = leaky_job
    event = worker_user.http.get(f"/api/v1/events/{job['eventId']}").json()
    assert (event["secretEnvVarNames"], event["envVars"]) == (["API_KEY"], {"PLAIN": PLAIN_ENV})
    assert worker_user.job(job["id"])["execution"]["env"] == {"PLAIN": "***", "API_KEY": "***"}
