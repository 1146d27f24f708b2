"""Each storage failure SQLite or the filesystem really raises is read as its type, with a
message that names the data dir and says what to do."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from neardup.index.errors import (
    StorageBusy,
    StorageCorrupt,
    StorageFull,
    StorageReadOnly,
)
from neardup.index.store.failures import storage_failure, storage_failures


def _database(path: Path, rows: int = 2000) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x TEXT)")
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 200,)] * rows)
    conn.close()


def test_a_database_that_cannot_grow_is_storage_full(tmp_path: Path) -> None:
    _database(tmp_path / "s.db", rows=10)
    conn = sqlite3.connect(tmp_path / "s.db")
    conn.execute("PRAGMA max_page_count = 3")
    with pytest.raises(sqlite3.OperationalError) as raised:
        conn.executemany("INSERT INTO t VALUES (?)", [("y" * 500,)] * 100)
    failure = storage_failure(raised.value, tmp_path)
    assert isinstance(failure, StorageFull)
    assert str(tmp_path) in str(failure) and "space is freed" in str(failure)


def test_a_write_through_a_read_only_connection_is_storage_read_only(tmp_path: Path) -> None:
    _database(tmp_path / "s.db", rows=1)
    conn = sqlite3.connect(f"file:{tmp_path / 's.db'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as raised:
        conn.execute("INSERT INTO t VALUES ('z')")
    assert isinstance(storage_failure(raised.value, tmp_path), StorageReadOnly)


def test_a_lock_held_elsewhere_is_storage_busy(tmp_path: Path) -> None:
    _database(tmp_path / "s.db", rows=1)
    holder = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(tmp_path / "s.db", timeout=0)
    with pytest.raises(sqlite3.OperationalError) as raised:
        other.execute("INSERT INTO t VALUES ('z')")
    assert isinstance(storage_failure(raised.value, tmp_path), StorageBusy)
    holder.execute("ROLLBACK")


def test_a_damaged_page_is_storage_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _database(path)
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 6] = b"\xa5" * (4096 * 4)  # table pages, past the header page
    path.write_bytes(bytes(data))
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.DatabaseError) as raised:
        conn.execute("SELECT count(*), max(length(x)) FROM t").fetchall()
    failure = storage_failure(raised.value, tmp_path)
    assert isinstance(failure, StorageCorrupt)
    assert "backup" in str(failure)


def test_a_file_write_on_a_full_device_is_storage_full(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with (
        pytest.raises(StorageFull),
        storage_failures(tmp_path),
        open("/dev/full", "wb", buffering=0) as f,
    ):
        f.write(b"x")


def test_errors_that_are_not_the_storage_s_pass_through(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as raised:
        conn.execute("SELECT * FROM no_such_table")
    assert storage_failure(raised.value, tmp_path) is None  # a bug: it stays a bug
    with pytest.raises(ValueError), storage_failures(tmp_path):
        raise ValueError("not storage")
