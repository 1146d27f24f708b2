"""An index that fails to apply committed changes: the collection refuses searches until it
is rebuilt from the store, and comes back whole without a restart.

The failure is injected into the real index's `apply` after the store has committed; the
rebuild is the real one (SQLite to FAISS), held back by an event where a test needs to look
at the collection while it is stale.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint
from neardup.index import sync as sync_module
from neardup.index.errors import IndexUnavailable

SETTINGS = EngineSettings(maintenance_interval_seconds=0.05)
BOUND_SECONDS = 60.0


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", SETTINGS) as opened:
        yield opened


def fail_next_apply(engine: Engine, half_applied: bool = True) -> None:
    """The collection's index fails its next `apply`, after applying the first change when
    `half_applied` (the worst case: the index neither has the batch nor lacks it). Fault
    injection reaches the engine's own index, past the read-only inspection API."""
    index = engine._get("").index
    original = index.apply

    def failing(codes: Sequence[int], deltas: Sequence[int], sequence: int) -> None:
        index.apply = original  # type: ignore[method-assign]
        if half_applied:
            original(codes[:1], deltas[:1], sequence)
        raise RuntimeError("injected: the index could not apply the batch")

    index.apply = failing  # type: ignore[method-assign]


def until_searchable(search: Callable[[], Any]) -> Any:
    """The search's answer once the collection serves again; IndexUnavailable meanwhile is
    the only other answer allowed, and only for a bounded time."""
    deadline = time.monotonic() + BOUND_SECONDS
    while True:
        try:
            return search()
        except IndexUnavailable:
            assert time.monotonic() < deadline, "the collection did not recover"
            time.sleep(0.01)


def test_an_add_acknowledged_after_a_failed_apply_is_found_or_refused_never_missing(
    engine: Engine,
) -> None:
    engine.add("", "before", fp(0b1))
    broken = engine._get("").index
    fail_next_apply(engine)
    engine.add("", "after", fp(0b1 << 40))  # acknowledged: durable
    found = until_searchable(lambda: engine.search("", [fp(0b1 << 40)], radius=0))
    assert [m.image.id for m in found.matches] == ["after"]
    assert not engine.inspect("").is_of(broken)  # rebuilt in place: no restart
    assert engine.inspect("").live_codes() == {0b1: 1, 0b1 << 40: 1}


def test_a_stale_collection_refuses_searches_and_duplicate_checks_but_keeps_writing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_rebuild = sync_module.rebuild_index

    def held_rebuild(*args: Any) -> Any:
        assert release.wait(BOUND_SECONDS)
        return real_rebuild(*args)

    monkeypatch.setattr(sync_module, "rebuild_index", held_rebuild)
    engine.add("", "a", fp(0xA))
    fail_next_apply(engine)
    engine.add("", "b", fp(0xB0000))
    with pytest.raises(IndexUnavailable, match="rebuilding its index"):
        engine.search("", [fp(0xA)], radius=0)
    with pytest.raises(IndexUnavailable):
        engine.add("", "c", fp(0xC00000000))  # its duplicate check needs the index
    with pytest.raises(IndexUnavailable):
        engine.snapshot("")  # a stale index must not replace a good snapshot
    # Writes that need no search go on, durable; the rebuild and its catch-up bring them in.
    assert engine.add_batch("", [("d", fp(0xD << 50), {})]) == [True]
    engine.delete("", ["a"])
    release.set()
    found = until_searchable(lambda: engine.search("", [fp(0xD << 50)], radius=0))
    assert [m.image.id for m in found.matches] == ["d"]
    assert engine.inspect("").live_codes() == {0xB0000: 1, 0xD << 50: 1}
    assert engine.search("", [fp(0xA)], radius=0).matches == []


def test_a_collection_that_recovered_serves_and_snapshots_as_before(
    tmp_path: Path,
) -> None:
    with Engine(tmp_path / "data", SETTINGS) as engine:
        fail_next_apply(engine, half_applied=False)
        engine.add("", "x", fp(0x1234))
        until_searchable(lambda: engine.search("", [fp(0x1234)], radius=0))
        result = engine.add("", "y", fp(0x1235))
        assert [m.image.id for m in result.duplicates] == ["x"]
        [snapshot] = engine.snapshot("")
        assert snapshot.sequence == engine.inspect_store().last_sequence
    with Engine(tmp_path / "data", SETTINGS) as reopened:
        assert reopened.inspect("").live_codes() == {0x1234: 1, 0x1235: 1}
