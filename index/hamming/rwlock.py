"""A readers-writer lock: many searches at once, one index mutation at a time.

Searches hold the read side while FAISS scans (FAISS releases the GIL, so readers run in
parallel on all cores); adds, deletes and the compaction swap hold the write side. A waiting
writer blocks new readers, so a steady stream of searches cannot starve the writes.

Thread-safety: that is its purpose. Not reentrant.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["ReadersWriterLock", "WouldWait"]


class WouldWait(Exception):
    """The read side was asked for without waiting, and a writer holds or awaits it."""


class ReadersWriterLock:
    """Writer-preferring readers-writer lock."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self.writes = 0  # write-side holds so far (how often searches had to wait)
        self._reading, self._reading_now = _ReadSide(self, True), _ReadSide(self, False)

    def read(self, wait: bool = True) -> _ReadSide:
        """Holds the read side for a `with` block; without `wait`, WouldWait instead of
        waiting (a caller that must not block: the service's event loop)."""
        return self._reading if wait else self._reading_now

    def _enter_read(self, wait: bool) -> None:
        with self._cond:
            while self._writer or self._writers_waiting:
                if not wait:
                    raise WouldWait("a writer holds or awaits the lock")
                self._cond.wait()
            self._readers += 1

    def _exit_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0 and self._writers_waiting:
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        """Holds the write side (exclusive) for the block."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writer = True
            self.writes += 1
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class _ReadSide:
    """The read side as a `with` block. A plain class, not a generator: every search enters
    it, and a generator-based context manager costs a few us more on this machine."""

    __slots__ = ("_lock", "_wait")

    def __init__(self, lock: ReadersWriterLock, wait: bool) -> None:
        self._lock, self._wait = lock, wait

    def __enter__(self) -> None:
        self._lock._enter_read(self._wait)

    def __exit__(self, *exc: object) -> None:
        self._lock._exit_read()
