"""A container's peak memory and CPU time, read from its cgroup on the host.

The engine's stats API costs a round trip per container and reports nothing
once the container has exited, so we sample the cgroup files (cheap reads)
while the job runs and keep the last values. cgroup v1 (cgroupfs driver)
and v2 layouts are both tried; where neither exists, no metrics are given.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

CGROUP = Path("/sys/fs/cgroup")
SAMPLE_INTERVAL_S = 0.25


def _candidates(container_id: str) -> dict[str, list[Path]]:
    return {
        "memory_peak": [
            CGROUP / "memory/docker" / container_id / "memory.max_usage_in_bytes",
            CGROUP / "docker" / container_id / "memory.peak",
            CGROUP / f"system.slice/docker-{container_id}.scope/memory.peak",
        ],
        "cpu_ns": [CGROUP / "cpuacct/docker" / container_id / "cpuacct.usage"],
        "cpu_stat": [
            CGROUP / "docker" / container_id / "cpu.stat",
            CGROUP / f"system.slice/docker-{container_id}.scope/cpu.stat",
        ],
    }


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _read_usage_usec(path: Path) -> int | None:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def sample(container_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    paths = _candidates(container_id)
    for path in paths["memory_peak"]:
        if (value := _read_int(path)) is not None:
            found["peak_memory_bytes"] = value
            break
    for path in paths["cpu_ns"]:
        if (value := _read_int(path)) is not None:
            found["cpu_time_ms"] = round(value / 1e6, 1)
            break
    else:
        for path in paths["cpu_stat"]:
            if (value := _read_usage_usec(path)) is not None:
                found["cpu_time_ms"] = round(value / 1e3, 1)
                break
    return found


class MetricsSampler:
    """Samples until stopped; `values` holds the last (largest) readings."""

    def __init__(self, container_id: str):
        self.container_id = container_id
        self.values: dict[str, Any] = {}
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"metrics-{self.container_id[:12]}")

    async def _run(self) -> None:
        while True:
            self._take()
            await asyncio.sleep(SAMPLE_INTERVAL_S)

    def _take(self) -> None:
        for key, value in sample(self.container_id).items():
            if value >= self.values.get(key, 0):
                self.values[key] = value

    async def stop(self) -> dict[str, Any]:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._take()  # one last look, in case the cgroup is still there
        return dict(self.values)
