"""What every read of the Milvus engine sees, said in one place.

Milvus stamps each write with a timestamp from its clock (a hybrid timestamp: milliseconds
shifted left 18 bits, plus a counter). A read given a guarantee timestamp G waits until the
query nodes have applied every write stamped at or before G, then sees all of them. Strong
makes G "now" and so waits for the next time tick (`proxy.timeTickInterval`, 200 ms by
default); Session makes G this process's last write and waits the same after each write;
Bounded makes G "now less `common.gracefulTime`" (5 s by default) on the server's side.

The engine reads at its own G, the `ReadPoint`:

    G = max(the Milvus timestamp taken when the engine started, now - READ_LAG_SECONDS)

- Nothing waits once the engine has run a moment: G trails the clock by more than a time
  tick, so the query nodes are already past it.
- Every write acknowledged by any server before this engine started is seen: its stamp is
  below the one Milvus issued at the start. This is the promise an add's duplicate check
  keeps across servers.
- A write by another server is seen once it is READ_LAG_SECONDS old.
- This engine's own writes are seen at once: those Milvus may not show at G yet are kept in
  memory (`RecentWrites`) until G passes their stamp, and every read merges them.

So each caller-facing read (Search, Get, GetMany, List, counts) and each add's id check and
duplicate check reads at G, and none reads stronger. Registry reads (collection definitions)
read Strong: they are rare and a definition must never be missed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["READ_LAG_SECONDS", "ReadPoint", "at", "milvus_timestamp"]

# How far behind the clock reads look. Above a few time ticks at Milvus's default (200 ms),
# so reads do not wait for the query nodes; the cost is that another server's write takes
# this long to be seen. scripts/bench/milvus_tick.py measures reads after writes per tick.
READ_LAG_SECONDS = 1.0
_LOGICAL_BITS = 18
_STRONG = "Strong"


def milvus_timestamp(unix_seconds: float) -> int:
    """Milvus's hybrid timestamp of a wall-clock time (logical part 0)."""
    return int(unix_seconds * 1000) << _LOGICAL_BITS


def at(guarantee: int) -> dict[str, Any]:
    """A read's keyword arguments for pymilvus: wait for writes stamped up to `guarantee`."""
    return {"consistency_level": "Customized", "guarantee_timestamp": guarantee}


STRONG: dict[str, Any] = {"consistency_level": _STRONG}


class ReadPoint:
    """The guarantee timestamp of this engine's reads (see the module docstring): never
    below `started` and never moving backwards."""

    def __init__(
        self,
        started: int,
        lag_seconds: float = READ_LAG_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._started = started
        self._lag = lag_seconds
        self._clock = clock
        self._last = started
        self._lock = threading.Lock()

    def now(self) -> int:
        """G for a read starting now."""
        trailing = milvus_timestamp(self._clock() - self._lag)
        with self._lock:
            self._last = max(self._last, trailing)
            return self._last
