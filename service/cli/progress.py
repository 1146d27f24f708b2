"""What a person sees while a bulk build runs: a live bar on a terminal (tqdm: count, rate,
ETA when the total is known, and the running tallies), one log line every few seconds
otherwise (a CI log, a file)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

__all__ = ["BuildProgress", "BuildTally"]

_LOG_EVERY_SECONDS = 5.0


@dataclass
class BuildTally:
    """The running counts of a build."""

    added: int = 0
    updated: int = 0
    stored: int = 0
    not_images: int = 0
    failed: int = 0
    started: float = field(default_factory=time.perf_counter)

    def summary(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "stored": self.stored,
            "not images": self.not_images,
            "failed": self.failed,
        }


class BuildProgress:
    """Files done out of `total` (None: not known), shown as the stream allows.

    Thread-safe: `advance` may be called from the hashing and the writing threads.
    """

    def __init__(self, total: int | None, tally: BuildTally, stream: TextIO | None = None) -> None:
        self._tally = tally
        self._stream = stream or sys.stderr
        self._total = total
        self._done = 0
        self._lock = threading.Lock()
        self._last_log = time.monotonic()
        self._bar: Any = None
        if self._stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="file", file=self._stream, dynamic_ncols=True)

    def advance(self, files: int) -> None:
        """`files` more are done (stored, skipped or failed)."""
        with self._lock:
            self._done += files
            if self._bar is not None:
                self._bar.set_postfix(self._tally.summary(), refresh=False)
                self._bar.update(files)
            elif time.monotonic() - self._last_log >= _LOG_EVERY_SECONDS:
                self._last_log = time.monotonic()
                self._log()

    def _log(self) -> None:
        elapsed = time.perf_counter() - self._tally.started
        rate = self._done / max(elapsed, 1e-9)
        of = f"/{self._total}" if self._total is not None else ""
        eta = ""
        if self._total is not None and rate > 0:
            eta = f", ETA {(self._total - self._done) / rate:.0f} s"
        counts = ", ".join(f"{n} {what}" for what, n in self._tally.summary().items())
        print(
            f"neardup: build: {self._done}{of} files, {rate:.0f}/s{eta}; {counts}",
            file=self._stream,
            flush=True,
        )

    def __enter__(self) -> BuildProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()
