"""Warm worker processes for ``python:`` handlers (worker.py is what runs in them).

Each worker serves one invocation at a time over its stdin/stdout pipes. Idle workers
wait in a queue; when all are busy a new one is started, up to ``max_workers``. A
worker that overruns its time is killed (SIGKILL: a handler cannot ignore it) and a
fresh one takes its place, so a timeout really stops the handler; a worker that dies
(``os._exit``, a segfault, the OOM killer) is replaced the same way, and the server
carries on. AWS Lambda developer guide, "Lambda execution environment lifecycle"
(init once, then invocations; a timeout resets the environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from typing import Any

import orjson

from cognate.lambdas.worker import HEADER

log = logging.getLogger("cognate.lambdas")

STARTUP_TIMEOUT_S = 30.0
# The worker starts with the server's sys.path, then runs worker.main.
BOOT = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from cognate.lambdas.worker import main; sys.exit(main(sys.argv[2:]))"
)
MAX_MESSAGE = 6 * 1024 * 1024  # Lambda's synchronous payload limit


class WorkerTimeout(Exception):
    """The handler ran past its time; its worker was killed."""


class WorkerDied(Exception):
    """The worker process ended during an invocation (its exit status in the message)."""


def exit_reason(returncode: int | None) -> str:
    """Lambda's wording: ``exit status 1`` or ``signal: killed``."""
    if returncode is None:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name.removeprefix("SIG").lower()
        except ValueError:
            name = str(-returncode)
        return f"Runtime exited with error: signal: {'killed' if name == 'kill' else name}"
    return f"Runtime exited with error: exit status {returncode}"


class Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        self.stdin = proc.stdin
        self.stdout = proc.stdout

    @classmethod
    async def start(cls, handlers: list[str]) -> Worker:
        # The server's own import path (PYTHONPATH, the working directory, site-packages).
        path = json.dumps([p or os.getcwd() for p in sys.path])
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-u",
            "-c",
            BOOT,
            path,
            *handlers,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=MAX_MESSAGE + HEADER.size,
        )
        worker = cls(proc)
        try:
            await asyncio.wait_for(worker.receive(), STARTUP_TIMEOUT_S)  # {"ready": true}
        except BaseException:
            worker.kill()
            raise
        return worker

    async def receive(self) -> dict[str, Any]:
        try:
            header = await self.stdout.readexactly(HEADER.size)
            (size,) = HEADER.unpack(header)
            body = await self.stdout.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.wait_exit()
            raise WorkerDied(exit_reason(self.proc.returncode)) from None
        doc: dict[str, Any] = orjson.loads(body)
        return doc

    async def call(self, request: bytes, timeout_s: float) -> dict[str, Any]:
        try:
            self.stdin.write(HEADER.pack(len(request)) + request)
            await self.stdin.drain()
        except (ConnectionError, BrokenPipeError):
            await self.wait_exit()
            raise WorkerDied(exit_reason(self.proc.returncode)) from None
        try:
            async with asyncio.timeout(timeout_s):  # cheaper than wait_for: no extra task
                return await self.receive()
        except TimeoutError:
            self.kill()
            raise WorkerTimeout from None

    async def wait_exit(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 5.0)
        if self.stdin.can_write_eof():
            self.stdin.close()

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()


class WorkerPool:
    """Warm workers for a set of handlers; ``invoke`` borrows one for one call."""

    def __init__(self, handlers: list[str], *, warm: int = 1, max_workers: int = 8) -> None:
        self.handlers = sorted(set(handlers))
        self.warm = warm
        self.max_workers = max_workers
        self._idle: asyncio.Queue[Worker] = asyncio.Queue()
        self._count = 0
        self._closed = False
        self._starting: set[asyncio.Task[None]] = set()
        self._all: set[Worker] = set()

    async def start(self) -> None:
        """Start the warm workers (the runtime's init phase happens now, not on first use)."""
        await asyncio.gather(*(self._add() for _ in range(self.warm - self._count)))

    async def _spawn(self) -> Worker:
        self._count += 1
        try:
            worker = await Worker.start(self.handlers)
        except BaseException:
            self._count -= 1
            raise
        self._all.add(worker)
        if self._closed:
            self._lost(worker)
        return worker

    async def _add(self) -> None:
        worker = await self._spawn()
        if not self._closed:
            self._idle.put_nowait(worker)

    def _replace_later(self) -> None:
        """A worker was lost: start its replacement in the background (keeps the pool warm)."""
        if self._closed or self._count >= self.warm:
            return
        task = asyncio.create_task(self._add())
        self._starting.add(task)
        task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task[None]) -> None:
        self._starting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a handler worker could not start: %r", task.exception())

    async def _acquire(self, timeout_s: float) -> Worker:
        while True:
            try:
                worker = self._idle.get_nowait()
            except asyncio.QueueEmpty:
                if self._count < self.max_workers:
                    return await self._spawn()  # all busy: one more, for this caller
                worker = await asyncio.wait_for(self._idle.get(), timeout_s)
            if worker.alive:
                return worker
            self._lost(worker)  # died while idle

    async def invoke(self, request: bytes, timeout_s: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            worker = await self._acquire(timeout_s)
        except TimeoutError:
            raise WorkerTimeout from None
        remaining = max(0.001, timeout_s - (loop.time() - started))
        try:
            answer = await worker.call(request, remaining)
        except BaseException:  # timed out, died, or cancelled mid-call: the worker is done for
            self._lost(worker)
            raise
        self._idle.put_nowait(worker)
        return answer

    def _lost(self, worker: Worker) -> None:
        worker.kill()
        if worker in self._all:
            self._all.discard(worker)
            self._count -= 1
        reaper = asyncio.create_task(worker.wait_exit())  # collects the process and its pipes
        self._starting.add(reaper)
        reaper.add_done_callback(self._starting.discard)
        self._replace_later()

    async def close(self) -> None:
        self._closed = True
        for worker in list(self._all):
            worker.kill()
            await worker.wait_exit()
        self._all.clear()
        while self._starting:  # replacements still starting (killed as they come), reapers
            await asyncio.gather(*list(self._starting), return_exceptions=True)
