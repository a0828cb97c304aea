from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from cronium_app.models.types import json_field


class ExecutionLog(SQLModel, table=True):
    __tablename__ = "execution_logs"
    __table_args__ = (sa.UniqueConstraint("job_id", "seq", name="uq_execution_logs_job_seq"),)

    id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True))
    job_id: str = Field(
        sa_column=sa.Column(sa.String(40), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False)
    )
    seq: int = Field(nullable=False)
    stream: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    line: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    timestamp: datetime = Field(nullable=False)
    log_data: dict[str, Any] | None = json_field()
