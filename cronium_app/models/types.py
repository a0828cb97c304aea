"""Column types shared by the tables."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from cronium_app.nul_text import refuse_nul


class JSONDocument(TypeDecorator):
    """A JSON value: JSONB on PostgreSQL, JSON text on SQLite.

    SQLite's own JSON column type has NUMERIC affinity, which turns a stored
    document such as `18446744073709551617` into a lossy REAL; a TEXT column
    keeps every document exactly as written. This type is referenced by the
    migrations: keep its name and behaviour stable.
    """

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: Any, dialect) -> Any:
        # JSONB refuses a NUL inside a document's strings (see nul_text).
        refuse_nul(value)
        if value is None or dialect.name == "postgresql":
            return value
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def process_result_value(self, value: Any, dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return json.loads(value)


# What the audit log (cronium_app/audit) may show of a column, in its
# `info`: a SECRET column's value never (only that it was set or changed);
# of a KEYS_ONLY column (a JSON object) its keys, never their values; of a
# HEADERS_HIDDEN column (an HTTP request: {method, url, headers, body})
# everything but its headers' values (they carry Authorization and API keys).
AUDIT = "audit"
SECRET = {AUDIT: "secret"}
KEYS_ONLY = {AUDIT: "keys"}
HEADERS_HIDDEN = {AUDIT: "headers"}


def json_field(*, nullable: bool = True, default: Any = None, default_factory=None, server_default: str | None = None,
               info: dict[str, str] | None = None) -> Any:
    """A JSON column. `server_default` only states what a migration gave the
    column for the rows it already held; new rows get `default(_factory)`.
    `info`: what the audit log may show of it (SECRET, KEYS_ONLY, HEADERS_HIDDEN)."""
    column = sa.Column(JSONDocument(), nullable=nullable, server_default=server_default, info=dict(info or {}))
    kwargs: dict[str, Any] = {"sa_column": column}
    if default_factory is not None:
        kwargs["default_factory"] = default_factory
    else:
        kwargs["default"] = default
    return Field(**kwargs)
