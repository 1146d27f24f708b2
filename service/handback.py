"""Results handed back to the event loop from other threads, with one wake-up for many.

`asyncio.wrap_future` and `run_in_executor` wake the loop once per result: each writes a
byte to the loop's self-pipe from the finishing thread. Under a stream of adds the pool's
threads and the store's writer finish many calls close together, and those writes (and the
loop's reads of them) were the largest part of the server's thread hand-over in
scripts/bench/server_profile.py. Here a finishing thread queues its result and wakes the
loop only when no wake-up is pending yet; the loop settles every queued result at once.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

__all__ = ["HandBack"]

T = TypeVar("T")


class HandBack:
    """Completions of threads' work, settled on one event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._queued: collections.deque[tuple[asyncio.Future[Any], Future[Any]]] = (
            collections.deque()
        )
        self._lock = threading.Lock()
        self._pending = False  # a wake-up is scheduled and has not run yet

    def run(self, executor: Executor, call: Callable[[], T]) -> asyncio.Future[T]:
        """`call` on the executor; its result (or error) on the loop."""
        return self.wrap(executor.submit(call))

    def wrap(self, done: Future[T]) -> asyncio.Future[T]:
        """The result of a concurrent future, on the loop (as `asyncio.wrap_future`)."""
        waiter: asyncio.Future[T] = self.loop.create_future()
        done.add_done_callback(lambda finished: self._queue(waiter, finished))
        return waiter

    def _queue(self, waiter: asyncio.Future[Any], finished: Future[Any]) -> None:
        """In the finishing thread (or at once, when already finished)."""
        with self._lock:
            self._queued.append((waiter, finished))
            if self._pending:
                return
            self._pending = True
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
            self.loop.call_soon_threadsafe(self._settle)

    def _settle(self) -> None:
        """On the loop: every queued result to its waiter."""
        with self._lock:
            self._pending = False
            queued, self._queued = self._queued, collections.deque()
        for waiter, finished in queued:
            if waiter.cancelled():
                continue
            if finished.cancelled():
                waiter.cancel()
            elif (error := finished.exception()) is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(finished.result())
