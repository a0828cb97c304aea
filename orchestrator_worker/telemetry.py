"""The worker's own Prometheus metrics, on a small port of its own.

Off unless CRONIUM_WORKER_METRICS_PORT is set; then served on
CRONIUM_WORKER_METRICS_HOST (127.0.0.1 by default: a scraper on another
host needs the address set on purpose, and the port firewalled to it).
The page has no secrets and no ids of jobs, events or users: a worker's
slots, the jobs it ran by status, the log lines it sent and how long its
containers took to start.

One registry per process (a worker process runs one worker); the metrics
are module objects so that the executors and the log sink count without
being handed anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

logger = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()

# A cold container (create + start) takes about 0.3-1 s here; a warm one is
# handed its job in a few milliseconds.
CONTAINER_START = Histogram(
    "cronium_container_start_seconds",
    "From asking the Docker Engine for the job's container to the script starting in it",
    ["warm"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
JOBS = Counter(
    "cronium_worker_jobs", "Jobs this worker ran to their end, by the status it reported", ["status"], registry=REGISTRY
)
LOG_LINES_SENT = Counter(
    "cronium_worker_log_lines_sent", "Log lines this worker delivered to the app", registry=REGISTRY
)
SLOTS_USED = Gauge("cronium_worker_slots_used", "Jobs this worker holds now", registry=REGISTRY)
SLOTS_AVAILABLE = Gauge(
    "cronium_worker_slots_available", "Jobs this worker could take on now (its concurrency less what it holds)",
    registry=REGISTRY,
)


def track_slots(concurrency: int, used: Callable[[], int]) -> None:
    """The slot gauges read the worker's own count at each scrape."""
    SLOTS_USED.set_function(lambda: used())
    SLOTS_AVAILABLE.set_function(lambda: max(concurrency - used(), 0))


def observe_container_start(metrics: dict) -> None:
    """A container job's outcome metrics carry `create_ms` and `start_ms`."""
    if "start_ms" not in metrics:
        return
    seconds = (metrics.get("create_ms", 0) + metrics["start_ms"]) / 1000
    CONTAINER_START.labels(warm="true" if metrics.get("warm") else "false").observe(seconds)


def serve(host: str, port: int) -> None:
    """Serve /metrics (any path answers) in a daemon thread."""
    start_http_server(port, addr=host, registry=REGISTRY)
    logger.info("metrics on http://%s:%d/metrics", host, port)
