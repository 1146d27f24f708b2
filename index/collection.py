"""`LoadedCollection`: one collection as an engine holds it: its definition, its code indexes
(of its images' own hashes, and in a crop_hashes collection of every code: `code_sets`), the
codes lately added to it, whether its index is being resynchronised, and its snapshot
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

from .code_sets import CodeSet, snapshot_key
from .errors import IndexUnavailable
from .hamming import CodeIndex
from .persistence.snapshot import write_snapshot
from .recent import RecentAdds
from .records import CollectionDefinition, CollectionInfo, SnapshotInfo
from .settings import EngineSettings
from .store import Store, queries

__all__ = ["LoadedCollection"]

log = logging.getLogger(__name__)


@dataclass
class LoadedCollection:
    """A loaded collection: its definition, its indexes, its snapshot bookkeeping.

    index: its images' own hashes (top-k searches); every_code: a crop_hashes collection's
    own and crop hashes (radius searches and duplicate checks), else None."""

    info: CollectionInfo
    index: CodeIndex
    every_code: CodeIndex | None = None
    snapshot_sequence: int = 0
    snapshot_time: float | None = None
    snapshot_bytes: int = 0
    writes_since_snapshot: int = 0
    recent: RecentAdds = field(default_factory=RecentAdds)
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
        """Live images: the own hashes' live counts."""
        return self.index.image_count

    @property
    def radius_index(self) -> CodeIndex:
        """The index radius searches go to: of every code where crop codes are kept."""
        return self.every_code if self.every_code is not None else self.index

    def indexes(self) -> list[tuple[CodeSet, CodeIndex]]:
        """Each index the collection keeps, with the codes it holds."""
        held = [(CodeSet.IMAGES, self.index)]
        if self.every_code is not None:
            held.append((CodeSet.EVERY_CODE, self.every_code))
        return held

    def replace_index(self, codes: CodeSet, index: CodeIndex) -> CodeIndex:
        """Puts `index` in place of the one of `codes`; returns the one it replaced."""
        if codes is CodeSet.IMAGES:
            old, self.index = self.index, index
            return old
        assert self.every_code is not None, "a collection without crop hashes"
        old, self.every_code = self.every_code, index
        return old

    def close(self) -> None:
        """Stops the indexes' background work."""
        for _, index in self.indexes():
            index.close()

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
        """Writes the snapshots of this collection's indexes and trims the store's log
        they all cover."""
        started = time.perf_counter()
        name = self.info.name
        with self.snapshot_lock:
            self.check_searchable()  # a stale index must not replace a good snapshot
            log.debug("collection %s: writing snapshot", name)
            applied = self.writes_since_snapshot
            sequences, size = [], 0
            for codes, index in self.indexes():
                image = index.export()
                sequences.append(image.sequence)
                size += write_snapshot(folder, snapshot_key(self.info, codes), image)[1]
                del image
            sequence = min(sequences)
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
        for _, index in self.indexes():
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
