"""Column types shared by the tables."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")


def json_field(*, nullable: bool = True, default: Any = None, default_factory=None) -> Any:
    kwargs: dict[str, Any] = {"sa_column": sa.Column(JSONType, nullable=nullable)}
    if default_factory is not None:
        kwargs["default_factory"] = default_factory
    else:
        kwargs["default"] = default
    return Field(**kwargs)
