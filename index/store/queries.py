"""The SQL of the engine: typed functions over a store connection.

Every statement that reads or writes the store's tables (database.py has the schema) lives
here, so the engine speaks in records and hashes, never in rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..fingerprint.value import Fingerprint, from_blob, from_sqlite, to_blob, to_sqlite
from ..params import IndexParams
from ..records import CollectionInfo, StoredImage

__all__ = [
    "FloorRule",
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
    "thumbnails_of",
    "trim_changes",
    "upsert_image",
]

_IMAGE_COLUMNS = "id, hash, metadata, sequence, added_unix_ms, quality, crops, digest"
_IMAGE_COLUMNS_OF_IMAGES = ", ".join(f"images.{c}" for c in _IMAGE_COLUMNS.split(", "))
_SQLITE_MAX_VARIABLES = 30_000


_ImageRow = tuple[str, int, str, int, int, int | None, bytes | None, bytes | None]


def _image(collection: str, algorithm: str, row: _ImageRow) -> StoredImage:
    image_id, stored_hash, metadata, sequence, added, quality, crop_blob, digest = row
    fingerprint = Fingerprint(from_sqlite(stored_hash), algorithm)
    meta = {} if metadata == "{}" else json.loads(metadata)  # most images carry none
    crops = tuple(Fingerprint(v, algorithm) for v in from_blob(crop_blob)) if crop_blob else ()
    return StoredImage(
        collection, image_id, fingerprint, meta, sequence, added, quality, crops, None, digest
    )


def collection_rows(conn: sqlite3.Connection) -> list[CollectionInfo]:
    """Every collection (image_count 0: the engine counts from its indexes), by name."""
    rows = conn.execute(
        "SELECT name, uid, algorithm, default_radius, params, created_unix_ms, min_quality, "
        "crop_hashes, thumbnails, orientations FROM collections ORDER BY name"
    ).fetchall()
    return [
        CollectionInfo(
            name,
            uid,
            algo,
            radius,
            IndexParams(**json.loads(params)),
            created,
            0,
            floor,
            bool(crops),
            bool(thumbnails),
            bool(oriented),
        )
        for name, uid, algo, radius, params, created, floor, crops, thumbnails, oriented in rows
    ]


def insert_collection(conn: sqlite3.Connection, info: CollectionInfo) -> int:
    """Stores a new collection; returns its uid (never reused)."""
    (uid,) = conn.execute(
        "SELECT COALESCE(MAX(value), 0) + 1 FROM meta WHERE key = 'last_uid'"
    ).fetchone()
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_uid', ?)", (uid,))
    conn.execute(
        "INSERT INTO collections (name, uid, algorithm, default_radius, params, "
        "created_unix_ms, min_quality, crop_hashes, thumbnails, orientations) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            info.name,
            uid,
            info.algorithm,
            info.default_radius,
            json.dumps(asdict(info.params)),
            info.created_unix_ms,
            info.min_quality,
            int(info.crop_hashes),
            int(info.thumbnails),
            int(info.orientations),
        ),
    )
    return int(uid)


def delete_collection(conn: sqlite3.Connection, name: str) -> int:
    """Removes a collection, its images and its log; returns how many images it held."""
    (count,) = conn.execute("SELECT COUNT(*) FROM images WHERE collection = ?", (name,)).fetchone()
    conn.execute("DELETE FROM images WHERE collection = ?", (name,))
    conn.execute("DELETE FROM crop_codes WHERE collection = ?", (name,))
    conn.execute("DELETE FROM thumbnails WHERE collection = ?", (name,))
    conn.execute("DELETE FROM changes WHERE collection = ?", (name,))
    conn.execute("DELETE FROM collections WHERE name = ?", (name,))
    return int(count)


def collection_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the collection is stored (as this connection sees it)."""
    row = conn.execute("SELECT 1 FROM collections WHERE name = ?", (name,)).fetchone()
    return row is not None


def image(
    conn: sqlite3.Connection,
    collection: str,
    algorithm: str,
    image_id: str,
    thumbnail: bool = False,
) -> StoredImage | None:
    """The stored image of that id (with its kept thumbnail when asked), or None."""
    row = conn.execute(
        f"SELECT {_IMAGE_COLUMNS} FROM images WHERE collection = ? AND id = ?",
        (collection, image_id),
    ).fetchone()
    if not row:
        return None
    stored = _image(collection, algorithm, row)
    kept = thumbnails_of(conn, collection, [image_id]).get(image_id) if thumbnail else None
    return stored if kept is None else replace(stored, thumbnail=kept)


def thumbnails_of(
    conn: sqlite3.Connection, collection: str, ids: Collection[str]
) -> dict[str, bytes]:
    """The kept thumbnails of these ids, by id."""
    rows = _rows_of_ids(conn, "SELECT id, jpeg FROM thumbnails", collection, ids)
    return {image_id: bytes(jpeg) for image_id, jpeg in rows}


