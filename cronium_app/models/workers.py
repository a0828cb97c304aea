from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class WorkerPresence(SQLModel, table=True):
    """A worker as it last told us: its job slots, and when (from its claims
    and heartbeats, to any app replica). Only metrics read it."""

    __tablename__ = "worker_presence"
    __table_args__ = (sa.Index("idx_worker_presence_seen", "last_seen_at"),)

    worker_id: str = Field(sa_column=sa.Column(sa.String(128), primary_key=True))
    slots_total: int = Field(nullable=False)
    slots_used: int = Field(nullable=False)
    last_seen_at: datetime = Field(nullable=False)


class JobTally(SQLModel, table=True):
    """How many jobs ever ended with each status, by type: kept by triggers
    on jobs (migration 0009), never by the code, never decreased (deleting
    old jobs leaves it alone). On PostgreSQL a (status, type) is spread
    over a few shards; readers sum them."""

    __tablename__ = "job_tallies"

    status: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    type: str = Field(sa_column=sa.Column(sa.String(16), primary_key=True))
    shard: int = Field(sa_column=sa.Column(sa.Integer, primary_key=True))
    count: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
