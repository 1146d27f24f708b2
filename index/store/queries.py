"""The SQL of the engine: typed functions over a store connection.

Every statement that reads or writes the store's tables (database.py has the schema) lives
here, so the engine speaks in records and hashes, never in rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict

from ..fingerprint.value import Fingerprint, from_sqlite, to_sqlite
from ..hamming.params import IndexParams
from ..records import CollectionInfo, StoredImage

__all__ = [
    "changes_after",
    "code_counts",
    "collection_exists",
    "collection_rows",
    "committed_sequence",
    "delete_collection",
    "delete_image",
    "image",
    "images_of",
    "insert_collection",
    "insert_image_if_absent",
    "list_images",
    "nearest_images",
    "trim_changes",
    "upsert_image",
]

_IMAGE_COLUMNS = "id, hash, metadata, sequence, added_unix_ms, quality"
_IMAGE_COLUMNS_OF_IMAGES = ", ".join(f"images.{c}" for c in _IMAGE_COLUMNS.split(", "))
_SQLITE_MAX_VARIABLES = 30_000
# A collection's quality floor: beyond distance 0, images of a known quality below it are left
# out (`nearest_images`).
_QUALITY_FLOOR = "AND ({distance} = 0 OR images.quality IS NULL OR images.quality >= ?) "


def _image(
    collection: str, algorithm: str, row: tuple[str, int, str, int, int, int | None]
) -> StoredImage:
    image_id, stored_hash, metadata, sequence, added, quality = row
    fingerprint = Fingerprint(from_sqlite(stored_hash), algorithm)
    meta = json.loads(metadata)
    return StoredImage(collection, image_id, fingerprint, meta, sequence, added, quality)


def collection_rows(conn: sqlite3.Connection) -> list[CollectionInfo]:
    """Every collection (image_count 0: the engine counts from its indexes), by name."""
    rows = conn.execute(
        "SELECT name, uid, algorithm, default_radius, params, created_unix_ms, min_quality "
        "FROM collections ORDER BY name"
    ).fetchall()
    return [
        CollectionInfo(
            name, uid, algo, radius, IndexParams(**json.loads(params)), created, 0, floor
        )
        for name, uid, algo, radius, params, created, floor in rows
    ]


def insert_collection(conn: sqlite3.Connection, info: CollectionInfo) -> int:
    """Stores a new collection; returns its uid (never reused)."""
    (uid,) = conn.execute(
        "SELECT COALESCE(MAX(value), 0) + 1 FROM meta WHERE key = 'last_uid'"
    ).fetchone()
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_uid', ?)", (uid,))
    conn.execute(
        "INSERT INTO collections (name, uid, algorithm, default_radius, params, "
        "created_unix_ms, min_quality) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            info.name,
            uid,
            info.algorithm,
            info.default_radius,
            json.dumps(asdict(info.params)),
            info.created_unix_ms,
            info.min_quality,
        ),
    )
    return int(uid)


def delete_collection(conn: sqlite3.Connection, name: str) -> int:
    """Removes a collection, its images and its log; returns how many images it held."""
    (count,) = conn.execute("SELECT COUNT(*) FROM images WHERE collection = ?", (name,)).fetchone()
    conn.execute("DELETE FROM images WHERE collection = ?", (name,))
    conn.execute("DELETE FROM changes WHERE collection = ?", (name,))
    conn.execute("DELETE FROM collections WHERE name = ?", (name,))
    return int(count)


def collection_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the collection is stored (as this connection sees it)."""
    row = conn.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone()
    return row is not None


def image(
    conn: sqlite3.Connection, collection: str, algorithm: str, image_id: str
) -> StoredImage | None:
    """The stored image of that id, or None."""
    row = conn.execute(
        f"SELECT {_IMAGE_COLUMNS} FROM images WHERE collection = ? AND id = ?",
        (collection, image_id),
    ).fetchone()
    return _image(collection, algorithm, row) if row else None