def _rows_of_ids(
    conn: sqlite3.Connection, select: str, collection: str, ids: Collection[str]
) -> Iterator[Any]:
    """The rows of `select` (a SELECT ... FROM a table keyed by collection and id) for
    these ids, one statement per 30,000 ids."""
    wanted = list(ids)
    for start in range(0, len(wanted), _SQLITE_MAX_VARIABLES):
        chunk = wanted[start : start + _SQLITE_MAX_VARIABLES]
        marks = ", ".join("?" * len(chunk))
        yield from conn.execute(
            f"{select} WHERE collection = ? AND id IN ({marks})", (collection, *chunk)
        )


def nearest_images(
    conn: sqlite3.Connection,
    collection: str,
    algorithm: str,
    distances: Mapping[int, int],
    limit: int,
    exclude_id: str | None = None,
    crowded: Collection[int] = (),
    min_quality: int = 0,
    crops: bool = False,
    floor_rule: FloorRule | None = None,
) -> list[tuple[StoredImage, int, int]]:
    """The stored images carrying the codes (as their hash, or with `crops` as one of their
    crop hashes too), each once with the distance of its nearest code and that code: nearest
    first, ties by id, at most `limit`, without `exclude_id`; with a quality floor
    (`min_quality`), where the query or the image is below it, only an image at distance 0
    whose content digest is the query's (`floor_rule`), or unknown on either side.

    SQLite sorts and cuts. A join reads every image of every code, so a code that many
    images share (`crowded`: the caller's index counts them) is read on its own instead,
    in id order through the hash index and cut at `limit`: the same picture uploaded
    100,000 times costs `limit` rows, not 100,000.
    """
    # Rows stay rows (id first, then the stored hash) until they are among the kept ones:
    # crowded codes read up to `limit` rows each, mostly of the same images.
    parts: list[list[tuple[_ImageRow, int, int]]] = []
    for code in [c for c in distances if c in crowded]:
        for source, in_id_order in (_BY_HASH, _BY_CROP) if crops else (_BY_HASH,):
            where = _filters(exclude_id, min_quality, "?", floor_rule)
            rows = conn.execute(
                f"SELECT {_IMAGE_COLUMNS_OF_IMAGES} {source} {where.sql}"
                f"ORDER BY {in_id_order} LIMIT ?",
                (collection, to_sqlite(code), *where.args(distances[code]), limit),
            )
            parts.append([(row, distances[code], code) for row in rows])
    joined = [[to_sqlite(c), distances[c]] for c in distances if c not in crowded]
    if joined:
        statement = _CROP_HITS_NEAREST if crops else _HASH_HITS_NEAREST
        distance = "hits.distance" if crops else "wanted.distance"
        where = _filters(exclude_id, min_quality, distance, floor_rule)
        rows = conn.execute(
            statement.format(where=where.sql),
            (
                json.dumps(joined),
                *([collection] * (3 if crops else 1)),
                *where.args(None),
                limit,
            ),
        )
        parts.append([(row[:8], row[8], from_sqlite(row[9])) for row in rows])
    kept = parts[0] if len(parts) == 1 else _nearest_once(parts, limit)
    return [(_image(collection, algorithm, row), distance, code) for row, distance, code in kept]


def _nearest_once(
    parts: list[list[tuple[_ImageRow, int, int]]], limit: int
) -> list[tuple[_ImageRow, int, int]]:
    """Each image once, at its nearest code (its own hash first on a tie), nearest first,
    ties by id, at most `limit` (one part alone is all of that already)."""
    nearest: dict[str, tuple[_ImageRow, int, int]] = {}
    for found in (hit for part in parts for hit in part):
        row, distance, code = found
        kept = nearest.get(row[0])
        own_hash = to_sqlite(code) == row[1]
        if kept is None or distance < kept[1] or (distance == kept[1] and own_hash):
            nearest[row[0]] = found
    return sorted(nearest.values(), key=lambda hit: (hit[1], hit[0][0]))[:limit]


