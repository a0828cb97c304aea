"""The name/value rows of the event editor (environment variables, HTTP
headers), and what a save sends for the environment variables.

A secret environment variable is write-only: the editor gets only its name
from the service (`secretEnvVarNames`) and shows it as set. A save sends a
secret's value only when the user typed a new one, and removes the ones
whose rows are gone (`secretEnvVars: {name: value | None}`). Once saved,
the typed values leave the rows (`rows_after_save`): the rows are state,
and state is sent to the browser.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypedDict

from cronium_app.display.rows import KeyValue

ENV_KEY = "envVars"
SECRET_ENV_KEY = "secretEnvVars"


class EnvRow(TypedDict):
    key: str
    # A plain value, or a secret's new value ("" keeps the stored one).
    value: str
    secret: bool
    # The name the service holds this row's secret under ("": none).
    stored: str


def blank_env_row() -> EnvRow:
    return {"key": "", "value": "", "secret": False, "stored": ""}


def env_rows(event: dict[str, Any]) -> list[EnvRow]:
    """The rows of a saved event: its plain variables, then its secrets
    (names only)."""
    plain: list[EnvRow] = [
        {"key": name, "value": value, "secret": False, "stored": ""}
        for name, value in (event.get("envVars") or {}).items()
    ]
    secret: list[EnvRow] = [
        {"key": name, "value": "", "secret": True, "stored": name} for name in event.get("secretEnvVarNames") or []
    ]
    return plain + secret


def keeps_stored_value(row: EnvRow) -> bool:
    """A secret row left as it was: its name unchanged, no new value."""
    return row["secret"] and not row["value"] and bool(row["stored"]) and row["key"].strip() == row["stored"]


def rows_after_save(rows: Iterable[EnvRow]) -> list[EnvRow]:
    """The rows once saved: each named secret now stands for its stored
    value, and the value typed for it is gone."""
    saved: list[EnvRow] = []
    for row in rows:
        name = row["key"].strip()
        if row["secret"] and name:
            row = {"key": name, "value": "", "secret": True, "stored": name}
        elif not row["secret"]:
            row = {**row, "stored": ""}
        saved.append(row)
    return saved


def named_values(rows: Iterable[KeyValue | EnvRow], error_key: str, what: str, problems: dict[str, str]) -> dict[str, str]:
    """{name: value} of the rows that are not blank; a row without a name,
    or a name used twice, goes into `problems` under `error_key`."""
    found: dict[str, str] = {}
    for row in rows:
        name, value = row["key"].strip(), row["value"]
        if not name and not value:
            continue
        if not name:
            problems[error_key] = f"Every {what} needs a name."
        elif name in found:
            problems[error_key] = f"{name} appears twice."
        found[name] = value
    return found


@dataclass(frozen=True)
class EnvChanges:
    """What a save sends for the environment variables."""

    plain: dict[str, str]  # envVars: all of them
    secret: dict[str, str | None]  # secretEnvVars: new values, and None for each removed one
    problems: dict[str, str]


def _row_problem(row: EnvRow) -> str | None:
    """Why a named row cannot be saved as it is, if it cannot."""
    name = row["key"].strip()
    if row["value"] or keeps_stored_value(row):
        return None
    if row["secret"]:
        return f"Enter a value for the secret {name}."
    if row["stored"]:
        return f"Enter a value for {name}: it was a secret, and a secret's value is never shown."
    return None


def env_changes(rows: list[EnvRow], saved_secret_names: Iterable[str]) -> EnvChanges:
    """The plain variables, and the secret changes against the secrets the
    service holds (`saved_secret_names`): a secret left as it was is not
    sent; one renamed, removed or made plain is removed (None)."""
    problems: dict[str, str] = {}
    named_values(rows, ENV_KEY, "environment variable", problems)
    plain: dict[str, str] = {}
    secret: dict[str, str | None] = {}
    kept: set[str] = set()
    for row in rows:
        name = row["key"].strip()
        if not name:
            continue
        problem = _row_problem(row)
        if problem:
            problems.setdefault(SECRET_ENV_KEY if row["secret"] else ENV_KEY, problem)
        elif not row["secret"]:
            plain[name] = row["value"]
        elif keeps_stored_value(row):
            kept.add(name)
        else:
            secret[name] = row["value"]
    for name in sorted(set(saved_secret_names) - kept - set(secret)):
        secret[name] = None
    return EnvChanges(plain=plain, secret=secret, problems=problems)
