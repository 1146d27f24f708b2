"""Engine: durable adds with near-duplicates, deletes, searches, collections, restarts.

Real SQLite files and real FAISS indexes in a temporary data dir.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from neardup.index import (
    AddOutcome,
    Engine,
    EngineSettings,
    Fingerprint,
    IndexParams,
    OnExistingId,
    Orientation,
    SearchPath,
)
from neardup.index.errors import (
    AlgorithmMismatch,
    CollectionExists,
    DataDirInUse,
    IdExists,
    InvalidArgument,
    UnknownCollection,
    UnknownId,
)

from .conftest import SCANS_DEAR

QUIET = EngineSettings(maintenance_interval_seconds=3600)


def fp(value: int, algorithm: str = "phash") -> Fingerprint:
    return Fingerprint(value, algorithm)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", QUIET) as opened:
        yield opened


def ids(matches: object) -> list[str]:
    return [m.image.id for m in matches]  # type: ignore[attr-defined]


def test_a_new_data_dir_has_the_default_collection(engine: Engine) -> None:
    [info] = engine.collections()
    assert (info.name, info.algorithm, info.default_radius, info.image_count) == (
        "default",
        "phash",
        8,
        0,
    )
    assert info.crop_hashes and info.orientations


def test_add_reports_the_near_duplicates_already_stored(engine: Engine) -> None:
    engine.add("", "a", fp(0b1111))
    engine.add("", "far", fp(0xFFFF_FFFF_0000_0000))
    result = engine.add("", "b", fp(0b0111), metadata={"source": "upload"})
    assert result.outcome is AddOutcome.ADDED
    assert [(m.image.id, m.distance) for m in result.duplicates] == [("a", 1)]
    assert result.image.metadata == {"source": "upload"}
    assert engine.get("", "b").sequence == result.image.sequence


def test_reject_duplicates_stores_nothing_when_one_exists(engine: Engine) -> None:
    engine.add("", "a", fp(0b1111))
    result = engine.add("", "b", fp(0b0111), reject_duplicates=True, duplicate_radius=2)
    assert result.outcome is AddOutcome.REJECTED_DUPLICATE
    with pytest.raises(UnknownId):
        engine.get("", "b")
    far = engine.add("", "c", fp(0b1111 << 40), reject_duplicates=True, duplicate_radius=2)
    assert far.outcome is AddOutcome.ADDED


def test_concurrent_uploads_of_one_picture_store_it_once_with_reject_duplicates(
    engine: Engine,
) -> None:
    futures = [
        engine.submit_add("", f"copy-{i}", fp(0xABCDEF ^ (i & 1)), reject_duplicates=True)
        for i in range(50)
    ]
    outcomes = [f.result().outcome for f in futures]
    assert outcomes.count(AddOutcome.ADDED) == 1
    assert engine.collection("").image_count == 1


def test_an_existing_id_is_refused_replaced_or_skipped_as_asked(engine: Engine) -> None:
    engine.add("", "x", fp(1), metadata={"v": "1"})
    with pytest.raises(IdExists, match="replace or skip"):
        engine.add("", "x", fp(2))
    skipped = engine.add("", "x", fp(2), on_existing=OnExistingId.SKIP)
    assert skipped.outcome is AddOutcome.SKIPPED_EXISTING and skipped.image.fingerprint == fp(1)
    replaced = engine.add("", "x", fp(2), metadata={"v": "2"}, on_existing=OnExistingId.REPLACE)
    assert replaced.outcome is AddOutcome.REPLACED
    assert engine.get("", "x").metadata == {"v": "2"}
    assert ids(engine.search("", [fp(1)], radius=0).matches) == []
    assert ids(engine.search("", [fp(2)], radius=0).matches) == ["x"]


def test_delete_removes_ids_and_reports_the_unknown_ones(engine: Engine) -> None:
    for i in range(5):
        engine.add("", f"id{i}", fp(i))
    result = engine.delete("", ["id1", "id3", "nope", "id1"])
    assert (result.deleted, result.not_found) == (2, ["nope"])
    assert ids(engine.search("", [fp(0)], radius=64).matches) == ["id0", "id2", "id4"]


def test_matches_are_nearest_first_with_ties_by_id(engine: Engine) -> None:
    for image_id, value in [("d", 0b11), ("c", 0b1), ("b", 0b10), ("a", 0)]:
        engine.add("", image_id, fp(value))
    result = engine.search("", [fp(0)], k=10)
    assert [(m.image.id, m.distance) for m in result.matches] == [
        ("a", 0),
        ("b", 1),
        ("c", 1),
        ("d", 2),
    ]
    assert result.path is SearchPath.EXACT
    assert ids(engine.search("", [fp(0)], k=2).matches) in (["a", "b"], ["a", "c"])
    assert ids(engine.search("", [fp(0)], radius=1).matches) == ["a", "b", "c"]


def test_images_with_the_same_hash_are_all_returned(engine: Engine) -> None:
    for image_id in ("one", "two", "three"):
        engine.add("", image_id, fp(77))
    assert ids(engine.search("", [fp(77)], k=2).matches) == ["one", "three"]
    assert engine.stats("").code_count == 1


def test_a_code_many_images_share_yields_the_first_ids_up_to_the_bound(engine: Engine) -> None:
    # The same picture uploaded again and again: each add and search reads at most its bound.
    engine.add_batch("", [(f"copy{i:03d}", fp(5), {}) for i in range(300)])
    engine.add("", "near", fp(4))
    assert ids(engine.search("", [fp(5)], k=3).matches) == ["copy000", "copy001", "copy002"]
    assert ids(engine.search("", [fp(4)], k=2).matches) == ["near", "copy000"]
    assert ids(engine.search_by_id("", "copy000", k=2, exclude_id="copy000").matches) == [
        "copy001",
        "copy002",
    ]
    radius = engine.search("", [fp(5)], radius=1)
    assert len(radius.matches) == 301 and radius.matches[-1].image.id == "near"
    added = engine.add("", "again", fp(5), max_duplicates=4)
    assert ids(added.duplicates) == ["copy000", "copy001", "copy002", "copy003"]


def test_search_by_id_can_leave_the_query_image_out(engine: Engine) -> None:
    engine.add("", "q", fp(0))
    engine.add("", "near", fp(1))
    assert ids(engine.search_by_id("", "q", k=5).matches) == ["q", "near"]
    assert ids(engine.search_by_id("", "q", k=5, exclude_id="q").matches) == ["near"]


def test_orientation_queries_say_which_orientation_matched(engine: Engine) -> None:
    engine.add("", "mirrored", fp(0xF0F0))
    queries = [fp(0x0F0F + i) for i in range(4)] + [fp(0xF0F0)] + [fp(0x1111)] * 3
    [match] = engine.search("", queries, radius=3).matches
    assert (match.image.id, match.orientation, match.distance) == (
        "mirrored",
        Orientation.MIRROR,
        0,
    )


def test_default_search_is_the_10_nearest_within_the_default_radius(engine: Engine) -> None:
    engine.create_collection("wide", default_radius=12)
    for i in range(14):
        engine.add("wide", f"n{i:02d}", fp((1 << i) - 1))  # i bits set
    result = engine.search("wide", [fp(0)])
    assert [m.distance for m in result.matches] == list(range(10))
    assert [m.distance for m in engine.search("", [fp(0)]).matches] == []


def test_collections_are_created_listed_and_dropped(engine: Engine) -> None:
    info = engine.create_collection("photos", "phash-c", default_radius=6, params={"hnsw_m": 16})
    assert (info.algorithm, info.default_radius, info.params.hnsw_m) == ("phash-c", 6, 16)
    with pytest.raises(CollectionExists):
        engine.create_collection("photos")
    engine.add("photos", "p", fp(3, "phash-c"))
    assert [c.name for c in engine.collections()] == ["default", "photos"]
    assert engine.drop_collection("photos") == 1
    with pytest.raises(UnknownCollection):
        engine.search("photos", [fp(3, "phash-c")], k=1)
    with pytest.raises(InvalidArgument, match="default collection"):
        engine.drop_collection("default")


def test_a_hash_of_another_algorithm_is_refused(engine: Engine) -> None:
    with pytest.raises(AlgorithmMismatch, match="'phash-c' hash"):
        engine.add("", "x", fp(1, "phash-c"))
    with pytest.raises(AlgorithmMismatch):
        engine.search("", [fp(1, "imagehash-4")], k=1)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda e: e.search("", [fp(0)], k=1001), "k"),
        (lambda e: e.search("", [fp(0)], radius=65), "max_distance"),
        (lambda e: e.add("", "", fp(0)), "id"),
        (lambda e: e.add("", "x" * 513, fp(0)), "id"),
        (lambda e: e.add("", "x", fp(0), metadata={"": "v"}), "metadata"),
        (lambda e: e.add("", "x", fp(0), metadata={f"k{i}": "" for i in range(65)}), "metadata"),
        (lambda e: e.add("", "x", fp(0), duplicate_radius=99), "duplicate_radius"),
        (lambda e: e.delete("", []), "ids"),
        (lambda e: e.list_images("", limit=0), "page_size"),
        (lambda e: e.create_collection("-bad"), "name"),
        (lambda e: e.create_collection("x", params={"ef_search": 1}), "index.ef_search"),
    ],
)
def test_values_out_of_bounds_are_refused_naming_the_field(
    engine: Engine, call: object, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        call(engine)  # type: ignore[operator]
    assert caught.value.field == field


def test_unknown_collections_and_ids_are_not_found(engine: Engine) -> None:
    with pytest.raises(UnknownCollection, match="'nope'"):
        engine.add("nope", "x", fp(0))
    with pytest.raises(UnknownId, match="'ghost'"):
        engine.get("", "ghost")
    with pytest.raises(UnknownId):
        engine.search_by_id("", "ghost", k=1)


def test_listing_pages_through_ids_in_order_while_images_change(engine: Engine) -> None:
    for i in range(25):
        engine.add("", f"img{i:02d}", fp(i))
    first = engine.list_images("", limit=10)
    engine.delete("", ["img15"])
    engine.add("", "img05b", fp(99))  # before the cursor: not seen, nothing repeats
    second = engine.list_images("", after_id=first[-1].id, limit=10)
    third = engine.list_images("", after_id=second[-1].id, limit=10)
    seen = [i.id for i in first + second + third]
    assert seen == [f"img{i:02d}" for i in range(25) if i != 15]


def test_concurrent_adds_share_transactions(engine: Engine) -> None:
    groups_before = engine.inspect_store().groups_committed
    with ThreadPoolExecutor(16) as pool:
        list(
            pool.map(
                lambda i: engine.add("", f"c{i}", fp(i << 8), find_duplicates=False), range(400)
            )
        )
    assert engine.collection("").image_count == 400
    assert engine.inspect_store().groups_committed - groups_before < 400


def test_a_second_process_cannot_open_the_same_data_dir(engine: Engine) -> None:
    with pytest.raises(DataDirInUse, match="in use by pid"):
        Engine(engine.data_dir, QUIET)


def test_the_top_k_path_follows_the_collection_s_thresholds(tmp_path: Path) -> None:
    # five codes: a scan would always be cheaper, unless scans are priced dear
    with Engine(tmp_path / "data", QUIET, costs=SCANS_DEAR) as engine:
        engine.create_collection("graph", params={"exact_threshold": 2, "hnsw_m": 8})
        for i in range(5):
            engine.add("graph", f"g{i}", fp(i * 0x1111))
        engine.inspect("graph").settle()  # the graph's costs are measured as codes enter it
        assert engine.search("graph", [fp(0)], k=3).path is SearchPath.HNSW
        assert engine.search("graph", [fp(0)], k=3, exact=True).path is SearchPath.EXACT
        assert engine.search("graph", [fp(0)], k=3, radius=5).path is SearchPath.EXACT
        assert engine.stats("graph").default_top_k_path is SearchPath.HNSW
        assert engine.inspect("graph").params == IndexParams(hnsw_m=8, exact_threshold=2)


def test_matches_are_looked_up_by_hash_through_the_hash_index(engine: Engine) -> None:
    # Without statistics SQLite would scan the whole collection by primary key instead.
    from neardup.index.store import queries

    engine.add("", "a", fp(7))
    conn = engine.inspect_store().reader()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = queries.nearest_images(conn, "default", "phash", {7: 0, 8: 1}, 10)
    conn.set_trace_callback(None)
    assert [(image.id, distance) for image, distance, _ in found] == [("a", 0)]
    [select] = [s for s in statements if s.lstrip().upper().startswith("WITH")]
    plan = conn.execute("EXPLAIN QUERY PLAN " + select).fetchall()
    assert "USING INDEX images_by_hash" in str(plan)


def test_a_lookup_of_many_codes_answers_nearest_first_in_one_compiled_statement(
    engine: Engine,
) -> None:
    from neardup.index.store import queries

    engine.add_batch("", [(f"img{value:02d}", fp(value), {}) for value in range(40)])
    conn = engine.inspect_store().reader()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    for count in (40, 3):  # the statement's text does not depend on how many codes
        distances = {value: (value * 7) % 5 for value in range(count)}
        found = queries.nearest_images(conn, "default", "phash", distances, 12)
        expected = sorted((d, f"img{v:02d}") for v, d in distances.items())[:12]
        assert [(distance, image.id) for image, distance, _ in found] == expected
    conn.set_trace_callback(None)
    shapes = {s.split("json_each(")[0] for s in statements if s.lstrip().upper().startswith("WITH")}
    assert len(shapes) == 1


def test_a_crowded_code_is_read_up_to_the_limit_instead_of_joined_whole(engine: Engine) -> None:
    from neardup.index.store import queries

    engine.add_batch("", [(f"copy{i:04d}", fp(5), {}) for i in range(2000)])
    engine.add_batch("", [("near", fp(4), {}), ("nearer", fp(6), {})])
    conn = engine.inspect_store().reader()
    distances = {4: 0, 5: 1, 6: 0}

    def lookup(crowded: set[int], limit: int) -> tuple[list[tuple[str, int]], int]:
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        conn.set_progress_handler(count, 50)  # SQLite virtual machine steps, in fifties
        found = queries.nearest_images(
            conn, "default", "phash", distances, limit, "copy0001", crowded
        )
        conn.set_progress_handler(None, 0)
        return [(image.id, distance) for image, distance, _ in found], steps[0]

    joined, join_steps = lookup(set(), 5)
    alone, alone_steps = lookup({5}, 5)
    assert (
        joined
        == alone
        == [
            ("near", 0),
            ("nearer", 0),
            ("copy0000", 1),
            ("copy0002", 1),
            ("copy0003", 1),
        ]
    )
    assert alone_steps * 20 < join_steps  # the join read all 2000 rows of code 5
    assert lookup(set(), 1)[0] == lookup({5}, 1)[0] == [("near", 0)]


def test_a_crowded_crop_code_is_read_through_its_own_rows_not_a_walk_of_the_collection(
    engine: Engine,
) -> None:
    # Left to choose, SQLite walked every image of the collection in id order and probed
    # its crop codes: a whole scan for each code that many images carry as a crop.
    from neardup.index.store import queries

    engine.add_batch("", [(f"other{i:04d}", fp(1000 + i), {}, 80, ()) for i in range(3000)])
    engine.add_batch("", [(f"crop{i:03d}", fp(5000 + i), {}, 80, (fp(5),)) for i in range(40)])
    conn = engine.inspect_store().reader()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = queries.nearest_images(conn, "default", "phash", {5: 0}, 3, crowded={5}, crops=True)
    conn.set_trace_callback(None)
    assert [image.id for image, _, _ in found] == ["crop000", "crop001", "crop002"]
    for select in (s for s in statements if s.lstrip().upper().startswith("SELECT")):
        plan = str(conn.execute("EXPLAIN QUERY PLAN " + select).fetchall())
        assert "PRIMARY KEY (collection=?)" not in plan  # no walk of the collection
        assert "TEMP B-TREE" not in plan  # read in id order, cut at the limit


def test_an_engine_whose_start_fails_releases_its_store_threads_and_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neardup.index import engine as engine_module

    Engine(tmp_path / "data", QUIET).close()

    def broken_load(*args: object) -> object:
        raise OSError("injected: the snapshot folder cannot be read")

    monkeypatch.setattr(engine_module, "load_index", broken_load)
    writers_before = _threads("store-writer")
    with pytest.raises(OSError, match="injected"):
        Engine(tmp_path / "data", QUIET)
    assert _threads("store-writer") == writers_before
    monkeypatch.undo()
    with Engine(tmp_path / "data", QUIET) as reopened:  # the lock was released
        assert [c.name for c in reopened.collections()] == ["default"]


def test_a_data_dir_of_another_schema_version_is_refused_and_left_as_it_is(
    tmp_path: Path,
) -> None:
    import sqlite3

    from neardup.index.errors import IncompatibleDataDir
    from neardup.index.store import SCHEMA_VERSION

    Engine(tmp_path / "data", QUIET).close()
    with sqlite3.connect(tmp_path / "data" / "neardup.sqlite3") as conn:
        conn.execute("UPDATE meta SET value = 99 WHERE key = 'schema'")
    with pytest.raises(IncompatibleDataDir, match="schema version 99"):
        Engine(tmp_path / "data", QUIET)
    with sqlite3.connect(tmp_path / "data" / "neardup.sqlite3") as conn:
        conn.execute(f"UPDATE meta SET value = {SCHEMA_VERSION} WHERE key = 'schema'")
    with Engine(tmp_path / "data", QUIET) as reopened:  # nothing was changed or locked
        assert reopened.collection("").name == "default"


def _threads(name: str) -> int:
    import threading

    return sum(1 for t in threading.enumerate() if t.name == name)
