"""Pagination values and helpers shared by list queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None
    limit: int
    offset: int | None = None
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"items": self.items, "limit": self.limit}
        if self.total is not None:
            body["total"] = self.total
        if self.offset is not None:
            body["offset"] = self.offset
        body["nextCursor"] = self.next_cursor
        return body


def escape_like(text: str) -> str:
    """Make user text literal inside a LIKE pattern (escape char: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