# A code's images read on their own (a crowded code), and the column that is their id in
# the order an index already holds them (so SQLite stops at the limit): those stored with it
# as their hash, and, in a crop_hashes collection, those with it as a crop hash. The CROSS
# JOIN keeps the crop code's rows first: left to choose, SQLite walked the collection's
# images in id order and probed each one's crop codes (tests/index/test_engine.py checks
# both plans).
_BY_HASH = (
    "FROM images INDEXED BY images_by_hash WHERE images.collection = ? AND images.hash = ? ",
    "images.id",
)
_BY_CROP = (
    "FROM crop_codes CROSS JOIN images ON images.collection = crop_codes.collection "
    "AND images.id = crop_codes.id WHERE crop_codes.collection = ? AND crop_codes.hash = ? ",
    "crop_codes.id",
)
# The wanted codes and their distances, one JSON array of [hash, distance] pairs: one
# statement text for any number of codes, compiled once and kept in the connection's
# statement cache, and no bound on variables to cut the codes by. (What a search's store
# lookup costs: scripts/bench/index.py, the engine API's reads.)
_WANTED = (
    "wanted(hash, distance) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
    "FROM json_each(?))"
)
# The images of the wanted codes, nearest first. Without statistics SQLite prefers the
# primary key's `collection = ?` and scans the whole collection: the hash index is named
# (tests/index/test_engine.py checks the plan).
_HASH_HITS_NEAREST = (
    f"WITH {_WANTED} "
    f"SELECT {_IMAGE_COLUMNS_OF_IMAGES}, wanted.distance, images.hash "
    "FROM wanted JOIN images INDEXED BY images_by_hash "
    "ON images.collection = ? AND images.hash = wanted.hash {where}"
    "ORDER BY wanted.distance, images.id LIMIT ?"
)
# In a crop_hashes collection, the same through the crop codes too, each image once at its
# nearest code, its own hash first on a tie (rank = 2 x distance + 1 for a crop code). The
# CROSS JOIN keeps SQLite's join order (the hits, then each one's image by primary key):
# left to choose, it scanned the collection's images.
# SQLite takes the bare `hits.hash` from the row that gave the MIN: a documented behaviour
# of its aggregates.
_CROP_HITS_NEAREST = (
    f"WITH {_WANTED}, hits(id, hash, distance, rank) AS ("
    "SELECT images.id, images.hash, wanted.distance, 2 * wanted.distance FROM wanted "
    "JOIN images INDEXED BY images_by_hash "
    "ON images.collection = ? AND images.hash = wanted.hash "
    "UNION ALL SELECT crop_codes.id, crop_codes.hash, wanted.distance, 2 * wanted.distance + 1 "
    "FROM wanted JOIN crop_codes ON crop_codes.collection = ? AND crop_codes.hash = wanted.hash) "
    f"SELECT {_IMAGE_COLUMNS_OF_IMAGES}, MIN(hits.rank) / 2, hits.hash "
    "FROM hits CROSS JOIN images ON images.collection = ? AND images.id = hits.id "
    "WHERE 1 {where}GROUP BY images.id ORDER BY MIN(hits.rank), images.id LIMIT ?"
)


@dataclass(frozen=True, slots=True)
class FloorRule:
    """What the quality floor needs to know of a query: whether its hash is below the floor
    (then every match is at distance 0 and must be the same file), and its content digest
    (None: unknown, when distance 0 alone decides, as before digests were kept)."""

    query_below: bool = False
    digest: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Filters:
    """The WHERE conditions of a nearest-images statement, and their arguments."""

    sql: str
    exclude_id: str | None
    min_quality: int
    rule: FloorRule

    def args(self, distance: int | None) -> tuple[str | int | bytes | None, ...]:
        spare: tuple[str | int | bytes | None, ...] = (
            () if self.exclude_id is None else (self.exclude_id,)
        )
        if not self.min_quality:
            return spare
        rule = self.rule
        at = () if distance is None else (distance,)
        return (*spare, int(rule.query_below), self.min_quality, *at, rule.digest, rule.digest)


def _filters(
    exclude_id: str | None, min_quality: int, distance: str, rule: FloorRule | None
) -> _Filters:
    """`exclude_id` left out; with a quality floor, a pair where the query or the image is
    below it kept only at `distance` (a column, or "?" for a value) 0 and with the same
    content digest, or one unknown: "AND ..." conditions."""
    sql = "" if exclude_id is None else "AND images.id != ? "
    if min_quality:
        sql += (
            "AND ((? = 0 AND (images.quality IS NULL OR images.quality >= ?)) OR "
            f"({distance} = 0 AND (? IS NULL OR images.digest IS NULL OR images.digest = ?))) "
        )
    return _Filters(sql, exclude_id, min_quality, rule or FloorRule())


def _write_image(conn: sqlite3.Connection, on_conflict: str, stored: StoredImage) -> int:
    crops = [c.value for c in stored.crops]
    cursor = conn.execute(
        f"INSERT OR {on_conflict} INTO images (collection, id, hash, metadata, sequence, "
        "added_unix_ms, quality, crops, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            stored.collection,
            stored.id,
            to_sqlite(stored.fingerprint.value),
            json.dumps(stored.metadata, ensure_ascii=False),
            stored.sequence,
            stored.added_unix_ms,
            stored.quality,
            to_blob(crops) if crops else None,
            stored.digest,
        ),
    )
    if cursor.rowcount == 1 and crops:
        conn.executemany(
            "INSERT INTO crop_codes (collection, hash, id) VALUES (?, ?, ?)",
            [(stored.collection, to_sqlite(code), stored.id) for code in crops],
        )
    if cursor.rowcount == 1 and stored.thumbnail is not None:
        conn.execute(
            "INSERT OR REPLACE INTO thumbnails (collection, id, jpeg) VALUES (?, ?, ?)",
            (stored.collection, stored.id, stored.thumbnail),
        )
    return cursor.rowcount


