"""The warm pool's bookkeeping against fake containers, and the launch
text a warm container's shell reads."""

from __future__ import annotations

import asyncio
import shlex
import time
from pathlib import Path

import pytest

from orchestrator_worker.executors import launcher
from orchestrator_worker.executors.warm_pool import PoolKey, WarmContainer, WarmPool

DEFAULT = PoolKey("cronium-runtime:latest", 1_000_000_000, 256, 128, "none")
OTHER = PoolKey("cronium-runtime:latest", 500_000_000, 512, 128, "none")


class FakeEngine:
    def __init__(self, *, fail: set[PoolKey] | None = None):
        self.fail = fail or set()
        self.made: list[WarmContainer] = []
        self.discarded: list[str] = []
        self.attempts: dict[PoolKey, int] = {}

    async def create(self, key: PoolKey, token: str) -> WarmContainer:
        self.attempts[key] = self.attempts.get(key, 0) + 1
        await asyncio.sleep(0)
        if key in self.fail:
            raise RuntimeError("no such image")
        container = WarmContainer(f"id-{token}", token, key, Path("/nowhere"), stream=None)
        self.made.append(container)
        return container

    async def discard(self, container: WarmContainer) -> None:
        self.discarded.append(container.id)


def pool_with(engine: FakeEngine, **overrides) -> WarmPool:
    settings = {"size": 2, "total": 3, "ttl_s": 300.0, "key_idle_s": 600.0, **overrides}
    return WarmPool(create=engine.create, discard=engine.discard, **settings)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def filled(engine: FakeEngine, **overrides) -> WarmPool:
    """A started pool that keeps DEFAULT warm, once it has filled."""
    pool = pool_with(engine, **overrides)
    pool.start(DEFAULT)
    await settle()
    return pool


def test_the_kept_profile_is_filled_up_to_its_size():
    async def scenario():
        engine = FakeEngine()
        pool = await filled(engine)
        counts = pool.counts()
        await pool.aclose()
        return counts

    assert asyncio.run(scenario())["ready"] == 2


def test_a_taken_container_is_never_handed_out_again_and_is_replaced():
    async def scenario():
        engine = FakeEngine()
        pool = await filled(engine)
        taken = [pool.take(DEFAULT) for _ in range(2)]
        await settle()
        again = [pool.take(DEFAULT) for _ in range(2)]
        await pool.aclose()
        return taken, again

    taken, again = asyncio.run(scenario())
    ids = [c.id for c in taken + again]
    assert None not in taken + again and len(set(ids)) == 4


def test_an_empty_pool_says_so_and_a_new_profile_gets_filled_within_the_total():
    async def scenario():
        engine = FakeEngine()
        pool = await filled(engine)
        missed = pool.take(OTHER)
        await settle()
        ready = {key: len(queue) for key, queue in pool._ready.items()}
        await pool.aclose()
        return missed, ready

    missed, ready = asyncio.run(scenario())
    assert missed is None
    assert sum(ready.values()) == 3 and ready.get(OTHER, 0) >= 1


def test_a_container_past_its_ttl_is_discarded_not_handed_out():
    async def scenario():
        engine = FakeEngine()
        pool = await filled(engine, ttl_s=60.0)
        for container in pool._ready[DEFAULT]:
            container.born = time.monotonic() - 61
        stale_ids = {c.id for c in pool._ready[DEFAULT]}
        fresh = pool.take(DEFAULT)
        await settle()
        await pool.aclose()
        return stale_ids, fresh, engine.discarded

    stale_ids, fresh, discarded = asyncio.run(scenario())
    assert fresh is None or fresh.id not in stale_ids
    assert stale_ids <= set(discarded)


def test_a_profile_that_cannot_be_made_backs_off_and_owns_nothing():
    async def scenario():
        engine = FakeEngine(fail={OTHER})
        pool = pool_with(engine)
        pool.start(DEFAULT)
        pool.take(OTHER)
        await settle()
        tried = engine.attempts[OTHER]
        pool.take(OTHER)  # within the backoff: not tried again
        await settle()
        owned = set(pool._owned)
        await pool.aclose()
        return tried, engine.attempts[OTHER], owned, {c.token for c in engine.made}

    tried, tried_after, owned, made = asyncio.run(scenario())
    assert tried == tried_after >= 1
    assert owned == made


def test_closing_discards_every_ready_container_and_owns_none():
    async def scenario():
        engine = FakeEngine()
        pool = await filled(engine)
        ready = {c.id for c in pool._ready[DEFAULT]}
        await pool.aclose()
        return ready, set(engine.discarded), pool._owned

    ready, discarded, owned = asyncio.run(scenario())
    assert ready and ready <= discarded and owned == set()


# -- the launch text ----------------------------------------------------------------


@pytest.mark.parametrize("value", ["plain", "it's", "$HOME `id` $(id)", "two\nlines", "", "ünïcode ✓", "a'b\"c\\d"])
def test_a_value_is_quoted_so_the_shell_reads_it_back_unchanged(value):
    text = launcher.launch_text(["bash", "/run/cronium/script.sh"], {"VALUE": value}).decode()
    export, exec_line = text.rstrip("\n").rsplit("\n", 1)
    assert shlex.split(export) == ["export", f"VALUE={value}"]
    assert exec_line == "exec bash /run/cronium/script.sh"


@pytest.mark.parametrize(
    "env, ok",
    [({"GOOD_NAME1": "x"}, True), ({"1BAD": "x"}, False), ({"BAD-NAME": "x"}, False), ({"A": "nul\x00"}, False),
     ({"A": "\ud800"}, False), ({}, True)],
)
def test_only_an_environment_the_shell_can_export_exactly_is_launched_warm(env, ok):
    assert launcher.can_launch(env) is ok
