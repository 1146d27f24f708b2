"""Snapshot files: one collection's index, written atomically, checked on load.

The index is derived data (the store is the truth), so a snapshot only saves start-up time:
load it, then replay the store's changes after the sequence it covers. A snapshot that is
missing, torn or corrupt is never trusted: `read_snapshot` raises `SnapshotInvalid` and the
engine rebuilds from the store.

File layout (`<collection>.snap` in the snapshot folder):

    b"NEARDUP-SNAPSHOT-1\\n"
    header length, 4 bytes little-endian, then the header as UTF-8 JSON:
        {"collection", "sequence", "slots", "fresh", "index_bytes", "created_unix_ms",
         "kind", "tables_bytes"}  ("kind" names the code index that wrote it; absent:
         "hnsw"; "tables_bytes" absent: 0)
    the code index's serialised structure (index_bytes; FAISS's IndexBinaryHNSW for "hnsw")
    the live count of each slot, int32 little-endian (4 x slots bytes)
    the fresh codes, not yet in the graph, uint64 little-endian (8 x fresh bytes)
    beside a graph, its substring tables (tables_bytes; `SubstringTables.to_bytes`)
    CRC-32 of everything above, 4 bytes little-endian

Writing: a temporary file in the same folder, fsync, rename over the old snapshot, fsync the
folder; a crash at any point leaves the old snapshot or the new one, never a mix. A write
that fails (a full disk) removes its temporary and raises a `StorageFailure`.
"""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..hamming import IndexImage
from ..params import HNSW_KIND
from ..store.failures import storage_failures

__all__ = ["SnapshotHeader", "SnapshotInvalid", "read_snapshot", "snapshot_path", "write_snapshot"]

_MAGIC = b"NEARDUP-SNAPSHOT-1\n"
_U32 = struct.Struct("<I")


class SnapshotInvalid(Exception):
    """The snapshot file is missing, torn or corrupt; rebuild from the store instead."""


@dataclass(frozen=True, slots=True)
class SnapshotHeader:
    """What a snapshot covers: its collection, the store sequence, the slot count."""

    collection: str
    sequence: int
    slots: int
    fresh: int
    index_bytes: int
    created_unix_ms: int
    kind: str = HNSW_KIND
    tables_bytes: int = 0


def snapshot_path(folder: Path, collection: str) -> Path:
    """Where a collection's snapshot lives (collection names are safe file names)."""
    return folder / f"{collection}.snap"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_snapshot(folder: Path, collection: str, image: IndexImage) -> tuple[Path, int]:
    """Writes and publishes a snapshot atomically; returns its path and size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    header = SnapshotHeader(
        collection,
        image.sequence,
        len(image.live),
        len(image.fresh),
        len(image.blob),
        int(time.time() * 1000),
        image.kind,
        len(image.tables),
    )
    header_bytes = json.dumps(
        {name: getattr(header, name) for name in SnapshotHeader.__slots__}
    ).encode()
    parts = (
        _MAGIC,
        _U32.pack(len(header_bytes)),
        header_bytes,
        np.ascontiguousarray(image.blob).data,
        np.ascontiguousarray(image.live, dtype="<i4").data.cast("B"),
        np.ascontiguousarray(image.fresh, dtype="<u8").data.cast("B"),
        np.ascontiguousarray(image.tables).data,
    )
    final = snapshot_path(folder, collection)
    temporary = folder / f".{collection}.snap.tmp"
    try:
        with storage_failures(folder):
            size = _write_file(temporary, parts)
            os.replace(temporary, final)
            _fsync_dir(folder)
    except BaseException:
        temporary.unlink(missing_ok=True)  # a full disk must not keep a torn temporary
        raise
    return final, size


def _write_file(path: Path, parts: tuple[bytes | memoryview, ...]) -> int:
    """Writes the parts and their CRC-32 to `path`, on disk when it returns; its size."""
    crc = 0
    with path.open("wb") as f:
        for part in parts:
            f.write(part)
            crc = zlib.crc32(part, crc)
        f.write(_U32.pack(crc))
        f.flush()
        os.fsync(f.fileno())
        return f.tell()


def read_snapshot(path: Path) -> tuple[SnapshotHeader, IndexImage]:
    """Reads and verifies a snapshot: its header, and the code index's image it holds."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise SnapshotInvalid(f"{path}: cannot read ({exc})") from exc
    raw = data.data
    if len(raw) < len(_MAGIC) + 8 or bytes(raw[: len(_MAGIC)]) != _MAGIC:
        raise SnapshotInvalid(f"{path}: not a neardup snapshot")
    (stored_crc,) = _U32.unpack(raw[-4:])
    if zlib.crc32(raw[:-4]) != stored_crc:
        raise SnapshotInvalid(f"{path}: checksum mismatch (torn or corrupt file)")
    at = len(_MAGIC)
    (header_len,) = _U32.unpack(raw[at : at + 4])
    at += 4
    try:
        fields = json.loads(bytes(raw[at : at + header_len]))
        header = SnapshotHeader(**fields)
    except (ValueError, TypeError) as exc:
        raise SnapshotInvalid(f"{path}: unreadable header ({exc})") from exc
    at += header_len
    index_end = at + header.index_bytes
    live_end = index_end + 4 * header.slots
    fresh_end = live_end + 8 * header.fresh
    if fresh_end + header.tables_bytes + 4 != len(raw):
        raise SnapshotInvalid(f"{path}: sizes in the header do not match the file")
    live = data[index_end:live_end].view("<i4").astype(np.int32)
    fresh = data[live_end:fresh_end].view("<u8").astype(np.uint64)
    tables = data[fresh_end : fresh_end + header.tables_bytes]
    return header, IndexImage(header.kind, data[at:index_end], live, fresh, header.sequence, tables)
