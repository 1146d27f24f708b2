"""The store: its writer thread (cancelled writes and failing groups never stop it), and
the schema version it checks on open."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index.errors import IncompatibleDataDir
from neardup.index.store import SCHEMA_VERSION, Store, Transaction


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "store.sqlite3", on_commit=lambda effects: None)
    yield opened
    opened.close()


def _changes(store: Store) -> list[int]:
    rows = store.reader().execute("SELECT hash FROM changes ORDER BY sequence").fetchall()
    return [row[0] for row in rows]


def test_a_write_cancelled_before_the_writer_takes_it_never_runs_and_later_writes_do(
    store: Store,
) -> None:
    writer_busy, release = threading.Event(), threading.Event()

    def hold(txn: Transaction) -> None:
        writer_busy.set()
        release.wait(10)

    first = store.submit(hold, exclusive=True)
    assert writer_busy.wait(10)
    cancelled = store.submit(lambda txn: txn.change("c", 1, +1))
    assert cancelled.cancel()  # still queued: the caller gave up (a cancelled call)
    release.set()
    first.result(10)
    assert store.run(lambda txn: txn.change("c", 2, +1)) > 0
    assert _changes(store) == [2]


def test_a_write_already_taken_cannot_be_cancelled_and_completes(store: Store) -> None:
    started, release = threading.Event(), threading.Event()

    def slow(txn: Transaction) -> int:
        started.set()
        release.wait(10)
        return txn.change("c", 3, +1)

    running = store.submit(slow)
    assert started.wait(10)
    assert not running.cancel()
    release.set()
    assert running.result(10) > 0
    assert _changes(store) == [3]


def test_a_failing_operation_fails_alone_and_the_writer_goes_on(store: Store) -> None:
    def broken(txn: Transaction) -> None:
        txn.change("c", 4, +1)
        raise ValueError("bad operation")

    with pytest.raises(ValueError, match="bad operation"):
        store.run(broken)
    store.run(lambda txn: txn.change("c", 5, +1))
    assert _changes(store) == [5]  # the failed operation's change was rolled back


def _schema_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])


def test_a_new_store_records_its_schema_version(tmp_path: Path) -> None:
    Store(tmp_path / "s.sqlite3", on_commit=lambda effects: None).close()
    assert _schema_version(tmp_path / "s.sqlite3") == SCHEMA_VERSION


def test_a_store_of_another_schema_version_is_refused_unchanged_with_what_to_do(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    Store(path, on_commit=lambda effects: None).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema'")
    before = path.read_bytes()
    with pytest.raises(IncompatibleDataDir) as refused:
        Store(path, on_commit=lambda effects: None)
    message = str(refused.value)
    assert "schema version 99" in message
    assert f"reads version {SCHEMA_VERSION}" in message
    assert "new data dir" in message
    assert path.read_bytes() == before
    assert not [t for t in threading.enumerate() if t.name == "store-writer"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a database at all, just text\n" * 200, "not a neardup store"),
        (None, "not a neardup store"),
    ],
)
def test_a_file_that_is_not_a_neardup_store_is_refused(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "s.sqlite3"
    if content is None:  # an SQLite database of someone else's
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE photos (id TEXT)")
    else:
        path.write_bytes(content)
    with pytest.raises(IncompatibleDataDir, match=reason):
        Store(path, on_commit=lambda effects: None)


def test_a_store_another_process_holds_locked_is_in_use_not_incompatible(tmp_path: Path) -> None:
    from neardup.index.errors import DataDirInUse

    path = tmp_path / "s.sqlite3"
    Store(path, on_commit=lambda effects: None).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DataDirInUse, match="another process may hold it"):
            Store(path, on_commit=lambda effects: None)
    finally:
        holder.execute("COMMIT")
        holder.close()
    Store(path, on_commit=lambda effects: None).close()


def test_a_store_of_every_earlier_schema_is_upgraded_to_the_current_one(tmp_path: Path) -> None:
    from neardup.index import Engine

    from .old_schemas import as_schema

    for version in range(1, SCHEMA_VERSION):
        data = tmp_path / f"v{version}"
        with Engine(data):
            pass
        as_schema(data / "neardup.sqlite3", version)
        with Engine(data) as upgraded:  # the settings the collection was made with
            assert not upgraded.collection("").thumbnails
            assert upgraded.collection("").orientations == (version >= 5)
        assert _schema_version(data / "neardup.sqlite3") == SCHEMA_VERSION
