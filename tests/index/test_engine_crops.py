"""A `crop_hashes` collection stores each image under its hash and its crop hashes, and a
radius search sends a query's crop hashes with it: a crop finds its original, an original
its stored crop, and every answer names each image once, at its nearest code. A top-k alone
ranks images by their own hash, in an index that holds one code an image, so its path and
its graph follow the image count. The crop codes are written, replaced, deleted, counted,
snapshotted, replayed and rebuilt with their image; below the quality floor an image keeps
none; a collection without crop hashes ignores them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint, Orientation
from neardup.index.code_sets import CodeSet
from neardup.index.errors import InvalidArgument

from .store.old_schemas import as_schema

QUIET = EngineSettings(maintenance_interval_seconds=3600)
PLAIN = 0x0000_0000_0000_0000
CROP_A = 0xFFFF_0000_FFFF_0000  # 32 bits from PLAIN
CROP_B = 0x0F0F_0F0F_0F0F_0F0F  # 32 bits from PLAIN, 32 from CROP_A
FAR = 0xFFFF_FFFF_FFFF_FFFF
FLOOR = 20
EVERY = CodeSet.EVERY_CODE


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


def near(value: int, bits: int) -> Fingerprint:
    """A hash `bits` bits from `value` (its lowest bits flipped)."""
    return fp(value ^ ((1 << bits) - 1))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", QUIET) as opened:
        opened.create_collection("c", crop_hashes=True, min_quality=FLOOR)
        yield opened


def add_original(engine: Engine, image_id: str = "original", **options: object) -> None:
    engine.add("c", image_id, fp(PLAIN), crops=(fp(CROP_A), fp(CROP_B)), quality=80, **options)


def test_crop_hashes_are_on_by_default_where_the_algorithm_has_them(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="crop_hashes needs") as raised:
        engine.create_collection("exact", algorithm="imagehash-4", crop_hashes=True)
    assert raised.value.field == "crop_hashes"
    made = {
        name: engine.create_collection(name, algorithm=algorithm, crop_hashes=asked)
        for name, algorithm, asked in [
            ("default-phash", "phash", None),
            ("default-imagehash", "imagehash-4", None),
            ("plain", "phash", False),
        ]
    }
    assert {name: (i.crop_hashes, i.default_radius) for name, i in made.items()} == {
        "default-phash": (True, 8),
        "default-imagehash": (False, 10),
        "plain": (False, 10),
    }
    assert engine.collection("").crop_hashes


def test_a_crop_finds_its_original_through_the_originals_crop_hash(engine: Engine) -> None:
    add_original(engine)
    found = engine.search("c", [near(CROP_B, 3)], radius=10)
    [match] = found.matches
    assert (match.image.id, match.distance, match.via_crop) == ("original", 3, True)
    assert match.image.crops == (fp(CROP_A), fp(CROP_B))


def test_an_original_finds_its_stored_crop_through_its_own_crop_hashes(engine: Engine) -> None:
    engine.add("c", "crop", near(CROP_A, 2), quality=80)
    plain_only = engine.search("c", [fp(PLAIN)], radius=10)
    assert plain_only.matches == []
    found = engine.search("c", [fp(PLAIN)], radius=10, crop_queries=[fp(CROP_A), fp(CROP_B)])
    [match] = found.matches
    assert (match.image.id, match.distance, match.via_crop) == ("crop", 2, True)


def test_an_image_matched_by_its_hash_and_its_crops_is_returned_once_at_its_nearest(
    engine: Engine,
) -> None:
    add_original(engine)
    found = engine.search(
        "c", [near(PLAIN, 4)], radius=10, crop_queries=[near(CROP_A, 1), near(CROP_B, 6)]
    )
    [match] = found.matches
    assert (match.image.id, match.distance, match.via_crop) == ("original", 1, True)
    by_id = engine.search_by_id("c", "original", radius=10)
    assert by_id.matches[0].distance == 0 and not by_id.matches[0].via_crop


def test_top_k_counts_images_not_the_codes_that_found_them(engine: Engine) -> None:
    add_original(engine)
    engine.add("c", "other", near(PLAIN, 9), quality=80)
    engine.add("c", "far", fp(FAR), quality=80)
    found = engine.search("c", [fp(PLAIN)], k=2, crop_queries=[fp(CROP_A), fp(CROP_B)])
    assert [(m.image.id, m.distance) for m in found.matches] == [("original", 0), ("other", 9)]


def test_orientation_of_a_crop_match_is_the_orientation_of_the_query_crop(
    engine: Engine,
) -> None:
    add_original(engine)
    queries = [fp(FAR)] * 8
    crops = [fp(FAR)] * 8 + [fp(FAR)] * 3 + [near(CROP_B, 1)] + [fp(FAR)] * 4
    [match] = engine.search("c", queries, radius=4, crop_queries=crops).matches
    assert (match.orientation, match.distance) == (Orientation.ROTATE_270, 1)


def test_an_add_reports_a_duplicate_found_only_through_crops(engine: Engine) -> None:
    add_original(engine)
    result = engine.add("c", "upload", near(CROP_A, 2), quality=80)
    assert [(m.image.id, m.distance, m.via_crop) for m in result.duplicates] == [
        ("original", 2, True)
    ]


def test_the_image_count_counts_images_and_the_code_count_every_code(engine: Engine) -> None:
    add_original(engine)
    engine.add_batch("c", [("batched", fp(FAR), {}, 80, (near(FAR, 20),))])
    stats = engine.stats("c")
    assert (stats.collection.image_count, stats.code_count) == (2, 5)
    assert engine.search("c", [near(FAR, 21)], radius=2).matches[0].image.id == "batched"


def test_a_replace_drops_the_old_crop_hashes_and_a_delete_every_code(engine: Engine) -> None:
    from neardup.index import OnExistingId

    add_original(engine)
    engine.add(
        "c",
        "original",
        fp(FAR),
        crops=(near(FAR, 30),),
        quality=80,
        on_existing=OnExistingId.REPLACE,
    )
    assert engine.search("c", [fp(CROP_A)], radius=5).matches == []
    assert engine.inspect("c", EVERY).live_codes() == {FAR: 1, FAR ^ ((1 << 30) - 1): 1}
    assert engine.inspect("c").live_codes() == {FAR: 1}
    engine.delete("c", ["original"])
    assert engine.inspect("c", EVERY).live_codes() == {}
    assert engine.collection("c").image_count == 0
    with sqlite3.connect(engine.data_dir / "neardup.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM crop_codes").fetchone() == (0,)


def test_below_the_quality_floor_an_image_keeps_no_crop_hashes(engine: Engine) -> None:
    engine.add("c", "blank", fp(PLAIN), crops=(fp(CROP_A),), quality=FLOOR - 1)
    assert engine.get("c", "blank").crops == ()
    assert engine.search("c", [fp(CROP_A)], radius=0).matches == []
    low = engine.search("c", [fp(CROP_A)], radius=10, crop_queries=[fp(PLAIN)], query_quality=3)
    assert low.matches == [] and low.quality_note


def test_a_collection_without_crop_hashes_ignores_them(engine: Engine) -> None:
    engine.create_collection("plain", crop_hashes=False)
    engine.add("plain", "a", fp(PLAIN), crops=(fp(CROP_A),), quality=80)
    assert engine.get("plain", "a").crops == ()
    assert engine.search("plain", [fp(FAR)], radius=10, crop_queries=[fp(PLAIN)]).matches == []
    with pytest.raises(InvalidArgument, match="crop hashes come 2 a crop"):
        engine.search("plain", [fp(PLAIN)] * 2, radius=1, crop_queries=[fp(PLAIN)])


@pytest.mark.parametrize("snapshot", [True, False], ids=["from-snapshot", "rebuilt-from-store"])
def test_crop_hashes_survive_a_restart(tmp_path: Path, snapshot: bool) -> None:
    with Engine(tmp_path / "data", QUIET) as first:
        first.create_collection("c", crop_hashes=True)
        add_original(first)
        first.add("c", "second", fp(FAR), crops=(near(FAR, 25),), quality=80)
        first.delete("c", ["second"])
    if not snapshot:
        for path in (tmp_path / "data" / "snapshots").iterdir():
            path.unlink()
    with Engine(tmp_path / "data", QUIET) as again:
        assert again.collection("c").image_count == 1
        assert again.inspect("c", EVERY).live_codes() == {PLAIN: 1, CROP_A: 1, CROP_B: 1}
        assert again.inspect("c").live_codes() == {PLAIN: 1}
        assert again.search("c", [near(CROP_A, 1)], radius=2).matches[0].image.id == "original"


def test_a_data_dir_of_schema_2_is_upgraded_to_crop_hashes(tmp_path: Path) -> None:
    with Engine(tmp_path / "data", QUIET) as old:
        old.add("", "a", fp(PLAIN), quality=80)
    as_schema(tmp_path / "data" / "neardup.sqlite3", 2)
    with Engine(tmp_path / "data", QUIET) as upgraded:
        assert not upgraded.collection("").crop_hashes
        assert upgraded.get("", "a").crops == ()
        upgraded.create_collection("c", crop_hashes=True)
        add_original(upgraded)
        assert upgraded.search("c", [fp(CROP_B)], radius=0).matches[0].image.id == "original"


def test_a_crop_code_many_images_share_is_read_up_to_the_limit(engine: Engine) -> None:
    engine.add_batch(
        "c", [(f"copy{i:02d}", near(FAR, i % 5), {}, 80, (fp(CROP_A),)) for i in range(40)]
    )
    found = engine.search("c", [near(CROP_A, 1)], k=5, radius=10)
    assert [(m.image.id, m.distance, m.via_crop) for m in found.matches] == [
        (f"copy{i:02d}", 1, True) for i in range(5)
    ]
    assert len(engine.search("c", [fp(CROP_A)], radius=0).matches) == 40


def test_a_crop_lookup_reads_each_hits_image_by_key_not_the_whole_collection(
    engine: Engine,
) -> None:
    from neardup.index.store import queries

    add_original(engine)
    conn = engine.inspect_store().reader()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    found = queries.nearest_images(conn, "c", "phash", {CROP_A: 1, FAR: 3}, 10, crops=True)
    conn.set_trace_callback(None)
    assert [(image.id, distance, code) for image, distance, code in found] == [
        ("original", 1, CROP_A)
    ]
    [select] = [s for s in statements if s.lstrip().upper().startswith("WITH")]
    plan = str(conn.execute("EXPLAIN QUERY PLAN " + select).fetchall())
    assert "SEARCH images USING PRIMARY KEY (collection=? AND id=?)" in plan
    assert "SEARCH crop_codes USING PRIMARY KEY (collection=? AND hash=?)" in plan


def test_a_top_k_alone_ranks_images_by_their_own_hash_and_a_radius_search_by_every_code(
    engine: Engine,
) -> None:
    add_original(engine)  # CROP_A is one of its crop hashes, 32 bits from its own
    engine.add("c", "other", near(CROP_A, 12), quality=80)
    top = engine.search("c", [fp(CROP_A)], k=1)
    assert [(m.image.id, m.distance, m.via_crop) for m in top.matches] == [("other", 12, False)]
    within = engine.search("c", [fp(CROP_A)], k=1, radius=12)
    assert [(m.image.id, m.distance, m.via_crop) for m in within.matches] == [("original", 0, True)]


def test_the_top_k_path_counts_images_not_their_crop_codes(tmp_path: Path) -> None:
    params = {"exact_threshold": 10, "substring_tables_min_codes": 1_000_000}
    with Engine(tmp_path / "data", QUIET) as engine:
        engine.create_collection("c", crop_hashes=True, params=params)
        engine.create_collection("plain", params=params)
        for i in range(8):  # 8 images, 24 codes: below the threshold in images, above in codes
            code = (i + 1) * 0x0101_0101_0101_0101
            crops = (near(code, 20), near(code, 40))
            engine.add("c", f"i{i}", fp(code), crops=crops, quality=80)
            engine.add("plain", f"i{i}", fp(code), quality=80)
        stats, plain = engine.stats("c"), engine.stats("plain")
        assert (stats.collection.image_count, stats.code_count) == (8, 24)
        assert stats.default_top_k_path == plain.default_top_k_path
        assert engine.inspect("c").code_count == 8
        assert engine.inspect("c", EVERY).params.kind == "tables"


def test_crop_changes_after_a_snapshot_are_replayed_into_the_index_of_every_code(
    tmp_path: Path,
) -> None:
    with Engine(tmp_path / "data", QUIET) as first:
        first.create_collection("c", crop_hashes=True)
        first.add("c", "early", fp(FAR), crops=(near(FAR, 25),), quality=80)
        first.snapshot("c")
        add_original(first)
        first.delete("c", ["early"])
        first.close(final_snapshot=False)
    with Engine(tmp_path / "data", QUIET) as again:
        assert {r.source for r in again.load_reports if r.collection == "c"} == {"snapshot"}
        assert again.inspect("c", EVERY).live_codes() == {PLAIN: 1, CROP_A: 1, CROP_B: 1}
        assert again.inspect("c").live_codes() == {PLAIN: 1}
        assert again.collection("c").image_count == 1
