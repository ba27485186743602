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
    """Five attempts in flight; eleven more arrive one after another and wait (several poll
    intervals): they are admitted about in the order they arrived, never more than five
    at once, all served."""
    in_flight, most, admitted = 0, 0, []
    release = asyncio.Event()

    async def attempt(n: int) -> None:
        nonlocal in_flight, most
        async with core.lockout.attempt("pool", "user-1") as outcome:
            admitted.append(n)
            in_flight += 1
            most = max(most, in_flight)
            if n < THRESHOLD:
                await release.wait()  # the first five hold their places
            await asyncio.sleep(0.01)  # the password check
            in_flight -= 1
            outcome.success = True

    tasks = [asyncio.create_task(attempt(n)) for n in range(THRESHOLD)]
    while len(admitted) < THRESHOLD:  # noqa: ASYNC110 (the lockout has no event to wait for here)
        await asyncio.sleep(0.01)
    for n in range(THRESHOLD, 16):
        tasks.append(asyncio.create_task(attempt(n)))
        while len(core.lockout._waiting.get(("pool", "user-1"), ())) < n - THRESHOLD + 1:  # noqa: ASYNC110
            await asyncio.sleep(0.005)  # this one is queued before the next arrives
    await asyncio.sleep(0.2)  # several poll intervals: the waiters must not overtake each other
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(admitted) == list(range(16))
    assert most == THRESHOLD
    # first come, first served within a wave of freed places: nobody is passed over by more
    # than the places freed at once (the store decides which of the woken gets which)
    assert all(abs(admitted.index(n) - n) <= THRESHOLD for n in range(16)), admitted
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
