"""The Workers page's rows, built from the worker registry's views
(cronium_app/jobs/workers.py)."""

from __future__ import annotations

from typing import Any, TypedDict

from cronium_app.display.formatting import fmt_datetime

NONE = "—"


class WorkerRow(TypedDict):
    id: str
    status: str
    host: str
    engine: str
    jobs: str
    pool: str
    last_seen: str
    last_seen_full: str


def ago(seconds: int) -> str:
    """How long ago, in the largest whole unit (s, min, h, d)."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago" if seconds >= 2 else "just now"


def engine_label(view: dict[str, Any]) -> str:
    """The Docker Engine: its version, and the machine it runs on when the
    worker named one."""
    version, host = view.get("engineVersion"), view.get("engineHost")
    if not version:
        return NONE
    return f"Docker {version} on {host}" if host else f"Docker {version}"


def jobs_label(view: dict[str, Any]) -> str:
    running, concurrency = view["runningJobs"], view.get("concurrency")
    return f"{running} of {concurrency}" if concurrency is not None else str(running)


def pool_label(pool: dict[str, Any] | None) -> str:
    """The worker's own words for its container pool: `name value` pairs."""
    if not pool:
        return NONE
    return " · ".join(f"{name} {value}" for name, value in pool.items())


def worker_row(view: dict[str, Any], tz: str) -> WorkerRow:
    return {
        "id": view["id"],
        "status": view["status"],
        "host": view.get("host") or NONE,
        "engine": engine_label(view),
        "jobs": jobs_label(view),
        "pool": pool_label(view.get("pool")),
        "last_seen": ago(view["secondsSinceHeartbeat"]),
        "last_seen_full": fmt_datetime(view["lastHeartbeatAt"], tz),
    }
