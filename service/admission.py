"""Admission to the server's worker pool: how much work may wait for it.

Every call's CPU work (decoding, hashing, index and store work) runs in a thread pool, and
a pool's queue has no bound of its own: under more uploads than the workers keep up with,
the requests' bytes would pile up in memory and every call would wait longer. `Admission`
bounds the calls waiting or running in the pool, the bytes of their requests, and the
seconds of work they bring: each kind of call (its method) brings what its pool work took
of late (a moving average), and a call is admitted while the work ahead of it, shared by
the workers, is at most `max_queue_seconds`. That bound is what keeps an admitted call's
latency bounded: under a burst of 600 uploads of a 168 KB JPEG on 2 cores, 256 calls
admitted waited seconds (scripts/reliability/overload.py); 1 s of work a worker bounds the
wait at little cost, while half that refused some of a 32-in-flight soak's calls.

A unary call beyond the bounds is refused at once with RESOURCE_EXHAUSTED (`Overloaded`),
so a client backs off while the calls admitted keep their latency; a stream's item waits
for room instead (back-pressure: gRPC's flow control then holds the sender). A call is
always admitted when nothing else is waiting, however large.

Thread-safety: `enter` and `leave` from the server's event loop only; `observe` from any
thread (a moving average whose rare lost update is harmless).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .status import Overloaded

__all__ = ["Admission", "Ticket"]

# Weight of the newest pool-work time in a kind's moving average: it follows a change of
# load within some tens of calls.
_SMOOTHING = 0.1


@dataclass(frozen=True, slots=True)
class Ticket:
    """The room one admitted call holds, given back by `leave`."""

    cost: int
    seconds: float


class Admission:
    """At most `max_calls` calls, `max_bytes` request bytes and `max_queue_seconds` of
    work per worker in the worker pool."""

    def __init__(
        self, max_calls: int, max_bytes: int, workers: int = 1, max_queue_seconds: float = 1.0
    ) -> None:
        self.max_calls = max_calls
        self.max_bytes = max_bytes
        self.workers = max(1, workers)
        self.max_queue_seconds = max_queue_seconds
        self.calls = 0
        self.bytes = 0
        self.seconds = 0.0  # the work the admitted calls bring, by their kinds' averages
        self._work_seconds: dict[str, float] = {}
        self._waiters: list[asyncio.Future[None]] = []

    def observe(self, kind: str, seconds: float) -> None:
        """Records how long one piece of pool work of this kind took."""
        before = self._work_seconds.get(kind)
        self._work_seconds[kind] = (
            seconds if before is None else before + _SMOOTHING * (seconds - before)
        )

    def queue_seconds(self) -> float:
        """How long a call admitted now would wait for the workers, by the averages."""
        return self.seconds / self.workers

    def _fits(self, cost: int, seconds: float) -> bool:
        if self.calls == 0:
            return True
        return (
            self.calls < self.max_calls
            and self.bytes + cost <= self.max_bytes
            and (self.seconds + seconds) / self.workers <= self.max_queue_seconds
        )

    async def enter(self, cost: int, kind: str = "", *, wait: bool) -> Ticket:
        """Takes room for one call of `kind` with `cost` request bytes; raises Overloaded
        when there is none and `wait` is False, else waits for it. Each `enter` needs one
        `leave` of its ticket."""
        seconds = self._work_seconds.get(kind, 0.0)
        while not self._fits(cost, seconds):
            if not wait:
                raise Overloaded(
                    f"the server is busy: {self.calls} calls holding "
                    f"{self.bytes / 2**20:.0f} MB of requests and about "
                    f"{self.queue_seconds():.1f} s of work wait for its workers (at most "
                    f"{self.max_calls} calls, {self.max_bytes / 2**20:.0f} MB, "
                    f"{self.max_queue_seconds:g} s); retry with backoff"
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
        self.seconds += seconds
        return Ticket(cost, seconds)

    def leave(self, ticket: Ticket) -> None:
        """Gives back the room of a call that `enter` admitted; wakes the waiting ones."""
        self.calls -= 1
        self.bytes -= ticket.cost
        self.seconds = max(0.0, self.seconds - ticket.seconds) if self.calls else 0.0
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
