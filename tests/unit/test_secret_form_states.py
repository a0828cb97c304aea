"""The event editor's and the variables page's states after a secret was
saved: the value typed is in no var, backend var or computed var any more
(the state is what the browser is sent, and what a state manager stores)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from cronium_app.pagination import Page
from cronium_app.state import variables as variables_state
from cronium_app.state.event_editor import EventEditorState
from cronium_app.state.variables import VariablesState, variable_row

SECRET = "tok-5ecret-value-91"
SAVED_EVENT = {
    "id": 7,
    "name": "Nightly report",
    "type": "python",
    "status": "active",
    "timeoutSeconds": 60,
    "retries": 0,
    "cpus": 1.0,
    "memoryMb": 256,
    "pidsLimit": 64,
    "network": "none",
    "envVars": {"REGION": "eu"},
    "secretEnvVarNames": ["DB_PASSWORD"],
    "script": "print(1)\n",
    "scheduleType": "manual",
    "updatedAt": "2026-01-01T00:00:00Z",
}


def _holds(state, text: str) -> bool:
    """Whether `text` is anywhere in the state: what the browser gets, and
    what is stored (backend vars too)."""
    return text in json.dumps(state.dict()) or text.encode() in state._serialize()


def _editor_with_a_new_secret() -> EventEditorState:
    state = EventEditorState()
    state._fill(SAVED_EVENT)
    state.add_row("env")
    state.set_row("env", 2, "key", "API_TOKEN")
    state.set_env_secret(2, True)
    state.set_row("env", 2, "value", SECRET)
    return state


def test_the_event_editor_sends_only_the_secret_typed():
    payload, problems = _editor_with_a_new_secret()._payload()
    assert (problems, payload["envVars"], payload["secretEnvVars"]) == ({}, {"REGION": "eu"}, {"API_TOKEN": SECRET})


def test_the_event_editor_forgets_a_secret_once_saved():
    state = _editor_with_a_new_secret()
    assert _holds(state, SECRET)  # the check can see it
    state._saved({**SAVED_EVENT, "secretEnvVarNames": ["API_TOKEN", "DB_PASSWORD"]})
    assert not _holds(state, SECRET)
    assert state.saved_secret_names == ["API_TOKEN", "DB_PASSWORD"]


def test_a_secret_variable_row_has_no_value():
    row = variable_row({"key": "db.password", "value": SECRET, "secret": True, "updatedAt": None}, "UTC")
    assert (row["value"], row["kind"], row["secret"]) == ("", "", True)


@pytest.fixture
def saved_variables(monkeypatch) -> list[tuple[Any, ...]]:
    """The variables page's service calls, faked: what was saved."""
    saved: list[tuple[Any, ...]] = []

    def create(user_id: int, key: str, value: Any, secret: bool) -> dict[str, Any]:
        saved.append((key, value, secret))
        return {"key": key, "value": None if secret else value, "secret": secret}

    def page(user_id: int, offset: int) -> Page:
        items = [{"key": key, "value": None if secret else value, "secret": secret} for key, value, secret in saved]
        return Page(items=items, total=None, limit=50, offset=offset)

    monkeypatch.setattr(variables_state, "_create", create)
    monkeypatch.setattr(variables_state, "_page", page)
    return saved


async def _run(handler) -> None:
    async for _update in handler:
        pass


def test_the_variables_page_forgets_a_secret_once_saved(saved_variables):
    state = VariablesState()
    state.open_create()
    state.set_key("db.password")
    state.set_value_text(SECRET)
    state.set_secret(True)
    assert _holds(state, SECRET)
    asyncio.run(_run(state.save()))
    assert saved_variables == [("db.password", SECRET, True)]
    assert not _holds(state, SECRET)
    assert [(row["key"], row["secret"]) for row in state.rows] == [("db.password", True)]


def test_replacing_a_secret_variable_starts_from_an_empty_value(saved_variables):
    state = VariablesState()
    state.rows = [variable_row({"key": "db.password", "value": None, "secret": True}, "UTC")]
    state.open_edit("db.password")
    assert (state.editing_secret, state.secret, state.value_text) == (True, True, "")
