"""The CPU, memory and process limits a job's container gets: the job
spec's, kept within this worker's bounds.

The app checks what a user asks for when an event is saved, but the spec
the worker is handed is data from the app's database (a row written by
hand or by an older release, a maximum lowered since), and Docker reads
some values as no limit at all: NanoCpus 0 (which `cpus: 1e-10` becomes),
a memory limit of 0, a pids limit of 0 or -1. So every value is clamped
here, for local and remote containers alike, and each change is said in
the job's log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Docker's smallest CPU share that still limits; the app's lower bounds too.
MIN_CPUS = 0.01
MIN_MEMORY_MB = 16
MIN_PIDS = 8
# For a spec that names no value.
DEFAULT_CPUS = 1.0
DEFAULT_MEMORY_MB = 256
DEFAULT_PIDS = 128


class Maxima(Protocol):
    """The worker settings that bound a job (WorkerSettings has them)."""

    job_max_cpus: float
    job_max_memory_mb: int
    job_max_pids: int


@dataclass(frozen=True)
class JobLimits:
    cpus: float
    memory_mb: int
    pids: int
    # One sentence per value that had to be changed, for the job's log.
    adjustments: tuple[str, ...] = ()

    @property
    def nano_cpus(self) -> int:
        return round(self.cpus * 1e9)


def job_limits(resources: Mapping[str, Any] | None, maxima: Maxima) -> JobLimits:
    """The limits for a spec's `resources` ({cpus, memoryMb, pids})."""
    resources = resources or {}
    notes: list[str] = []
    cpus = _bounded("cpus", resources.get("cpus"), DEFAULT_CPUS, MIN_CPUS, maxima.job_max_cpus, notes)
    memory = _bounded("memoryMb", resources.get("memoryMb"), DEFAULT_MEMORY_MB, MIN_MEMORY_MB, maxima.job_max_memory_mb, notes)
    pids = _bounded("pids", resources.get("pids"), DEFAULT_PIDS, MIN_PIDS, maxima.job_max_pids, notes)
    return JobLimits(cpus, int(memory), int(pids), tuple(notes))


def _bounded(name: str, value: Any, default: float, low: float, high: float, notes: list[str]) -> float:
    """`value` within [low, high]; the default (also within) when there is none."""
    if value is None:
        return min(max(default, low), high)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if math.isnan(number) or isinstance(value, bool):
        fallback = min(max(default, low), high)
        notes.append(f"the job's {name} {value!r} is not a number; it gets {fallback:g}")
        return fallback
    bounded = min(max(number, low), high)
    if bounded != number:
        notes.append(f"the job asks for {name} {value!r}; this worker allows {low:g} to {high:g}, so it gets {bounded:g}")
    return bounded
