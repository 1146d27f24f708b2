"""The durable store: SQLite in the data dir, the source of truth, with group commit.

Tables:
- `collections`: name, uid (never reused, names snapshot files), algorithm, default radius,
  index parameters (JSON), creation time.
- `images`: the live images: (collection, id) -> hash, metadata (JSON string map), the
  sequence number of the write that stored it, time added, quality score, its file's
  content digest (SHA-256; NULL: unknown), and the hashes of its centre crops (8 bytes
  each, big-endian; NULL without) in a `crop_hashes` collection.
- `crop_codes`: those crop hashes again, keyed by (collection, hash): the codes a search
  finds lead back to the images they are crops of.
- `changes`: the append-only log of what the indexes must apply, one row per +1 (an image
  stored with a code) or -1 (an image removed: a delete's tombstone, or a replace's old
  code), and whether the code is a crop hash, numbered by a sequence that increases across
  the whole store. Start-up replays the rows after a snapshot's sequence; rows a snapshot
  covers are trimmed.
- `meta`: the schema version and the next sequence number.

Durability: WAL with `synchronous=FULL`, so a commit returns once it is on disk. Every write
runs as an *operation* (a function of a `Transaction`) on one writer thread; operations
waiting together share one transaction and one fsync (group commit), each inside its own
savepoint so that one failing operation fails alone. After the commit the store hands the
transaction's effects to the `on_commit` hook (the engine applies them to its indexes), and
only then resolves the operations' futures: an acknowledged write is durable and visible.

Thread-safety: `submit` from any thread; the queue is bounded, so writers block (back-
pressure) instead of queuing without limit. `reader()` gives each thread its own read-only
connection; WAL lets reads run beside the writer.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import DataDirInUse, IncompatibleDataDir, StorageBusy, StoreClosed
from ..fingerprint.value import to_sqlite
from .failures import storage_failure, storage_failures

__all__ = ["SCHEMA_VERSION", "Change", "Store", "Transaction"]

log = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 6
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS collections (
    name TEXT PRIMARY KEY,
    uid INTEGER NOT NULL UNIQUE,
    algorithm TEXT NOT NULL,
    default_radius INTEGER NOT NULL,
    params TEXT NOT NULL,
    created_unix_ms INTEGER NOT NULL,
    min_quality INTEGER NOT NULL DEFAULT 0,
    crop_hashes INTEGER NOT NULL DEFAULT 0,
    thumbnails INTEGER NOT NULL DEFAULT 0,
    orientations INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS images (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    hash INTEGER NOT NULL,
    metadata TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    added_unix_ms INTEGER NOT NULL,
    quality INTEGER,
    crops BLOB,
    digest BLOB,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS images_by_hash ON images (collection, hash);
CREATE TABLE IF NOT EXISTS crop_codes (
    collection TEXT NOT NULL,
    hash INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (collection, hash, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS thumbnails (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    jpeg BLOB NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (
    sequence INTEGER PRIMARY KEY,
    collection TEXT NOT NULL,
    hash INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    crop INTEGER NOT NULL DEFAULT 0
);
"""
# Version 1 -> 2: hashes get a quality score (NULL: unknown, as for every row written
# before), collections a quality floor (0: none), and the border trim changes `phash`, so
# the collections hashed before it are renamed to the algorithm that made their hashes.
_MIGRATE_FROM_1 = """
ALTER TABLE images ADD COLUMN quality INTEGER;
ALTER TABLE collections ADD COLUMN min_quality INTEGER NOT NULL DEFAULT 0;
UPDATE collections SET algorithm = 'phash-1' WHERE algorithm = 'phash';
UPDATE meta SET value = 2 WHERE key = 'schema';
"""
# Version 2 -> 3: crop hashes (none for every image and collection written before).
_MIGRATE_FROM_2 = """
ALTER TABLE images ADD COLUMN crops BLOB;
ALTER TABLE collections ADD COLUMN crop_hashes INTEGER NOT NULL DEFAULT 0;
CREATE TABLE crop_codes (
    collection TEXT NOT NULL,
    hash INTEGER NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (collection, hash, id)
) WITHOUT ROWID;
UPDATE meta SET value = 3 WHERE key = 'schema';
"""
# Version 3 -> 4: `phash` finds borders on one grid for every picture size; the collections
# hashed before are renamed to the algorithm that made their hashes.
_MIGRATE_FROM_3 = """
UPDATE collections SET algorithm = 'phash-2' WHERE algorithm = 'phash';
UPDATE meta SET value = 4 WHERE key = 'schema';
"""
# Version 4 -> 5: collections may keep thumbnails (none did before), in a table of their
# own so that the images' rows, which every list and search reads, stay small; and their
# duplicate checks may match an upload's orientations (none did before).
_MIGRATE_FROM_4 = """
ALTER TABLE collections ADD COLUMN thumbnails INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN orientations INTEGER NOT NULL DEFAULT 0;
CREATE TABLE thumbnails (
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    jpeg BLOB NOT NULL,
    PRIMARY KEY (collection, id)
) WITHOUT ROWID;
UPDATE meta SET value = 5 WHERE key = 'schema';
"""
# Version 5 -> 6: a crop_hashes collection keeps its images' own hashes and its crop hashes in
# indexes of their own, so the log says which a change is (every row before was logged when
# one index held both: those collections rebuild their indexes from the images once); and
# images keep their file's content digest (unknown for every image stored before).
_MIGRATE_FROM_5 = """
ALTER TABLE changes ADD COLUMN crop INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN digest BLOB;
UPDATE meta SET value = 6 WHERE key = 'schema';
"""
_MIGRATIONS = {
    1: _MIGRATE_FROM_1,
    2: _MIGRATE_FROM_2,
    3: _MIGRATE_FROM_3,
    4: _MIGRATE_FROM_4,
    5: _MIGRATE_FROM_5,
}


