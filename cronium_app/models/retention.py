from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class RetentionPass(SQLModel, table=True):
    """What one pass of the history cleaner did (jobs/retention.py); the
    Settings page shows the latest ones."""

    __tablename__ = "retention_passes"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(nullable=False)
    finished_at: datetime = Field(nullable=False)
    jobs_deleted: int = Field(default=0, nullable=False)
    runs_deleted: int = Field(default=0, nullable=False)
    lines_deleted: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
