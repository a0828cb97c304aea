"""A page's poll loop runs once per load, however often a client sends the
background event that starts it."""

from __future__ import annotations

import asyncio

from cronium_app.state.polling import sole_loop


class FakeState:
    """What sole_loop touches: the load generation, the running loop, and
    `async with state` (Reflex's lock around a background event's writes)."""

    def __init__(self, watch: int):
        self._watch = watch
        self._looping = 0

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False


async def _loops_that_ran(state: FakeState, generations: list[int]) -> int:
    ran = 0

    async def loop(generation: int) -> None:
        nonlocal ran
        async with sole_loop(state, generation) as mine:
            if mine:
                ran += 1
                await asyncio.sleep(0.05)

    await asyncio.gather(*(loop(generation) for generation in generations))
    return ran


def test_the_same_loop_sent_a_hundred_times_runs_once():
    assert asyncio.run(_loops_that_ran(FakeState(watch=3), [3] * 100)) == 1


def test_a_loop_of_another_generation_never_runs():
    assert asyncio.run(_loops_that_ran(FakeState(watch=3), [1, 2, 4, 999])) == 0


def test_a_loop_may_start_again_once_the_last_one_ended():
    state = FakeState(watch=1)
    assert asyncio.run(_loops_that_ran(state, [1])) == 1
    assert state._looping == 0
    assert asyncio.run(_loops_that_ran(state, [1])) == 1
