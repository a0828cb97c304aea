"""Warm single-use containers: created and started ahead of the jobs, with
the full hardening of a job's container, one pool per resource profile
(image, CPUs, memory, processes, network).

A job whose profile has a ready container takes it (`take`); the container
runs that one job and is then removed like any job container; the pool
refills in the background. No container ever goes back into the pool.

- Only profiles seen recently are kept warm: the default profile from the
  start, others once a job asked for them, until none has for
  CRONIUM_POOL_KEY_IDLE seconds.
- At most CRONIUM_POOL_SIZE ready or starting containers per profile, and
  CRONIUM_POOL_MAX_TOTAL in all.
- A container older than CRONIUM_POOL_TTL is removed and replaced, so a
  pool never hands out one created long ago (an image rebuilt since, a
  firewall change).
- A profile whose containers cannot be made (an image without /bin/sh, an
  image that is gone) is left cold for a while after each failure.

The pool knows nothing of Docker: the runner gives it `create` and
`discard`. It owns every container it created until the runner says it is
gone (`forget`), so that the reaper leaves them alone (`owns`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Containers made at once while refilling: Docker's start-up work competes
# with the jobs for the CPU, and a burst of jobs runs cold anyway.
FILL_PARALLEL = 2
# After a profile's container could not be made, wait this long (doubling
# up to the maximum) before trying that profile again.
FAILURE_BACKOFF_S = 5.0
FAILURE_BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class PoolKey:
    """A resource profile: containers of one key are interchangeable."""

    image: str
    nano_cpus: int
    memory_mb: int
    pids: int
    network: str  # "none", or the egress network's name


@dataclass
class WarmContainer:
    id: str
    token: str  # names its host directory and its pool label
    key: PoolKey
    job_dir: Path  # mounted at /run/cronium: the start pipe, then the script and the runtime socket
    stream: Any  # the output stream, attached before the start
    born: float = field(default_factory=time.monotonic)


class WarmPool:
    def __init__(
        self,
        *,
        size: int,
        total: int,
        ttl_s: float,
        key_idle_s: float,
        create: Callable[[PoolKey, str], Awaitable[WarmContainer]],
        discard: Callable[[WarmContainer], Awaitable[None]],
    ):
        self.size = size
        self.total = total
        self.ttl_s = ttl_s
        self.key_idle_s = key_idle_s
        self._create = create
        self._discard = discard
        self._ready: dict[PoolKey, deque[WarmContainer]] = {}
        self._filling: dict[PoolKey, int] = {}
        self._wanted: dict[PoolKey, float] = {}  # key -> when a job last asked for it
        self._kept: set[PoolKey] = set()  # wanted whatever the idle time (the default profile)
        self._backoff: dict[PoolKey, tuple[float, float]] = {}  # key -> (delay, not before)
        self._owned: set[str] = set()
        self._wake = asyncio.Event()
        self._closing = False
        self._tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None
        # Figures for the logs and the bench.
        self.made = 0
        self.taken = 0
        self.missed = 0

    # -- the runner's side ------------------------------------------------------

    def start(self, *keep: PoolKey) -> None:
        """Start refilling; `keep` are warm from now on, used or not."""
        for key in keep:
            self._kept.add(key)
            self._wanted[key] = time.monotonic()
        self._loop_task = asyncio.create_task(self._refill_forever(), name="warm-pool")

    def take(self, key: PoolKey) -> WarmContainer | None:
        """A ready container of this profile, or None (the job runs cold).
        Either way the profile counts as seen and the pool refills it."""
        self._wanted[key] = time.monotonic()
        ready = self._ready.get(key)
        container = None
        while ready and container is None:
            candidate = ready.popleft()
            if self._expired(candidate):
                self._spawn(self._discard_one(candidate))
            else:
                container = candidate
        if container is None:
            self.missed += 1
        else:
            self.taken += 1
        self._wake.set()
        return container

    def owns(self, token: str) -> bool:
        """A container this pool made and that has not been removed yet
        (ready, starting, or running a job)."""
        return token in self._owned

    def forget(self, token: str) -> None:
        """The runner removed this container."""
        self._owned.discard(token)

    def counts(self) -> dict[str, int]:
        return {
            "ready": sum(len(q) for q in self._ready.values()),
            "filling": sum(self._filling.values()),
            "made": self.made,
            "taken": self.taken,
            "missed": self.missed,
        }

    async def aclose(self) -> None:
        """Stop refilling and remove every container not running a job."""
        self._closing = True
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        idle = [container for queue in self._ready.values() for container in queue]
        self._ready.clear()
        await asyncio.gather(*(self._discard_one(container) for container in idle), return_exceptions=True)

    # -- refilling --------------------------------------------------------------

    async def _refill_forever(self) -> None:
        while not self._closing:
            self._drop_stale()
            self._fill()
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._next_check_s())
            except asyncio.TimeoutError:
                pass

    def _next_check_s(self) -> float:
        return max(0.5, min(self.ttl_s / 4, 30.0))

    def _held(self) -> int:
        return sum(len(q) for q in self._ready.values()) + sum(self._filling.values())

    def _fill(self) -> None:
        now = time.monotonic()
        in_flight = sum(self._filling.values())
        # The most recently wanted profiles first.
        for key in sorted(self._wanted, key=self._wanted.__getitem__, reverse=True):
            if self._backoff.get(key, (0.0, 0.0))[1] > now:
                continue
            while (
                in_flight < FILL_PARALLEL
                and self._held() < self.total
                and len(self._ready.get(key, ())) + self._filling.get(key, 0) < self.size
            ):
                self._filling[key] = self._filling.get(key, 0) + 1
                in_flight += 1
                self._spawn(self._make_one(key))

    async def _make_one(self, key: PoolKey) -> None:
        token = secrets.token_hex(6)
        self._owned.add(token)
        try:
            container = await self._create(key, token)
        except Exception as exc:
            self._owned.discard(token)
            delay = min(self._backoff.get(key, (FAILURE_BACKOFF_S / 2, 0.0))[0] * 2, FAILURE_BACKOFF_MAX_S)
            self._backoff[key] = (delay, time.monotonic() + delay)
            logger.warning("could not make a warm container for %s: %s; that profile runs cold for %.0f s", key, exc, delay)
            return
        finally:
            self._filling[key] -= 1
            self._wake.set()
        self._backoff.pop(key, None)
        self.made += 1
        if self._closing or key not in self._wanted:
            await self._discard_one(container)
        else:
            self._ready.setdefault(key, deque()).append(container)

    def _drop_stale(self) -> None:
        """Forget profiles nobody asked for lately, and containers past their TTL."""
        now = time.monotonic()
        for key, seen in list(self._wanted.items()):
            if key not in self._kept and now - seen > self.key_idle_s:
                del self._wanted[key]
        for key, queue in list(self._ready.items()):
            keep = deque(c for c in queue if key in self._wanted and not self._expired(c))
            for container in queue:
                if container not in keep:
                    self._spawn(self._discard_one(container))
            self._ready[key] = keep

    def _expired(self, container: WarmContainer) -> bool:
        return time.monotonic() - container.born > self.ttl_s

    async def _discard_one(self, container: WarmContainer) -> None:
        try:
            await self._discard(container)
        except Exception as exc:  # the reaper finds it later
            logger.warning("could not remove warm container %s: %s", container.id[:12], exc)
        finally:
            self._owned.discard(container.token)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
