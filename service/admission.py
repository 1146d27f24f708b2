"""Admission to the server's worker pool: how much work may wait for it.

Every call's CPU work (decoding, hashing, index and store work) runs in a thread pool, and
a pool's queue has no bound of its own: under more uploads than the workers keep up with,
the requests' bytes would pile up in memory and every call would wait longer. `Admission`
bounds the calls waiting or running in the pool and the bytes of their requests. A unary
call beyond the bounds is refused at once with RESOURCE_EXHAUSTED (`Overloaded`), so a
client backs off while the calls admitted keep their latency; a stream's item waits for
room instead (back-pressure: gRPC's flow control then holds the sender). A request larger
than the byte bound on its own is admitted when nothing else is waiting.

Thread-safety: used from the server's event loop only.
"""

from __future__ import annotations

import asyncio

from .status import Overloaded

__all__ = ["Admission"]


class Admission:
    """At most `max_calls` calls and `max_bytes` request bytes in the worker pool."""

    def __init__(self, max_calls: int, max_bytes: int) -> None:
        self.max_calls = max_calls
        self.max_bytes = max_bytes
        self.calls = 0
        self.bytes = 0
        self._waiters: list[asyncio.Future[None]] = []

    def _fits(self, cost: int) -> bool:
        if self.calls >= self.max_calls:
            return False
        return self.calls == 0 or self.bytes + cost <= self.max_bytes

    async def enter(self, cost: int, *, wait: bool) -> None:
        """Takes room for one call of `cost` request bytes; raises Overloaded when there
        is none and `wait` is False, else waits for it. Each `enter` needs one `leave`."""
        while not self._fits(cost):
            if not wait:
                raise Overloaded(
                    f"the server is busy: {self.calls} calls holding "
                    f"{self.bytes / 2**20:.0f} MB of requests wait for its workers (at most "
                    f"{self.max_calls} calls, {self.max_bytes / 2**20:.0f} MB); retry with backoff"
                )
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self.calls += 1
        self.bytes += cost

    def leave(self, cost: int) -> None:
        """Gives back the room of a call that `enter` admitted; wakes the waiting ones."""
        self.calls -= 1
        self.bytes -= cost
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
