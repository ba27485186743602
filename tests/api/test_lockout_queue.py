"""Concurrent sign-ins of one user under the lockout (core/lockout.py): at most five
passwords checked at once, waiters served first come first served, and concurrent wrong
guesses stopped at five."""

from __future__ import annotations

import asyncio

import pytest

from cognate.core.lockout import EXCEEDED, THRESHOLD
from cognate.core.service import Core
from cognate.errors import NotAuthorizedException

pytestmark = pytest.mark.anyio


async def test_sixteen_right_attempts_queue_in_order(core: Core) -> None:
    in_flight, most, admitted = 0, 0, []

    async def attempt(n: int) -> None:
        nonlocal in_flight, most
        async with core.lockout.attempt("pool", "user-1") as outcome:
            admitted.append(n)
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0.01)  # the password check
            in_flight -= 1
            outcome.success = True

    tasks = []
    for n in range(16):
        tasks.append(asyncio.create_task(attempt(n)))
        await asyncio.sleep(0)  # arrivals in this order
    await asyncio.gather(*tasks)
    assert sorted(admitted) == list(range(16))
    assert most == THRESHOLD
    assert admitted == list(range(16)), admitted  # first come, first served
    assert core.lockout._waiting == {}


async def test_sixteen_concurrent_wrong_guesses_stop_at_five(core: Core) -> None:
    checked = 0

    async def guess() -> str:
        nonlocal checked
        try:
            async with core.lockout.attempt("pool", "user-2") as outcome:
                checked += 1
                await asyncio.sleep(0.01)
                outcome.success = False
            return "incorrect"
        except NotAuthorizedException as exc:
            assert str(exc) == EXCEEDED
            return "exceeded"

    results = await asyncio.gather(*(guess() for _ in range(16)))
    assert checked == THRESHOLD
    assert results.count("incorrect") == THRESHOLD
    assert results.count("exceeded") == 16 - THRESHOLD
    assert core.lockout._waiting == {}
    with pytest.raises(NotAuthorizedException, match=EXCEEDED):  # locked out now
        async with core.lockout.attempt("pool", "user-2"):
            pass


async def test_a_cancelled_waiter_leaves_the_queue(core: Core) -> None:
    release = asyncio.Event()

    async def hold() -> None:
        async with core.lockout.attempt("pool", "user-3") as outcome:
            await release.wait()
            outcome.success = True

    holders = [asyncio.create_task(hold()) for _ in range(THRESHOLD)]
    await asyncio.sleep(0.05)
    waiter = asyncio.create_task(hold())
    await asyncio.sleep(0.05)
    assert len(core.lockout._waiting[("pool", "user-3")]) == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert core.lockout._waiting == {}
    release.set()
    await asyncio.gather(*holders)
    async with core.lockout.attempt("pool", "user-3") as outcome:  # a place is free again
        outcome.success = True


async def test_waiters_learn_of_a_lockout_at_once(core: Core) -> None:
    """Five wrong guesses in flight and eleven waiting: when they fail, every waiter is refused
    promptly (a refused waiter hands its turn on), none waits out MAX_WAIT_S."""
    release = asyncio.Event()

    async def guess() -> str:
        try:
            async with core.lockout.attempt("pool", "user-4") as outcome:
                await release.wait()
                outcome.success = False
            return "incorrect"
        except NotAuthorizedException:
            return "exceeded"

    tasks = [asyncio.create_task(guess()) for _ in range(16)]
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    release.set()
    results = await asyncio.gather(*tasks)
    assert results.count("incorrect") == THRESHOLD and results.count("exceeded") == 16 - THRESHOLD
    assert loop.time() - started < 0.5  # not one poll interval per waiter
    assert core.lockout._waiting == {}
