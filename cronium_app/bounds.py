"""The range of every integer a caller can send that reaches the database.

A value outside it is refused with a 422 naming the field, instead of an
OverflowError in the database driver (SQLite and psycopg take 64-bit
integers at most) or an out-of-range error from a 32-bit column on
PostgreSQL: both used to be 500s.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

# INTEGER columns (row ids, limits, counts, log sequence numbers) are 32-bit on PostgreSQL.
INT32_MAX = 2**31 - 1
# The largest integer either database driver accepts (OFFSET, BIGINT columns).
INT64_MAX = 2**63 - 1

# A row id in a request body (a step's eventId, an event's serverIds).
RowId = Annotated[int, Field(ge=1, le=INT32_MAX)]
# A count or size stored in an INTEGER column.
Int32 = Annotated[int, Field(le=INT32_MAX)]


def id_path(description: str) -> object:
    """A row id in the URL path."""
    return Path(ge=1, le=INT32_MAX, description=description)


def offset_query() -> object:
    return Query(default=0, ge=0, le=INT64_MAX, description="How many items to skip (for the next page: offset + limit)")
