"""Text with a NUL (0x00) character never reaches the database.

PostgreSQL cannot store a NUL in a text column or a JSONB document (psycopg
raises before the query is sent); SQLite can. So that both databases behave
alike, and so that no input anywhere (a query parameter, a path id, a body
field, a UI form) can turn into a 500, the rule sits at the one place all of
them pass: what a caller sends is refused with a 422 (`refuse_nul`, called
for every statement's parameters and every JSON document), and what a worker
reports about a run, a fact that must not be lost, has its NULs replaced
(`replace_nul`)."""

from __future__ import annotations

from typing import Any

from cronium_app.errors import Invalid

NUL = "\x00"
REPLACEMENT = "\ufffd"
MESSAGE = "text must not contain NUL (0x00) characters"


def has_nul(value: Any) -> bool:
    """Whether a string, or any key or string inside a JSON-like value, holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(item) for item in value)
    return False


def refuse_nul(value: Any) -> None:
    if has_nul(value):
        raise Invalid(MESSAGE)


def replace_nul(value: Any) -> Any:
    """The same JSON-like value with every NUL replaced by U+FFFD."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {replace_nul(key): replace_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_nul(item) for item in value]
    return value
