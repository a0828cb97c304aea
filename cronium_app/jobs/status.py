"""Job statuses, and the groups of them the rest of the code asks about.

The transitions between them are guarded where the data lives: each is a
conditional UPDATE in `queue.py` (worker side) or `cancel.py` (user side)
naming the statuses it may leave, so an illegal one changes nothing."""

from __future__ import annotations

from enum import Enum


class JobStatus(str, Enum):
    pending = "pending"
    acknowledged = "acknowledged"
    running = "running"
    completed = "completed"
    failed = "failed"
    timed_out = "timed_out"
    cancelled = "cancelled"
    # A job on several servers where some succeeded and some did not.
    partial = "partial"


PENDING = JobStatus.pending.value
HELD = (JobStatus.acknowledged.value, JobStatus.running.value)
TERMINAL = (
    JobStatus.completed.value,
    JobStatus.failed.value,
    JobStatus.timed_out.value,
    JobStatus.cancelled.value,
    JobStatus.partial.value,
)
# What a worker may report when it finishes a job.
WORKER_FINAL = TERMINAL
# Counted as "failed" in stats: the job ran and did not succeed.
# Also what is retried: a partial job is not (its good servers would run twice).
FAILED_LIKE = (JobStatus.failed.value, JobStatus.timed_out.value)
# Did not fully succeed: what workflow on_failure edges follow.
UNSUCCESSFUL = (*FAILED_LIKE, JobStatus.partial.value)