def upsert_image(
    conn: sqlite3.Connection,
    stored: StoredImage,
    replaced: StoredImage | None,
    thumbnails: bool = False,
) -> None:
    """Stores an image row (its crop codes, its thumbnail), replacing `replaced`, the row of
    its id (whose thumbnail, in a collection that keeps `thumbnails`, no longer shows it)."""
    if replaced is not None:
        _delete_crop_codes(conn, replaced)
        if thumbnails:
            _delete_thumbnail(conn, replaced)
    _write_image(conn, "REPLACE", stored)


def insert_image_if_absent(conn: sqlite3.Connection, stored: StoredImage) -> bool:
    """Stores an image row (and its crop codes) unless its id is taken; returns whether it
    was stored."""
    return _write_image(conn, "IGNORE", stored) == 1


def delete_image(conn: sqlite3.Connection, stored: StoredImage, thumbnails: bool = False) -> None:
    """Removes an image row, its crop codes and, in a collection that keeps `thumbnails`,
    its thumbnail."""
    _delete_crop_codes(conn, stored)
    if thumbnails:
        _delete_thumbnail(conn, stored)
    conn.execute(
        "DELETE FROM images WHERE collection = ? AND id = ?", (stored.collection, stored.id)
    )


def _delete_thumbnail(conn: sqlite3.Connection, stored: StoredImage) -> None:
    conn.execute(
        "DELETE FROM thumbnails WHERE collection = ? AND id = ?", (stored.collection, stored.id)
    )


def _delete_crop_codes(conn: sqlite3.Connection, stored: StoredImage) -> None:
    conn.executemany(
        "DELETE FROM crop_codes WHERE collection = ? AND hash = ? AND id = ?",
        [(stored.collection, to_sqlite(c.value), stored.id) for c in stored.crops],
    )


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
    conn: sqlite3.Connection,
    collection: str,
    algorithm: str,
    ids: Collection[str],
    thumbnails: bool = False,
) -> dict[str, StoredImage]:
    """The stored images among these ids, by id (one statement per 30,000 ids), with their
    kept thumbnails when asked."""
    rows = _rows_of_ids(conn, f"SELECT {_IMAGE_COLUMNS} FROM images", collection, ids)
    found = {row[0]: _image(collection, algorithm, row) for row in rows}
    if thumbnails:
        for image_id, jpeg in thumbnails_of(conn, collection, list(found)).items():
            found[image_id] = replace(found[image_id], thumbnail=jpeg)
    return found


def code_counts(conn: sqlite3.Connection, collection: str, crops: bool) -> dict[int, int]:
    """How many stored images carry each code as their own hash, and with `crops` as a crop
    hash too: what a rebuilt index of images' own hashes (or of every code) must hold."""
    counts: dict[int, int] = {}
    for table in ("images", "crop_codes") if crops else ("images",):
        rows = conn.execute(
            f"SELECT hash, COUNT(*) FROM {table} WHERE collection = ? GROUP BY hash", (collection,)
        )
        for stored_hash, n in rows:
            code = from_sqlite(stored_hash)
            counts[code] = counts.get(code, 0) + n
    return counts


def committed_sequence(conn: sqlite3.Connection) -> int:
    """The sequence number of the newest committed change (0 if none), as `conn` sees it."""
    (next_sequence,) = conn.execute("SELECT value FROM meta WHERE key = 'next_sequence'").fetchone()
    return int(next_sequence) - 1


def changes_after(
    conn: sqlite3.Connection, collection: str, sequence: int, crops: bool
) -> Iterator[tuple[int, int, int]]:
    """(code, delta, sequence) of the logged changes after `sequence`, in order: of images'
    own hashes, and with `crops` of their crop hashes too."""
    rows = conn.execute(
        "SELECT hash, delta, sequence FROM changes WHERE sequence > ? AND collection = ? "
        + ("" if crops else "AND crop = 0 ")
        + "ORDER BY sequence",
        (sequence, collection),
    )
    for stored_hash, delta, seq in rows:
        yield from_sqlite(stored_hash), delta, seq


def trim_changes(conn: sqlite3.Connection, collection: str, sequence: int) -> None:
    """Drops the log rows a snapshot covers."""
    conn.execute(
        "DELETE FROM changes WHERE collection = ? AND sequence <= ?", (collection, sequence)
    )
