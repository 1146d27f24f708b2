"""Start-up of one collection's index: the newest valid snapshot plus the store's newer
changes, or, when the snapshot is missing or unusable, a rebuild from the store.

Never a refusal to start: whatever is wrong with a snapshot, the store holds the truth.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..code_sets import CodeSet, index_params, snapshot_key
from ..hamming import CodeIndex, build_code_index, restore_code_index
from ..hamming.costs import CostModel
from ..records import CollectionInfo
from ..store import Store, queries
from .snapshot import SnapshotHeader, SnapshotInvalid, read_snapshot, snapshot_path

__all__ = ["LoadReport", "load_index", "rebuild_index", "replay_changes"]

log = logging.getLogger(__name__)

_REPLAY_BATCH = 100_000


@dataclass(frozen=True, slots=True)
class LoadReport:
    """How one of a collection's indexes (of `codes`) came back: from a snapshot (and how
    many changes were replayed on top) or rebuilt from the store (and why)."""

    collection: str
    source: str  # "snapshot" or "rebuild"
    snapshot_sequence: int
    replayed: int
    seconds: float
    reason: str
    codes: CodeSet = CodeSet.IMAGES


def _from_snapshot(
    store: Store, folder: Path, info: CollectionInfo, codes: CodeSet, costs: CostModel | None
) -> tuple[CodeIndex, SnapshotHeader]:
    key = snapshot_key(info, codes)
    header, image = read_snapshot(snapshot_path(folder, key))
    if header.collection != key:
        raise SnapshotInvalid(f"snapshot is of {header.collection}, not {key}")
    if header.sequence > store.last_sequence:
        raise SnapshotInvalid(
            f"snapshot covers sequence {header.sequence}, beyond the store's {store.last_sequence}"
        )
    try:
        index = restore_code_index(index_params(info, codes), image, costs)
    except (RuntimeError, ValueError) as exc:  # FAISS refuses a malformed blob
        raise SnapshotInvalid(f"the snapshot's index cannot be read ({exc})") from exc
    return index, header


def replay_changes(
    conn: sqlite3.Connection, index: CodeIndex, collection: str, codes_held: CodeSet
) -> int:
    """Applies the store's logged changes of the codes the index holds after its sequence,
    up to what `conn` sees committed; returns how many there were."""
    replayed = 0
    codes: list[int] = []
    deltas: list[int] = []
    crops = codes_held is CodeSet.EVERY_CODE
    for code, delta, sequence in queries.changes_after(conn, collection, index.sequence, crops):
        codes.append(code)
        deltas.append(delta)
        if len(codes) == _REPLAY_BATCH:
            index.apply(codes, deltas, sequence)
            replayed += len(codes)
            codes, deltas = [], []
    index.apply(codes, deltas, queries.committed_sequence(conn))
    return replayed + len(codes)


def rebuild_index(
    store: Store, info: CollectionInfo, codes: CodeSet, costs: CostModel | None = None
) -> CodeIndex:
    """The collection's index of `codes` built from the store's images, at the sequence they
    are at (read in one transaction, so later changes are those after it); its searches
    planned with `costs` (default: this machine's)."""
    with store.snapshot_read() as conn:
        sequence = queries.committed_sequence(conn)
        counts = queries.code_counts(conn, info.name, codes is CodeSet.EVERY_CODE)
    return build_code_index(index_params(info, codes), counts, sequence, costs)


def load_index(
    store: Store,
    folder: Path,
    info: CollectionInfo,
    codes: CodeSet,
    costs: CostModel | None = None,
) -> tuple[CodeIndex, LoadReport]:
    """The collection's index of `codes`, up to date with the store; and how it was
    obtained."""
    started = time.perf_counter()
    try:
        index, header = _from_snapshot(store, folder, info, codes, costs)
    except SnapshotInvalid as exc:
        index = rebuild_index(store, info, codes, costs)
        report = LoadReport(
            info.name, "rebuild", 0, 0, time.perf_counter() - started, str(exc), codes
        )
        log.warning(
            "collection %s: rebuilt its index of %s from the store (%d codes, %.2f s): %s",
            info.name,
            codes.value,
            index.code_count,
            report.seconds,
            exc,
        )
        return index, report
    with store.snapshot_read() as conn:
        replayed = replay_changes(conn, index, info.name, codes)
    report = LoadReport(
        info.name, "snapshot", header.sequence, replayed, time.perf_counter() - started, "", codes
    )
    log.info(
        "collection %s: loaded its snapshot of %s at sequence %d and replayed %d changes (%.2f s)",
        info.name,
        codes.value,
        header.sequence,
        replayed,
        report.seconds,
    )
    return index, report
