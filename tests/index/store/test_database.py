"""The store's writer thread: cancelled writes and failing groups never stop it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index.store import Store, Transaction


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
