"""What an entry shows of a row: its columns before and after a change,
with one masking rule for every table.

A column's `info` says what may be shown (cronium_app/models/types.py):
a SECRET column's value never, a KEYS_ONLY column's keys but none of its
values. The rule lives on the models, so a new secret column is masked
by marking it once, not at every place that records a change. A hidden
value is kept in memory only to tell whether it changed; what is stored is
`HIDDEN`, or `CHANGED` in the `after` of an update that changed it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import inspect as sa_inspect

from cronium_app.models.types import AUDIT
from cronium_app.timeutil import isoformat

HIDDEN = "[hidden]"
CHANGED = "[hidden: changed]"
# Fields every row has that say nothing about the change.
_NOT_SHOWN = frozenset({"id", "user_id", "created_at", "updated_at"})
# A long script or document is cut: the entry says a change happened and
# how it began, the object itself keeps the whole.
MAX_TEXT = 2000
MAX_JSON = 4000


class Hidden:
    """A secret value, comparable, never rendered."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hidden) and self._value == other._value

    def __hash__(self) -> int:  # pragma: no cover - not used as a key
        return 0

    def __repr__(self) -> str:
        return HIDDEN


Snapshot = dict[str, Any]


def _masked(value: Any, rule: str | None) -> Any:
    if value is None or rule is None:
        return value
    if rule == "keys" and isinstance(value, dict):
        return {key: Hidden(item) for key, item in value.items()}
    if rule == "headers" and isinstance(value, dict):
        headers = value.get("headers")
        if not isinstance(headers, dict):
            return value
        return {**value, "headers": _masked(headers, "keys")}
    return Hidden(value)


def _holds_hidden(value: Any) -> bool:
    """A dict with a hidden value in it, at any depth (an HTTP request's headers)."""
    return isinstance(value, dict) and any(isinstance(item, Hidden) or _holds_hidden(item) for item in value.values())


def snapshot(row: Any) -> Snapshot:
    """The row's shown columns, secrets wrapped in Hidden (nothing is read
    from the database: take it before changing the row)."""
    mapper = sa_inspect(row).mapper
    shown: Snapshot = {}
    for attr in mapper.column_attrs:
        if attr.key in _NOT_SHOWN:
            continue
        column = attr.columns[0]
        value = getattr(row, attr.key)
        if isinstance(value, (dict, list)):
            value = json.loads(json.dumps(value, default=str))  # a copy later changes cannot reach
        shown[attr.key] = _masked(value, column.info.get(AUDIT))
    return shown


def _render(value: Any, *, changed: bool = False) -> Any:
    if isinstance(value, Hidden):
        return CHANGED if changed else HIDDEN
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return f"{value[:MAX_TEXT]}… ({len(value) - MAX_TEXT} more characters)"
    if _holds_hidden(value):
        return {key: _render(item) for key, item in value.items()}
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        if len(text) > MAX_JSON:
            return f"({len(text)} characters of JSON, too long to show)"
    return value


def _render_after(before: Any, after: Any) -> Any:
    """`after`, with hidden values that differ from `before` marked changed."""
    if isinstance(after, Hidden):
        return _render(after, changed=before is not None and before != after)
    if _holds_hidden(after):
        old = before if isinstance(before, dict) else {}
        return {key: _render_after(old.get(key), item) for key, item in after.items()}
    return _render(after)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def changes(before: Snapshot | None, after: Snapshot | None) -> dict[str, dict[str, Any]]:
    """{field: {"before": ..., "after": ...}} of the fields that differ; a
    created row shows its set fields (after only), a deleted one its
    fields (before only)."""
    if before is None and after is None:
        return {}
    if before is None:
        return {key: {"after": _render(value)} for key, value in after.items() if not _empty(value)}
    if after is None:
        return {key: {"before": _render(value)} for key, value in before.items() if not _empty(value)}
    return {
        key: {"before": _render(before.get(key)), "after": _render_after(before.get(key), after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
