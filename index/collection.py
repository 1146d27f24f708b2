"""`LoadedCollection`: one collection as an engine holds it: its definition, its code index,
the codes lately added to it, whether its index is being resynchronised, and its snapshot
bookkeeping (when one is due, and writing it).

Thread-safety: snapshots of one collection are serialised by its own lock; the counters are
written by the store's writer thread and read elsewhere (a stale read only delays a snapshot).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import IndexUnavailable
from .hamming import CodeIndex
from .persistence.recovery import snapshot_key
from .persistence.snapshot import write_snapshot
from .recent import RecentAdds
from .records import CollectionDefinition, CollectionInfo, SnapshotInfo
from .settings import EngineSettings
from .store import Store, queries

__all__ = ["LoadedCollection"]

log = logging.getLogger(__name__)


@dataclass
class LoadedCollection:
    """A loaded collection: its definition, its index, its snapshot bookkeeping."""

    info: CollectionInfo
    index: CodeIndex
    snapshot_sequence: int = 0
    snapshot_time: float | None = None
    snapshot_bytes: int = 0
    writes_since_snapshot: int = 0
    recent: RecentAdds = field(default_factory=RecentAdds)
    # The crop codes among the index's live counts (written by the writer thread): the
    # collection's image count is the index's less these.
    crop_codes: int = 0
    loaded_time: float = field(default_factory=time.time)
    snapshot_lock: threading.Lock = field(default_factory=threading.Lock)
    # Set by the writer when applying committed changes to the index failed; cleared when a
    # rebuilt index is swapped in. Searches are refused meanwhile, and nothing is snapshotted.
    stale: bool = False
    resyncing: threading.Lock = field(default_factory=threading.Lock)
    # `current_info`'s last answer: every search asks, the count moves only with writes.
    _counted: CollectionInfo | None = field(default=None, init=False, repr=False)
    # the definition, fixed at creation: every search on the event loop reads it
    definition: CollectionDefinition = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.definition = self.info.definition

    @property
    def image_count(self) -> int:
        """Live images (the index counts their crop codes too)."""
        return self.index.image_count - self.crop_codes

    def current_info(self) -> CollectionInfo:
        """The definition with today's image count."""
        count, counted = self.image_count, self._counted
        if counted is None or counted.image_count != count:
            counted = self._counted = replace(self.info, image_count=count)
        return counted

    def check_searchable(self) -> None:
        """Raises IndexUnavailable while the index is being resynchronised."""
        if self.stale:
            raise IndexUnavailable(
                f"collection {self.info.name!r} is rebuilding its index from the store after "
                "a failure; retry shortly"
            )

    def snapshot(self, store: Store, folder: Path) -> SnapshotInfo:
        """Writes this collection's snapshot and trims the store's log it covers."""
        started = time.perf_counter()
        name = self.info.name
        with self.snapshot_lock:
            self.check_searchable()  # a stale index must not replace a good snapshot
            log.debug("collection %s: writing snapshot", name)
            image = self.index.export()
            sequence = image.sequence
            applied = self.writes_since_snapshot
            _, size = write_snapshot(folder, snapshot_key(self.info), image)
            del image
            self.snapshot_sequence, self.snapshot_time, self.snapshot_bytes = (
                sequence,
                time.time(),
                size,
            )
            self.writes_since_snapshot = max(0, self.writes_since_snapshot - applied)
            store.run(lambda txn: queries.trim_changes(txn.conn, name, sequence))
        seconds = time.perf_counter() - started
        log.info(
            "collection %s: snapshot at sequence %d, %d bytes, %.2f s",
            name,
            sequence,
            size,
            seconds,
        )
        return SnapshotInfo(name, sequence, size, seconds)

    def maintenance_due(self, settings: EngineSettings) -> str | None:
        """ "resync" while the index is stale, "compact" when dead slots pass the threshold,
        "snapshot" when enough writes (or time with writes) passed since the last snapshot,
        else None."""
        if self.stale:
            return "resync"
        index = self.index
        threshold = max(
            settings.compact_min_dead, settings.compact_dead_fraction * index.slot_count
        )
        if index.dead_slots >= threshold:
            return "compact"
        writes = self.writes_since_snapshot
        age = time.time() - (self.snapshot_time or self.loaded_time)
        if writes >= settings.snapshot_every_writes or (
            writes > 0 and age >= settings.snapshot_every_seconds
        ):
            return "snapshot"
        return None