@dataclass(frozen=True, slots=True)
class Change:
    """One image stored with (`delta` +1) or removed from (-1) a code of a collection;
    `crop`: the code is one of the image's crop hashes (a crop_hashes collection's index of
    every code takes both kinds, its index of images' own hashes only the others)."""

    collection: str
    code: int
    delta: int
    sequence: int
    crop: bool = False


@dataclass
class Transaction:
    """What an operation sees: the writer's connection inside the group's transaction.

    `change` logs an index change (durable with the transaction); `after_commit` registers
    a callable to run, in order with the changes, once the transaction is on disk.
    """

    conn: sqlite3.Connection
    next_sequence: int
    effects: list[Change | Callable[[], None]] = field(default_factory=list)

    def change(self, collection: str, code: int, delta: int, crop: bool = False) -> int:
        """Logs +1 / -1 for a code (`crop`: a crop hash); returns its sequence number."""
        sequence = self.next_sequence
        self.next_sequence += 1
        self.conn.execute(
            "INSERT INTO changes (sequence, collection, hash, delta, crop) VALUES (?, ?, ?, ?, ?)",
            (sequence, collection, to_sqlite(code), delta, int(crop)),
        )
        self.effects.append(Change(collection, code, delta, sequence, crop))
        return sequence

    def after_commit(self, effect: Callable[[], None]) -> None:
        """Runs `effect` on the writer thread after the commit, before acknowledging."""
        self.effects.append(effect)

    def pending_changes(self, collection: str) -> Iterator[Change]:
        """Changes of this transaction not yet applied to the index (earlier operations)."""
        for effect in self.effects:
            if isinstance(effect, Change) and effect.collection == collection:
                yield effect


@dataclass
class _Job(Generic[T]):
    op: Callable[[Transaction], T]
    exclusive: bool
    future: Future[T] = field(default_factory=Future)


_STOP = object()
_READER_MMAP_BYTES = 1 << 40


