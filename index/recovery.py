"""Start-up of one collection's index: the newest valid snapshot plus the store's newer
changes, or, when the snapshot is missing or unusable, a rebuild from the store.

Never a refusal to start: whatever is wrong with a snapshot, the store holds the truth.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from . import queries
from .hamming import HammingIndex
from .records import CollectionInfo
from .snapshot import SnapshotHeader, SnapshotInvalid, read_snapshot, snapshot_path
from .store import Store

__all__ = ["LoadReport", "load_index", "snapshot_key"]

log = logging.getLogger(__name__)

_REPLAY_BATCH = 100_000


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How a collection's index came back: from a snapshot (and how many changes were
    replayed on top) or rebuilt from the store (and why)."""

    collection: str
    source: str  # "snapshot" or "rebuild"
    snapshot_sequence: int
    replayed: int
    seconds: float
    reason: str


def snapshot_key(info: CollectionInfo) -> str:
    """The snapshot file stem of a collection: its uid, so a dropped and re-created
    collection of the same name never loads the old one's snapshot."""
    return f"c{info.uid}"


def _from_snapshot(
    store: Store, folder: Path, info: CollectionInfo
) -> tuple[HammingIndex, SnapshotHeader]:
    header, blob, live, fresh = read_snapshot(snapshot_path(folder, snapshot_key(info)))
    if header.collection != snapshot_key(info):
        raise SnapshotInvalid(f"snapshot is of {header.collection}, not {snapshot_key(info)}")
    if header.sequence > store.last_sequence:
        raise SnapshotInvalid(
            f"snapshot covers sequence {header.sequence}, beyond the store's {store.last_sequence}"
        )
    try:
        index = HammingIndex.restore(info.params, blob, live, fresh, header.sequence)
    except (RuntimeError, ValueError) as exc:  # FAISS refuses a malformed blob
        raise SnapshotInvalid(f"FAISS cannot read the snapshot's index ({exc})") from exc
    return index, header


def load_index(store: Store, folder: Path, info: CollectionInfo) -> tuple[HammingIndex, LoadReport]:
    """The collection's index, up to date with the store; and how it was obtained."""
    started = time.perf_counter()
    try:
        index, header = _from_snapshot(store, folder, info)
    except SnapshotInvalid as exc:
        with store.snapshot_read() as conn:
            counts = queries.code_counts(conn, info.name)
            index = HammingIndex.build(info.params, counts, store.last_sequence)
        report = LoadReport(info.name, "rebuild", 0, 0, time.perf_counter() - started, str(exc))
        log.warning(
            "collection %s: rebuilt its index from the store (%d images, %.2f s): %s",
            info.name, index.image_count, report.seconds, exc,
        )  # fmt: skip
        return index, report
    replayed = 0
    codes: list[int] = []
    deltas: list[int] = []
    with store.snapshot_read() as conn:
        for code, delta, sequence in queries.changes_after(conn, info.name, header.sequence):
            codes.append(code)
            deltas.append(delta)
            if len(codes) == _REPLAY_BATCH:
                index.apply(codes, deltas, sequence)
                replayed += len(codes)
                codes, deltas = [], []
        index.apply(codes, deltas, store.last_sequence)
        replayed += len(codes)
    report = LoadReport(
        info.name, "snapshot", header.sequence, replayed, time.perf_counter() - started, ""
    )
    log.info(
        "collection %s: loaded its snapshot at sequence %d and replayed %d changes (%.2f s)",
        info.name, header.sequence, replayed, report.seconds,
    )  # fmt: skip
    return index, report
