"""The engine seam's contract, one suite for every engine: the local `Engine` (SQLite + FAISS
in a temporary data dir), with its default index and with the compact "tables" kind (its
substring tables made from the first code and serving top-k queries, which at these sizes
a scan would otherwise answer), and `MilvusEngine` on a real Milvus Lite (its own `.db` file
and embedded server per test). Results are checked against a numpy scan of the same
codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from neardup.index import (
    AddOutcome,
    Engine,
    EngineSettings,
    Fingerprint,
    IndexParams,
    OnExistingId,
    bounds,
)
from neardup.index.backend import Backend
from neardup.index.errors import (
    AlgorithmMismatch,
    CollectionExists,
    IdExists,
    InvalidArgument,
    UnknownCollection,
    UnknownId,
    Unsupported,
)
from neardup.index.fingerprint import Orientation

from .conftest import STRUCTURES_PREFERRED

SETTINGS = EngineSettings(maintenance_interval_seconds=3600, result_limit=50)
TABLES = replace(SETTINGS, index=IndexParams(kind="tables", substring_tables_min_codes=0))
ENGINES = ["local", "local-tables", "milvus-lite"]


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


def _milvus(path: Path) -> Backend:
    pytest.importorskip(
        "milvus_lite", reason="Milvus Lite is not installed (pip install .[milvus])"
    )
    from neardup.index.milvus import MilvusEngine

    return MilvusEngine(str(path / "milvus.db"), settings=SETTINGS)


OPENERS: dict[str, Callable[[Path], Backend]] = {
    "local": lambda path: Engine(path / "data", SETTINGS),
    # the tables kind's tables answer top-k at these sizes too
    "local-tables": lambda path: Engine(path / "data", TABLES, costs=STRUCTURES_PREFERRED),
    "milvus-lite": _milvus,
}


@pytest.fixture(params=ENGINES)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened = OPENERS[request.param](tmp_path)
    try:
        yield opened
    finally:
        opened.close()


def pairs(matches: object) -> list[tuple[str, int]]:
    return [(m.image.id, m.distance) for m in matches]  # type: ignore[attr-defined]


def oracle(
    stored: dict[str, int], query: int, k: int | None, radius: int | None
) -> list[tuple[str, int]]:
    """The exact answer: every stored id by (distance, id), cut by radius and k."""
    ids = list(stored)
    codes = np.array([stored[i] for i in ids], dtype=np.uint64)
    distances = np.bitwise_count(codes ^ np.uint64(query)).tolist()
    ranked = sorted(zip(ids, distances, strict=True), key=lambda p: (p[1], p[0]))
    if radius is not None:
        ranked = [p for p in ranked if p[1] <= radius]
    return ranked[:k] if k is not None else ranked


@pytest.fixture
def library(backend: Backend) -> dict[str, int]:
    """300 random codes and 60 near copies of some of them, stored."""
    rng = np.random.default_rng(11)
    base = rng.integers(0, 1 << 63, size=300, dtype=np.uint64) * 2 + 1
    stored = {f"img{i:03d}": int(c) for i, c in enumerate(base)}
    for i in range(60):
        flips = rng.choice(64, size=int(rng.integers(1, 9)), replace=False)
        stored[f"near{i:02d}"] = int(base[i]) ^ sum(1 << int(b) for b in flips)
    backend.add_batch("", [(i, fp(c), {"n": i}, 80) for i, c in stored.items()])
    return stored


def test_a_new_backend_has_the_default_collection(backend: Backend) -> None:
    [info] = backend.collections()
    # crop hashes where the engine keeps them (the local one), and the radius that goes with
    radius = bounds.DEFAULT_CROP_RADIUS if info.crop_hashes else bounds.DEFAULT_RADIUS
    assert (info.name, info.algorithm, info.default_radius, info.image_count) == (
        "default",
        "phash",
        radius,
        0,
    )


def test_an_add_reports_the_near_duplicates_stored_before_it_nearest_first(
    backend: Backend,
) -> None:
    backend.add("", "a", fp(0b1111), quality=80)
    backend.add("", "far", fp(0xFFFF_FFFF_0000_0000), quality=80)
    result = backend.add("", "b", fp(0b0111), metadata={"source": "upload"}, quality=80)
    assert result.outcome is AddOutcome.ADDED
    assert pairs(result.duplicates) == [("a", 1)]
    stored = backend.get("", "b")
    assert (stored.fingerprint, stored.metadata, stored.quality) == (
        fp(0b0111),
        {"source": "upload"},
        80,
    )


def test_an_existing_id_is_refused_skipped_or_replaced_as_asked(backend: Backend) -> None:
    backend.add("", "a", fp(1), quality=80)
    with pytest.raises(IdExists):
        backend.add("", "a", fp(2))
    skipped = backend.add("", "a", fp(2), on_existing=OnExistingId.SKIP)
    assert (skipped.outcome, skipped.image.fingerprint) == (AddOutcome.SKIPPED_EXISTING, fp(1))
    replaced = backend.add("", "a", fp(3), on_existing=OnExistingId.REPLACE, quality=80)
    assert replaced.outcome is AddOutcome.REPLACED
    assert backend.get("", "a").fingerprint == fp(3)
    assert backend.collection("").image_count == 1


def test_a_rejected_duplicate_is_not_stored(backend: Backend) -> None:
    backend.add("", "a", fp(0), quality=80)
    result = backend.add("", "b", fp(1), reject_duplicates=True, quality=80)
    assert result.outcome is AddOutcome.REJECTED_DUPLICATE
    with pytest.raises(UnknownId):
        backend.get("", "b")


@pytest.mark.parametrize(("k", "radius"), [(10, None), (None, 6), (5, 12), (1, None)])
def test_searches_equal_an_exact_scan(
    backend: Backend, library: dict[str, int], k: int | None, radius: int | None
) -> None:
    rng = np.random.default_rng(5)
    queries = [library[f"img{i:03d}"] ^ (1 << int(rng.integers(64))) for i in range(0, 60, 6)]
    for query in queries:
        found = backend.search("", [fp(query)], k=k or 0, radius=radius, exact=True)
        expected = oracle(library, query, k, radius)
        if k is not None and len(expected) == k:  # ties at the k-th distance: any of them
            kth = expected[-1][1]
            assert [d for _, d in pairs(found.matches)] == [d for _, d in expected]
            assert all(
                d < kth or (i, d) in oracle(library, query, None, kth)
                for i, d in pairs(found.matches)
            )
        else:
            assert pairs(found.matches) == expected


def test_a_radius_query_past_the_result_limit_says_truncated(backend: Backend) -> None:
    backend.add_batch("", [(f"copy{i:03d}", fp(i % 4), {}, 80) for i in range(80)])
    found = backend.search("", [fp(0)], radius=3)
    assert found.truncated and len(found.matches) == SETTINGS.result_limit
    assert not backend.search("", [fp(0)], radius=0).truncated


def test_orientation_hashes_find_a_turned_copy_and_say_which(backend: Backend) -> None:
    backend.add("", "turned", fp(0xABCD), quality=80)
    queries = [fp(0xFFFF_0000_FFFF_0000)] * 8
    queries[Orientation.MIRROR_ROTATE_90] = fp(0xABCD ^ 0b1)
    [match] = backend.search("", queries, radius=4).matches
    assert (match.image.id, match.distance, match.orientation) == (
        "turned",
        1,
        Orientation.MIRROR_ROTATE_90,
    )


def test_below_the_quality_floor_only_exact_matches_count(backend: Backend) -> None:
    backend.add("", "blank", fp(0), quality=1)
    backend.add("", "photo", fp(0b11), quality=80)
    assert pairs(backend.search("", [fp(0b1)], radius=10).matches) == [("photo", 1)]
    assert pairs(backend.search("", [fp(0)], radius=10).matches) == [("blank", 0), ("photo", 2)]
    low = backend.search("", [fp(0b11)], radius=10, query_quality=2)
    assert pairs(low.matches) == [("photo", 0)] and "min_quality" in low.quality_note


def test_top_k_reaches_past_low_quality_images_for_k_good_ones(backend: Backend) -> None:
    backend.add_batch("", [(f"blank{i:02d}", fp(1 << i), {}, 1) for i in range(12)])
    backend.add_batch("", [("good1", fp(0b11 << 20), {}, 80), ("good2", fp(0b111 << 30), {}, 80)])
    assert pairs(backend.search("", [fp(0)], k=2).matches) == [("good1", 2), ("good2", 3)]
    assert pairs(backend.search("", [fp(0)], radius=5).matches) == [("good1", 2), ("good2", 3)]


def test_a_delete_counts_what_it_removed_and_names_what_was_not_stored(
    backend: Backend,
) -> None:
    backend.add("", "a", fp(0), quality=80)
    backend.add("", "b", fp(1), quality=80)
    result = backend.delete("", ["a", "missing", "a"])
    assert (result.deleted, result.not_found) == (1, ["missing"])
    assert pairs(backend.search("", [fp(0)], radius=5).matches) == [("b", 1)]
    assert backend.collection("").image_count == 1


def test_list_pages_in_id_order_and_any_id_round_trips(backend: Backend) -> None:
    ids = ['q"uote', "back\\slash", "new\nline", "été", "a/b.jpg", "z", "0"]
    backend.add_batch("", [(i, fp(n), {}) for n, i in enumerate(ids)])
    pages, after = [], ""
    while page := backend.list_images("", after, 3):
        pages.append([image.id for image in page])
        after = page[-1].id
    assert [i for page in pages for i in page] == sorted(ids, key=lambda i: i.encode())
    assert [len(p) for p in pages] == [3, 3, 1]
    found = backend.get_many("", ["été", "nope", 'q"uote'])
    assert sorted(found) == ['q"uote', "été"] and found["été"].fingerprint == fp(3)


def test_a_bulk_load_skips_stored_ids(backend: Backend) -> None:
    assert backend.add_batch("", [("a", fp(1), {}), ("b", fp(2), {})]) == [True, True]
    assert backend.add_batch("", [("b", fp(9), {}), ("c", fp(3), {}), ("c", fp(4), {})]) == [
        False,
        True,
        False,
    ]
    assert backend.get("", "b").fingerprint == fp(2)
    assert backend.collection("").image_count == 3


def test_collections_are_created_dropped_and_refused_by_name(backend: Backend) -> None:
    info = backend.create_collection("my-photos.v2", "phash-1", default_radius=6, min_quality=0)
    assert (info.algorithm, info.default_radius, info.min_quality) == ("phash-1", 6, 0)
    with pytest.raises(CollectionExists):
        backend.create_collection("my-photos.v2")
    backend.add("my-photos.v2", "x", Fingerprint(1, "phash-1"))
    with pytest.raises(AlgorithmMismatch):
        backend.add("my-photos.v2", "y", fp(1))
    assert [c.name for c in backend.collections()] == ["default", "my-photos.v2"]
    assert backend.drop_collection("my-photos.v2") == 1
    with pytest.raises(UnknownCollection):
        backend.search("my-photos.v2", [fp(0)], k=1)
    with pytest.raises(InvalidArgument):
        backend.drop_collection("default")


def test_near_codes_are_every_stored_code_within_the_radius(
    backend: Backend, library: dict[str, int]
) -> None:
    query = library["img000"]
    [near] = backend.near_codes("", [query], 10)
    expected = sorted(
        {(library[i], d) for i, d in oracle(library, query, None, 10)},
        key=lambda cd: (cd[1], cd[0]),
    )
    assert near == expected


def test_the_engine_s_own_persistence_is_a_snapshot_or_unsupported(backend: Backend) -> None:
    backend.add("", "a", fp(1), quality=80)
    if isinstance(backend, Engine):
        [snapshot] = backend.snapshot("")
        assert snapshot.collection == "default"
    else:
        with pytest.raises(Unsupported, match="Milvus persists its own"):
            backend.snapshot("")


def test_a_collection_that_keeps_thumbnails_returns_each_image_s_or_the_engine_refuses_it(
    backend: Backend,
) -> None:
    preview, other = b"\xff\xd8\xff" + b"a" * 100, b"\xff\xd8\xff" + b"b" * 100
    try:
        backend.create_collection("shown", thumbnails=True)
    except Unsupported as refused:
        assert "thumbnails" in str(refused)
        return
    backend.add("shown", "a", fp(1), thumbnail=preview)
    backend.add_batch("shown", [("b", fp(2), {}, None, (), other), ("c", fp(3), {})])
    assert backend.get("shown", "a").thumbnail == preview
    with_previews = backend.get_many("shown", ["a", "b", "c"], thumbnails=True)
    assert {i: s.thumbnail for i, s in with_previews.items()} == {
        "a": preview,
        "b": other,
        "c": None,
    }
    assert backend.get_many("shown", ["a"])["a"].thumbnail is None  # only when asked
    backend.add("shown", "a", fp(4), on_existing=OnExistingId.REPLACE)  # a new picture
    assert backend.get("shown", "a").thumbnail is None
    with pytest.raises(InvalidArgument, match="thumbnail"):
        backend.add("shown", "d", fp(5), thumbnail=b"not a jpeg")
    backend.add("", "plain", fp(6), thumbnail=preview)  # a collection without: dropped
    assert backend.get("", "plain").thumbnail is None


def test_an_add_s_duplicate_check_matches_the_upload_s_orientations_where_the_collection_does(
    backend: Backend,
) -> None:
    stored, upload = 0x0F0F_0F0F_0F0F_0F0F, 0xF0F0_F0F0_F0F0_F0F0
    # the upload's 8 orientation hashes, as hashing the picture gives them: its mirror is
    # within 2 bits of the stored picture
    turned = [fp(upload ^ (o << 40)) for o in range(8)]
    turned[0], turned[Orientation.MIRROR] = fp(upload), fp(stored ^ 0b11)
    backend.add("", "original", fp(stored))
    added = backend.add("", "mirrored", fp(upload), orientations=turned)
    assert [(m.image.id, m.distance, m.orientation) for m in added.duplicates] == [
        ("original", 2, Orientation.MIRROR)
    ]
    assert backend.collection("").orientations  # the default
    backend.create_collection("upright", orientations=False)
    backend.add("upright", "original", fp(stored))
    assert backend.add("upright", "mirrored", fp(upload), orientations=turned).duplicates == []
