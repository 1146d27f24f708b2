"""Restarts: the newest snapshot plus the store's newer changes, or a rebuild from the store.

A missing, corrupt or foreign snapshot never stops a start and never loses a write.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams, SearchPath
from neardup.index.code_sets import CodeSet
from neardup.index.persistence.recovery import LoadReport
from neardup.index.persistence.snapshot import SnapshotInvalid, read_snapshot

from ..conftest import SCANS_DEAR

QUIET = EngineSettings(maintenance_interval_seconds=3600)


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


def fill(data: Path, n: int, start: int = 0) -> None:
    with Engine(data, QUIET) as engine:
        for i in range(start, start + n):
            engine.submit_add("", f"img{i}", fp(i * 0x9E3779B97F4A7C15 % 2**64))
        engine.add("", "last", fp(1), find_duplicates=False)


def assert_all_present(engine: Engine, n: int) -> None:
    assert engine.collection("").image_count == n + 1
    for i in range(0, n, 37):
        [match] = engine.search("", [fp(i * 0x9E3779B97F4A7C15 % 2**64)], radius=0).matches
        assert match.image.id == f"img{i}"


def snapshot_file(data: Path) -> Path:
    """The snapshot of the default collection's index of its images' own hashes."""
    [path] = (data / "snapshots").glob("*-images.snap")
    return path


def images_report(engine: Engine) -> LoadReport:
    """How the default collection's index of its images' own hashes came back."""
    [report] = [r for r in engine.load_reports if r.codes is CodeSet.IMAGES]
    return report


def test_a_clean_restart_loads_the_snapshot_written_at_close(tmp_path: Path) -> None:
    fill(tmp_path, 500)
    with Engine(tmp_path, QUIET) as engine:
        assert {(r.source, r.replayed) for r in engine.load_reports} == {("snapshot", 0)}
        assert_all_present(engine, 500)


def test_changes_after_the_snapshot_are_replayed(tmp_path: Path) -> None:
    fill(tmp_path, 300)
    with Engine(tmp_path, QUIET) as engine:
        for i in range(300, 400):
            engine.add("", f"img{i}", fp(i * 0x9E3779B97F4A7C15 % 2**64))
        engine.delete("", ["last"])
        engine.close(final_snapshot=False)  # as if killed: the log holds the rest
    with Engine(tmp_path, QUIET) as engine:
        report = images_report(engine)
        assert (report.source, report.replayed) == ("snapshot", 101)
        assert_all_present(engine, 399)
        assert engine.collection("").image_count == 400


@pytest.mark.parametrize("kind", ["hnsw", "tables"])
def test_a_restart_searches_the_substring_tables_the_snapshot_kept_before_any_rebuild(
    tmp_path: Path, kind: str, tables_made: list[int]
) -> None:
    tabled = replace(
        QUIET, index=IndexParams(kind=kind, exact_threshold=0, substring_tables_min_codes=1000)
    )
    with Engine(tmp_path, tabled, costs=SCANS_DEAR) as engine:
        engine.create_collection("t", crop_hashes=False)  # one index: one set of tables
        engine.add_batch(
            "t", [(f"img{i}", fp(i * 0x9E3779B97F4A7C15 % 2**64), {}) for i in range(3000)]
        )
        engine.inspect("t").settle()
        covered = engine.inspect("t").tables_covered
    assert covered == 3000
    tables_made.clear()
    with Engine(tmp_path, tabled, costs=SCANS_DEAR) as engine:
        assert engine.inspect("t").tables_covered == covered
        query = 7 * 0x9E3779B97F4A7C15 % 2**64 ^ 0b101
        found = engine.search("t", [fp(query)], k=10, radius=10)
        assert [m.image.id for m in found.matches] == ["img7"]
        assert found.path is SearchPath.TABLES
    assert tables_made == [1]  # loaded: nothing was sorted anew


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "delete", "empty"])
def test_a_damaged_or_missing_snapshot_means_a_rebuild_from_the_store(
    tmp_path: Path, damage: str
) -> None:
    fill(tmp_path, 400)
    path = snapshot_file(tmp_path)
    data = bytearray(path.read_bytes())
    if damage == "flip a byte":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(data)
    elif damage == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
    if damage != "delete":
        with pytest.raises(SnapshotInvalid):
            read_snapshot(path)
    with Engine(tmp_path, QUIET) as engine:
        report = images_report(engine)
        assert report.source == "rebuild" and report.reason
        assert_all_present(engine, 400)
    with Engine(tmp_path, QUIET) as engine:  # the rebuild was snapshotted at close
        assert images_report(engine).source == "snapshot"


def test_a_recreated_collection_never_loads_the_dropped_one_s_snapshot(tmp_path: Path) -> None:
    with Engine(tmp_path, QUIET) as engine:
        engine.create_collection("c")
        engine.add("c", "old", fp(5))
        engine.snapshot("c")
        stale = (tmp_path / "snapshots").glob("*.snap")
        saved = {p.name: p.read_bytes() for p in stale}
        engine.drop_collection("c")
        engine.create_collection("c")
        engine.add("c", "new", fp(6))
        engine.close(final_snapshot=False)
    for name, content in saved.items():  # as if the drop's unlink never happened
        (tmp_path / "snapshots" / name).write_bytes(content)
    with Engine(tmp_path, QUIET) as engine:
        assert [m.image.id for m in engine.search("c", [fp(5)], radius=4).matches] == ["new"]


def test_maintenance_snapshots_after_enough_writes_and_trims_the_log(tmp_path: Path) -> None:
    settings = EngineSettings(snapshot_every_writes=50, maintenance_interval_seconds=0.02)
    with Engine(tmp_path, settings) as engine:
        for i in range(60):
            engine.add("", f"m{i}", fp(i << 20), find_duplicates=False)
        log_length = "SELECT COUNT(*) FROM changes"
        deadline = time.monotonic() + 10
        # the snapshot is recorded first, then the log it covers is trimmed
        while time.monotonic() < deadline and (
            engine.stats("").snapshot_sequence < 50
            or engine.inspect_store().reader().execute(log_length).fetchone()[0] > 60 - 50
        ):
            time.sleep(0.02)
        stats = engine.stats("")
        assert stats.snapshot_sequence >= 50 and stats.snapshot_bytes > 0
        assert stats.snapshot_age_seconds >= 0
        (left,) = engine.inspect_store().reader().execute(log_length).fetchone()
        assert left <= 60 - 50


def test_maintenance_compacts_when_dead_slots_pass_the_threshold(tmp_path: Path) -> None:
    settings = EngineSettings(
        compact_min_dead=10, compact_dead_fraction=0.2, maintenance_interval_seconds=0.02
    )
    with Engine(tmp_path, settings) as engine:
        for i in range(100):
            engine.add("", f"d{i}", fp(i << 12), find_duplicates=False)
        engine.delete("", [f"d{i}" for i in range(50)])
        deadline = time.monotonic() + 10
        while engine.stats("").dead_slots and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.stats("").dead_slots == 0
        assert engine.inspect("").slot_count == 50
        assert [m.image.id for m in engine.search("", [fp(70 << 12)], radius=0).matches] == ["d70"]
