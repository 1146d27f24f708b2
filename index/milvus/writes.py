"""The Milvus engine's write queue: one thread takes every write queued meanwhile and hands
them over as one batch, so concurrent adds share their round trips to Milvus (one duplicate
search, one id check, one upsert) instead of each waiting for its own.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["MAX_BATCH", "Write", "WriteQueue"]

# The most writes one batch takes: AddStream keeps 32 in flight per stream, so a few streams
# fill one; Milvus's search cost grows with the codes sent (8 an add with orientations).
MAX_BATCH = 256


class Write:
    """One queued write: what `apply` needs, and the future its caller waits on."""

    __slots__ = ("future", "key")

    def __init__(self, key: tuple[str, str]) -> None:
        self.key = key  # (kind, collection): consecutive writes of one key form a group
        self.future: Future[Any] = Future()


class WriteQueue:
    """Runs `apply(group)` on one thread for each run of consecutive queued writes of the
    same key, in the order they were queued. `apply` settles every future of its group."""

    def __init__(self, apply: Callable[[list[Any]], None], closed_error: Callable[[], Exception]):
        self._apply = apply
        self._closed_error = closed_error
        self._queue: queue.SimpleQueue[Write | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="milvus-writer", daemon=True)
        self._thread.start()

    def put(self, write: Write) -> Future[Any]:
        """Queues a write; its future fails at once if the queue is closed."""
        if self._closed:
            write.future.set_exception(self._closed_error())
        else:
            self._queue.put(write)
        return write.future

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, wait_seconds: float) -> None:
        """Stops taking writes; those queued are applied for up to `wait_seconds`, then the
        rest fail."""
        self._closed = True
        self._queue.put(None)
        self._thread.join(wait_seconds)
        self._fail_queued()
        self._queue.put(None)  # the sentinel again, if the drain took it from a late writer

    def _fail_queued(self) -> None:
        while True:
            try:
                write = self._queue.get_nowait()
            except queue.Empty:
                return
            if write is not None and not write.future.done():
                write.future.set_exception(self._closed_error())

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            start = 0
            for end in range(1, len(batch) + 1):
                if end == len(batch) or batch[end].key != batch[start].key:
                    self._settle(batch[start:end])
                    start = end
            if stop:
                return

    def _settle(self, group: list[Write]) -> None:
        try:
            self._apply(group)
        except BaseException as exc:  # apply failed as a whole: so does each write
            for write in group:
                if not write.future.done():
                    write.future.set_exception(exc)