class Store:
    """The SQLite store and its group-committing writer thread."""

    def __init__(
        self,
        path: Path,
        on_commit: Callable[[list[Change | Callable[[], None]]], None],
        *,
        max_group: int = 4096,
        queue_size: int = 65_536,
    ) -> None:
        self.path = path
        self._on_commit = on_commit
        self._max_group = max_group
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._conn = self._open()
        self._next_sequence = self._meta("next_sequence")
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._groups = 0
        self._writer = threading.Thread(target=self._write_loop, name="store-writer", daemon=True)
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        return conn

    def _open(self) -> sqlite3.Connection:
        """The writer's connection to a store of our schema version (created when the file
        is new); IncompatibleDataDir, and nothing changed, for any other file."""
        conn: sqlite3.Connection | None = None
        try:
            conn = self._connect()
            self._check_schema(conn)
        except sqlite3.OperationalError as exc:
            if conn is not None:
                conn.close()
            failure = storage_failure(exc, self.path.parent)
            if failure is not None and not isinstance(failure, StorageBusy):
                raise failure from exc  # full, read-only, an I/O error: say which
            raise DataDirInUse(
                f"{self.path} cannot be opened ({exc}); another process may hold it: stop it "
                "and start again"
            ) from exc
        except sqlite3.DatabaseError as exc:  # not an SQLite file at all
            if conn is not None:
                conn.close()
            raise IncompatibleDataDir(
                f"{self.path} is not a neardup store ({exc}); point --data-dir at another "
                "folder, or move the file away"
            ) from exc
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        return conn

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:  # a new store: the schema and its version in one transaction
            conn.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} INSERT INTO meta (key, value) VALUES "
                f"('schema', {SCHEMA_VERSION}), ('next_sequence', 1); COMMIT;"
            )
            return
        row = None
        if "meta" in tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is None:
            raise IncompatibleDataDir(
                f"{self.path} is an SQLite database but not a neardup store; point --data-dir "
                "at another folder"
            )
        if row[0] in _MIGRATIONS:
            log.warning(
                "upgrading %s from schema version %d to %d", self.path, row[0], SCHEMA_VERSION
            )
            steps = " ".join(_MIGRATIONS[v] for v in range(row[0], SCHEMA_VERSION))
            conn.executescript(f"BEGIN IMMEDIATE; {steps} COMMIT;")
            return
        if row[0] != SCHEMA_VERSION:
            raise IncompatibleDataDir(
                f"{self.path} holds a neardup store of schema version {row[0]}; this neardup "
                f"reads version {SCHEMA_VERSION}. Run the neardup release that wrote it, or "
                "index the images again into a new data dir (neardup build)"
            )

    def _meta(self, key: str) -> int:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    @property
    def last_sequence(self) -> int:
        """The sequence number of the newest committed change (0 if none)."""
        return self._next_sequence - 1

    @property
    def groups_committed(self) -> int:
        """Transactions committed so far (group commit: fewer than the operations)."""
        return self._groups

    @property
    def queue_depth(self) -> int:
        """Operations waiting for the writer."""
        return self._queue.qsize()

    # -- writes ---------------------------------------------------------------------------
    def submit(self, op: Callable[[Transaction], T], *, exclusive: bool = False) -> Future[T]:
        """Queues an operation; its future resolves once it is committed (or failed).

        exclusive: run it in a transaction of its own (collection creation and drops, whose
        after-commit effects change what later operations see).
        """
        if self._closed:
            raise StoreClosed("the store is closed")
        job: _Job[T] = _Job(op, exclusive)
        self._queue.put(job)
        return job.future

    def run(self, op: Callable[[Transaction], T], *, exclusive: bool = False) -> T:
        """Submits an operation and waits for it."""
        return self.submit(op, exclusive=exclusive).result()

    def _write_loop(self) -> None:
        carried: Any = None
        while True:
            job = carried if carried is not None else self._queue.get()
            carried = None
            if job is _STOP:
                return
            # A job whose caller cancelled its future before it was taken never runs; once
            # taken (running) its future can no longer be cancelled, so settling it is safe.
            group = [job] if job.future.set_running_or_notify_cancel() else []
            while not job.exclusive and len(group) < self._max_group:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP or nxt.exclusive:
                    carried = nxt
                    break
                if nxt.future.set_running_or_notify_cancel():
                    group.append(nxt)
            if not group:
                continue
            try:
                self._commit(group)
            except Exception as exc:  # the writer must outlive any one group
                log.exception("store writer: a group failed unexpectedly")
                for failed in group:
                    if not failed.future.done():
                        failed.future.set_exception(exc)

    def _commit(self, group: list[_Job[Any]]) -> None:
        txn = Transaction(self._conn, self._next_sequence)
        outcomes: list[tuple[bool, Any]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for job in group:
                mark = len(txn.effects)
                self._conn.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, job.op(txn)))
                    self._conn.execute("RELEASE op")
                except Exception as exc:
                    self._conn.execute("ROLLBACK TO op")
                    self._conn.execute("RELEASE op")
                    del txn.effects[mark:]
                    outcomes.append((False, self._failure(exc)))
            self._conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'next_sequence'", (txn.next_sequence,)
            )
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("store commit failed: %s", exc)
            self._roll_back()
            failure = self._failure(exc)
            for job in group:
                job.future.set_exception(failure)
            return
        self._next_sequence = txn.next_sequence
        self._groups += 1
        try:
            self._on_commit(txn.effects)
        except Exception as exc:
            # Committed, but the hook could not make it visible: not acknowledged as done
            # (the hook's owner resynchronises from the store; a retry finds it stored).
            log.exception("applying committed changes failed")
            outcomes = [(False, exc)] * len(group)
        for job, (ok, value) in zip(group, outcomes, strict=True):
            if ok:
                job.future.set_result(value)
            else:
                job.future.set_exception(value)

    def _failure(self, exc: Exception) -> Exception:
        """A storage failure as its `StorageFailure` type; any other error as it is."""
        return storage_failure(exc, self.path.parent) or exc

    def _roll_back(self) -> None:
        """Ends a failed transaction. SQLite may have rolled it back already (a full disk
        does), and a rollback that fails leaves the connection usable for the next one."""
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error as exc:
            log.error("store rollback failed: %s", exc)

    # -- reads ----------------------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """This thread's read-only connection, its storage failures raised as their types."""
        with storage_failures(self.path.parent):
            yield self.reader()

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection (sees every committed write)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreClosed("the store is closed")
            conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            # Reads through a memory map instead of a read() per page: a search's lookup of
            # its few matches makes fewer system calls. SQLite caps the size at its
            # compile-time limit (2 GB by default).
            conn.execute(f"PRAGMA mmap_size={_READER_MMAP_BYTES}")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    @contextmanager
    def snapshot_read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several queries that see one committed state."""
        with self.read() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        """Finishes the queued operations, then closes every connection."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._writer.join()
        self._conn.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
