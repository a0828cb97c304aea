"""What an audit entry shows of a row: changed fields only, secrets never
(the masking rule on the models' columns)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from cronium_app.audit.snapshots import CHANGED, HIDDEN, MAX_TEXT, changes, snapshot
from cronium_app.models import Event, Variable, metadata
from cronium_app.models.types import AUDIT

# A column whose name says it holds a secret must say so to the audit log too.
SECRET_NAME_RE = re.compile(r"password|secret|credential|token_hash|sealed|env_vars")


def test_every_column_named_like_a_secret_is_masked():
    unmarked = [f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns
                if SECRET_NAME_RE.search(column.name) and column.name != "secret_env_names"
                and not isinstance(column.type, sa.Boolean) and AUDIT not in column.info]
    assert unmarked == []


def test_a_secret_column_shows_only_that_it_changed():
    event = Event(user_id=1, name="e", type="bash", secret_env="sealed-1", env_vars={"A": "value-a"})
    before = snapshot(event)
    event.secret_env = "sealed-2"
    event.env_vars = {"A": "value-a", "B": "value-b"}
    shown = changes(before, snapshot(event))
    assert shown["secret_env"] == {"before": HIDDEN, "after": CHANGED}
    assert shown["env_vars"] == {"before": {"A": HIDDEN}, "after": {"A": HIDDEN, "B": HIDDEN}}
    assert "value-a" not in repr(shown) and "sealed" not in repr(shown)


def test_an_unchanged_secret_is_left_out():
    variable = Variable(user_id=1, key="k", secret=True, sealed_value="sealed")
    before = snapshot(variable)
    variable.key = "k2"
    assert changes(before, snapshot(variable)) == {"key": {"before": "k", "after": "k2"}}


def test_created_and_deleted_rows_show_their_set_fields():
    variable = Variable(user_id=1, key="k", value={"password": "x"})
    assert changes(None, snapshot(variable)) == {"key": {"after": "k"}, "value": {"after": HIDDEN},
                                                 "secret": {"after": False}}
    assert changes(snapshot(variable), None)["value"] == {"before": HIDDEN}


def test_a_long_script_is_cut():
    event = Event(user_id=1, name="e", type="bash", script="x" * (MAX_TEXT + 50))
    shown = changes(None, snapshot(event))["script"]["after"]
    assert shown.startswith("x" * MAX_TEXT) and shown.endswith("(50 more characters)")