def nearest_images(
    conn: sqlite3.Connection,
    collection: str,
    algorithm: str,
    distances: Mapping[int, int],
    limit: int,
    exclude_id: str | None = None,
    crowded: Collection[int] = (),
    min_quality: int = 0,
) -> list[tuple[StoredImage, int]]:
    """The stored images carrying the codes, each with its code's distance: nearest first,
    ties by id, at most `limit`, without `exclude_id`; beyond distance 0, without images
    whose quality is known and below `min_quality`.

    SQLite sorts and cuts. A join reads every image of every code, so a code that many
    images share (`crowded`: the caller's index counts them) is read on its own instead,
    in id order through the hash index and cut at `limit`: the same picture uploaded
    100,000 times costs `limit` rows, not 100,000.
    """
    excluded = "" if exclude_id is None else "AND images.id != ? "
    spare: tuple[str | int, ...] = () if exclude_id is None else (exclude_id,)
    parts: list[list[tuple[StoredImage, int]]] = []
    for code in [c for c in distances if c in crowded]:
        floor = _QUALITY_FLOOR.format(distance="?") if min_quality else ""
        floor_args: tuple[int, ...] = (distances[code], min_quality) if min_quality else ()
        rows = conn.execute(
            f"SELECT {_IMAGE_COLUMNS_OF_IMAGES} FROM images INDEXED BY images_by_hash "
            f"WHERE images.collection = ? AND images.hash = ? {excluded}{floor}"
            "ORDER BY images.id LIMIT ?",
            (collection, to_sqlite(code), *spare, *floor_args, limit),
        )
        parts.append([(_image(collection, algorithm, row), distances[code]) for row in rows])
    joined = [c for c in distances if c not in crowded]
    step = _SQLITE_MAX_VARIABLES // 2
    for chunk in (joined[start : start + step] for start in range(0, len(joined), step)):
        pairs = ",".join(["(?, ?)"] * len(chunk))
        values = [v for c in chunk for v in (to_sqlite(c), distances[c])]
        # Without statistics SQLite prefers the primary key's `collection = ?` and scans the
        # whole collection (30 ms at 200k images): name the hash index.
        floor = _QUALITY_FLOOR.format(distance="wanted.distance") if min_quality else ""
        floor_args = (min_quality,) if min_quality else ()
        rows = conn.execute(
            f"WITH wanted(hash, distance) AS (VALUES {pairs}) "
            f"SELECT {_IMAGE_COLUMNS_OF_IMAGES}, wanted.distance "
            "FROM wanted JOIN images INDEXED BY images_by_hash "
            f"ON images.collection = ? AND images.hash = wanted.hash {excluded}{floor}"
            "ORDER BY wanted.distance, images.id LIMIT ?",
            (*values, collection, *spare, *floor_args, limit),
        )
        parts.append([(_image(collection, algorithm, row[:6]), row[6]) for row in rows])
    if len(parts) == 1:  # already sorted and cut
        return parts[0]
    found = [pair for part in parts for pair in part]
    found.sort(key=lambda pair: (pair[1], pair[0].id))
    return found[:limit]


def _write_image(conn: sqlite3.Connection, on_conflict: str, stored: StoredImage) -> int:
    cursor = conn.execute(
        f"INSERT OR {on_conflict} INTO images (collection, id, hash, metadata, sequence, "
        "added_unix_ms, quality) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            stored.collection,
            stored.id,
            to_sqlite(stored.fingerprint.value),
            json.dumps(stored.metadata, ensure_ascii=False),
            stored.sequence,
            stored.added_unix_ms,
            stored.quality,
        ),
    )
    return cursor.rowcount


def upsert_image(conn: sqlite3.Connection, stored: StoredImage) -> None:
    """Stores (or replaces) an image row."""
    _write_image(conn, "REPLACE", stored)


def insert_image_if_absent(conn: sqlite3.Connection, stored: StoredImage) -> bool:
    """Stores an image row unless its id is taken; returns whether it was stored."""
    return _write_image(conn, "IGNORE", stored) == 1


def delete_image(conn: sqlite3.Connection, collection: str, image_id: str) -> None:
    """Removes an image row."""
    conn.execute("DELETE FROM images WHERE collection = ? AND id = ?", (collection, image_id))


def list_images(
    conn: sqlite3.Connection, collection: str, algorithm: str, after_id: str, limit: int
) -> list[StoredImage]:
    """Up to `limit` images with ids after `after_id`, in id order."""
    rows = conn.execute(
        f"SELECT {_IMAGE_COLUMNS} FROM images WHERE collection = ? AND id > ? ORDER BY id LIMIT ?",
        (collection, after_id, limit),
    )
    return [_image(collection, algorithm, row) for row in rows]


def images_of(
    conn: sqlite3.Connection, collection: str, algorithm: str, ids: Collection[str]
) -> dict[str, StoredImage]:
    """The stored images among these ids, by id (one statement per 30,000 ids)."""
    wanted = list(ids)
    found: dict[str, StoredImage] = {}
    for start in range(0, len(wanted), _SQLITE_MAX_VARIABLES):
        chunk = wanted[start : start + _SQLITE_MAX_VARIABLES]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {_IMAGE_COLUMNS} FROM images WHERE collection = ? AND id IN ({marks})",
            (collection, *chunk),
        )
        found.update((row[0], _image(collection, algorithm, row)) for row in rows)
    return found


def code_counts(conn: sqlite3.Connection, collection: str) -> dict[int, int]:
    """How many stored images carry each code: what a rebuilt index must hold."""
    rows = conn.execute(
        "SELECT hash, COUNT(*) FROM images WHERE collection = ? GROUP BY hash", (collection,)
    )
    return {from_sqlite(h): n for h, n in rows}


def committed_sequence(conn: sqlite3.Connection) -> int:
    """The sequence number of the newest committed change (0 if none), as `conn` sees it."""
    (next_sequence,) = conn.execute("SELECT value FROM meta WHERE key = 'next_sequence'").fetchone()
    return int(next_sequence) - 1


def changes_after(
    conn: sqlite3.Connection, collection: str, sequence: int
) -> Iterator[tuple[int, int, int]]:
    """(code, delta, sequence) of the logged changes after `sequence`, in order."""
    rows = conn.execute(
        "SELECT hash, delta, sequence FROM changes WHERE sequence > ? AND collection = ? "
        "ORDER BY sequence",
        (sequence, collection),
    )
    for stored_hash, delta, seq in rows:
        yield from_sqlite(stored_hash), delta, seq


def trim_changes(conn: sqlite3.Connection, collection: str, sequence: int) -> None:
    """Drops the log rows a snapshot covers."""
    conn.execute(
        "DELETE FROM changes WHERE collection = ? AND sequence <= ?", (collection, sequence)
    )
