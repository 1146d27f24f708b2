"""A collection's quality floor: hashes of pictures with too little structure (quality below
`min_quality`) are stored and found by an exact hash match, but are nobody's near-duplicate,
and the answers say why. Data dirs from before the floor and the border trim are upgraded in
place: their `phash` collections become `phash-1`, the algorithm that made their hashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint
from neardup.index.errors import AlgorithmMismatch, InvalidArgument

from .store.old_schemas import as_schema

QUIET = EngineSettings(maintenance_interval_seconds=3600)
NEAR = 0b1111  # 4 bits from 0
FLOOR = 30


def fp(value: int, algorithm: str = "phash") -> Fingerprint:
    return Fingerprint(value, algorithm)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", QUIET) as opened:
        opened.create_collection("c", min_quality=FLOOR)
        yield opened


def ids(matches: object) -> list[str]:
    return [m.image.id for m in matches]  # type: ignore[attr-defined]


def test_a_low_quality_upload_has_only_exact_duplicates_and_is_told_why(engine: Engine) -> None:
    engine.add("c", "same", fp(0), quality=90)
    engine.add("c", "near", fp(NEAR), quality=90)
    result = engine.add("c", "blank", fp(0), quality=3)
    assert ids(result.duplicates) == ["same"]
    assert "quality 3 is below the collection's min_quality 30" in result.quality_note
    assert engine.get("c", "blank").quality == 3


def test_a_stored_low_quality_image_is_found_exactly_and_never_as_a_near_match(
    engine: Engine,
) -> None:
    engine.add("c", "blank", fp(0), quality=3)
    assert ids(engine.search("c", [fp(0)], radius=10, query_quality=90).matches) == ["blank"]
    near = engine.search("c", [fp(NEAR)], radius=10, query_quality=90)
    assert near.matches == [] and near.quality_note == ""
    assert ids(engine.add("c", "photo", fp(NEAR), quality=90).duplicates) == []


def test_a_low_quality_query_searches_exactly(engine: Engine) -> None:
    engine.add("c", "photo", fp(NEAR), quality=90)
    result = engine.search("c", [fp(0)], k=5, query_quality=2)
    assert result.matches == [] and "only exact hash matches" in result.quality_note
    by_id = engine.search_by_id("c", "photo", k=5)  # the stored quality is the query's
    assert ids(by_id.matches) == ["photo"] and by_id.quality_note == ""


def test_top_k_reaches_past_low_quality_images_for_k_good_ones(engine: Engine) -> None:
    engine.add_batch("c", [(f"blank{i}", fp(1 << i), {}, 1) for i in range(40)])
    engine.add_batch("c", [(f"good{i}", fp((1 << i) | (1 << (i + 20))), {}, 80) for i in range(3)])
    assert sorted(ids(engine.search("c", [fp(0)], k=3, query_quality=80).matches)) == [
        "good0",
        "good1",
        "good2",
    ]


def test_an_unknown_quality_matches_as_full_quality(engine: Engine) -> None:
    engine.add("c", "bare", fp(0))
    assert ids(engine.search("c", [fp(NEAR)], radius=10).matches) == ["bare"]
    assert engine.get("c", "bare").quality is None


def test_quality_floors_and_scores_are_0_to_100(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match=r"min_quality must be in 0\.\.100"):
        engine.create_collection("bad", min_quality=101)
    with pytest.raises(InvalidArgument, match=r"quality must be in 0\.\.100"):
        engine.add("c", "x", fp(0), quality=-1)
    assert engine.collection("c").min_quality == FLOOR


def test_a_data_dir_of_schema_1_is_upgraded_and_keeps_comparing_like_with_like(
    tmp_path: Path,
) -> None:
    with Engine(tmp_path / "data", QUIET) as old:
        old.add("", "a", fp(0))
        old.add("", "b", fp(NEAR))
    as_schema(tmp_path / "data" / "neardup.sqlite3", 1)
    with Engine(tmp_path / "data", QUIET) as upgraded:
        info = upgraded.collection("")
        assert (info.algorithm, info.min_quality, info.image_count) == ("phash-1", 0, 2)
        stored = upgraded.get("", "a")
        assert (stored.fingerprint, stored.quality) == (fp(0, "phash-1"), None)
        found = upgraded.search("", [fp(0, "phash-1")], radius=10)
        assert ids(found.matches) == ["a", "b"]
        with pytest.raises(AlgorithmMismatch):  # new-style bits never meet the old ones
            upgraded.search("", [fp(0)], radius=10)
    with Engine(tmp_path / "data", QUIET) as again:  # the upgrade happened once
        assert again.collection("").algorithm == "phash-1"


def test_a_data_dir_of_schema_3_keeps_its_phash_collections_on_the_rule_that_hashed_them(
    tmp_path: Path,
) -> None:
    with Engine(tmp_path / "data", QUIET) as old:
        old.add("", "a", fp(0), quality=80)
        old.create_collection("kept", "phash-1")
    as_schema(tmp_path / "data" / "neardup.sqlite3", 3)
    with Engine(tmp_path / "data", QUIET) as upgraded:
        assert upgraded.collection("").algorithm == "phash-2"
        assert upgraded.collection("kept").algorithm == "phash-1"
        assert ids(upgraded.search("", [fp(NEAR, "phash-2")], radius=10).matches) == ["a"]
        with pytest.raises(AlgorithmMismatch):  # the pair rule's bits never meet them
            upgraded.search("", [fp(0)], radius=10)
        assert upgraded.create_collection("new").algorithm == "phash"
