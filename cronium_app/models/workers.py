from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import json_field
from cronium_app.timeutil import utcnow


class Worker(SQLModel, table=True):
    """A worker the app has heard from: what its last heartbeat said about
    it (jobs/workers.py). Workers of earlier releases say nothing but that
    they are alive, so every detail may be missing."""

    __tablename__ = "workers"
    __table_args__ = (
        # Forgetting workers gone for long (the sweeper).
        sa.Index("idx_workers_last_seen", "last_seen_at"),
    )

    id: str = Field(sa_column=sa.Column(sa.String(128), primary_key=True))
    host: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    engine_version: str | None = Field(default=None, sa_column=sa.Column(sa.String(64), nullable=True))
    engine_host: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    concurrency: int | None = None
    # running | draining | stopped, as the worker said; None: it did not say.
    state: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    # Its warm container pool, as the worker reports it (a few named values).
    pool: dict[str, Any] | None = json_field()
    # Its job slots, from the X-Worker-Slots header of its claims and
    # heartbeats (written at most every few seconds: jobs/workers.py).
    slots_used: int | None = None
    slots_total: int | None = None
    first_seen_at: datetime = Field(default_factory=utcnow, nullable=False)
    last_seen_at: datetime = Field(default_factory=utcnow, nullable=False)

class JobTally(SQLModel, table=True):
    """How many jobs ever ended with each status, by type: kept by triggers
    on jobs (migration 0013), never by the code, never decreased (deleting
    old jobs leaves it alone). On PostgreSQL a (status, type) is spread
    over a few shards; readers sum them."""

    __tablename__ = "job_tallies"

    status: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    type: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    shard: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    count: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
