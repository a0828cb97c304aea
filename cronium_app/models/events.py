from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from cronium_app.models.schedule import ScheduleColumns, schedule_indexes
from cronium_app.models.types import HEADERS_HIDDEN, KEYS_ONLY, SECRET, json_field
from cronium_app.models.workspaces import workspace_column
from cronium_app.timeutil import utcnow


class EventType(str, Enum):
    bash = "bash"
    python = "python"
    node = "node"
    http = "http"
    tool = "tool"


class EventStatus(str, Enum):
    draft = "draft"
    active = "active"
    paused = "paused"
    archived = "archived"


class Network(str, Enum):
    none = "none"
    egress = "egress"


class Event(ScheduleColumns, table=True):
    __tablename__ = "events"
    __table_args__ = (
        sa.Index("idx_events_user_id", "user_id"),
        sa.Index("idx_events_workspace", "workspace_id"),
        *schedule_indexes("events"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Who created it ("created by"): the per-user quotas count by it.
    user_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    )
    workspace_id: int = workspace_column()
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    type: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    script: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    # {method, url, headers, body} for HTTP events.
    http_request: dict[str, Any] | None = json_field(info=HEADERS_HIDDEN)
    # {toolId, action, fields, variables} for tool events (cronium_app/tools).
    tool_action: dict[str, Any] | None = json_field()
    status: str = Field(default=EventStatus.active.value, sa_column=sa.Column(sa.String(16), nullable=False))
    # What created it: "mcp" (the MCP server's tools); None: the API, the UI, as code.
    source: str | None = Field(default=None, sa_column=sa.Column(sa.String(16), nullable=True))
    timeout_seconds: int = Field(nullable=False)
    retries: int = Field(default=0, nullable=False)
    cpus: float = Field(nullable=False)
    memory_mb: int = Field(nullable=False)
    pids_limit: int = Field(nullable=False)
    network: str = Field(default=Network.none.value, sa_column=sa.Column(sa.String(16), nullable=False))
    env_vars: dict[str, str] = json_field(nullable=False, default_factory=dict, info=KEYS_ONLY)
    # Secret environment variables: their values sealed together
    # (cronium_app.sealing, SECRET_ENV), their names in the clear.
    secret_env: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True, info=SECRET))
    secret_env_names: list[str] = json_field(nullable=False, default_factory=list, server_default="[]")
    image: str | None = Field(default=None, sa_column=sa.Column(sa.String(255), nullable=True))
    tags: list[str] = json_field(nullable=False, default_factory=list)
    # Where it runs: no servers (the default) means the local container
    # runtime; otherwise every server listed by id, plus every server of the
    # owner carrying one of `server_tags`, resolved when a worker claims the job.
    server_ids: list[int] = json_field(nullable=False, default_factory=list, server_default="[]")
    server_tags: list[str] = json_field(nullable=False, default_factory=list, server_default="[]")
    # Jobs of this event running at once (0: no limit); a job over it waits
    # in the queue (jobs.queue.claim skips it until a slot frees).
    max_concurrent: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    # Claims take higher priorities first (FIFO within one); an execute call may set its own.
    priority: int = Field(default=0, sa_column=sa.Column(sa.Integer, nullable=False, server_default="0"))
    # History kept (jobs/retention.py): NULL takes the instance default.
    retention_days: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    retention_runs: int | None = Field(default=None, sa_column=sa.Column(sa.Integer, nullable=True))
    # On servers: run the script in a container on the server's own Docker.
    remote_docker: bool = Field(default=False, sa_column=sa.Column(sa.Boolean, nullable=False, server_default=sa.false()))
    created_at: datetime = Field(default_factory=utcnow, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, nullable=False)
