"""What only the Milvus engine has to get right, on a real Milvus Lite: Milvus answers at most
16,384 matches a query, so past that cap a radius search says `truncated` and `near_codes`
reads distance by distance, exact, or refuses a single distance it cannot list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index import EngineSettings, Fingerprint
from neardup.index.errors import Unsupported

pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed (pip install .[milvus])")

from neardup.index.milvus import MilvusEngine
from neardup.index.milvus.engine import MILVUS_RESULT_CAP

QUERY = 0x0F0F_0F0F_0F0F_0F0F


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[MilvusEngine]:
    settings = EngineSettings(result_limit=2 * MILVUS_RESULT_CAP)
    # Reads at the clock: what these tests ask is what Milvus itself answers, not the
    # engine's memory of its own last second of writes.
    with MilvusEngine(str(tmp_path / "m.db"), settings=settings, read_lag_seconds=0) as opened:
        yield opened


def load(engine: MilvusEngine, prefix: str, code: int, count: int) -> None:
    for start in range(0, count, 2000):
        engine.add_batch(
            "", [(f"{prefix}{i:05d}", fp(code), {}) for i in range(start, min(count, start + 2000))]
        )


def test_past_milvus_s_cap_near_codes_stay_exact_and_a_search_says_truncated(
    engine: MilvusEngine,
) -> None:
    load(engine, "same", QUERY, 9000)
    load(engine, "one", QUERY ^ 0b1, 8000)
    load(engine, "two", QUERY ^ 0b11, 100)
    assert engine.near_codes("", [QUERY], 2) == [[(QUERY, 0), (QUERY ^ 1, 1), (QUERY ^ 3, 2)]]
    found = engine.search("", [fp(QUERY)], radius=2)
    assert found.truncated and len(found.matches) == MILVUS_RESULT_CAP
    distances = [m.distance for m in found.matches]  # the nearest are kept, as a scan has them
    assert distances == sorted(distances)
    assert (distances.count(0), distances.count(1)) == (9000, MILVUS_RESULT_CAP - 9000)
    load(engine, "more", QUERY, 8000)
    with pytest.raises(Unsupported, match="lie 0 bits from one code"):
        engine.near_codes("", [QUERY], 2)


def test_a_phash_definition_written_before_the_pair_rule_reads_as_phash_2(tmp_path: Path) -> None:
    import json

    from neardup.index.milvus.names import REGISTRY

    uri = str(tmp_path / "m.db")
    with MilvusEngine(uri) as first:
        first.create_collection("legacy", "phash", default_radius=8)
        row = {"algorithm": "phash", "default_radius": 8, "min_quality": 5, "created_unix_ms": 1}
        first._client.upsert(  # what the registry held before definitions had a format
            REGISTRY, [{"name": "legacy", "definition": json.dumps(row), "unused": bytes(1)}]
        )
    with MilvusEngine(uri) as again:
        assert again.collection("legacy").algorithm == "phash-2"
        assert again.create_collection("fresh", "phash").algorithm == "phash"
    with MilvusEngine(uri) as third:
        assert third.collection("fresh").algorithm == "phash"


def test_adds_queued_together_are_decided_in_order_each_seeing_those_before_it(
    engine: MilvusEngine,
) -> None:
    from neardup.index.errors import IdExists
    from neardup.index.records import AddOutcome

    first = engine.submit_add("", "a", fp(QUERY))
    near = engine.submit_add("", "b", fp(QUERY ^ 1), reject_duplicates=True)
    same_id = engine.submit_add("", "a", fp(QUERY))
    assert first.result().outcome is AddOutcome.ADDED
    rejected = near.result()
    assert rejected.outcome is AddOutcome.REJECTED_DUPLICATE
    assert [(m.image.id, m.distance) for m in rejected.duplicates] == [("a", 1)]
    with pytest.raises(IdExists):
        same_id.result()
    assert [m.image.id for m in engine.search("", [fp(QUERY)], radius=2).matches] == ["a"]


class CountingSearches(MilvusEngine):
    """The engine, counting the searches it sends Milvus."""

    searches = 0

    def _search(self, *args: object, **kwargs: object) -> list[list[dict[str, object]]]:
        self.searches += 1
        return super()._search(*args, **kwargs)  # type: ignore[arg-type]


def test_a_top_k_search_asks_milvus_once_while_recent_writes_are_held(tmp_path: Path) -> None:
    # A long read lag keeps every add in the engine's recent writes, as a second of
    # writes under load does; a top-k answer is always full, so asking small first would
    # only send a second search.
    with CountingSearches(str(tmp_path / "m.db"), read_lag_seconds=600) as engine:
        engine.add_batch("", [(f"i{i}", fp(QUERY ^ (1 << (i % 64))), {}) for i in range(150)])
        before = engine.searches
        found = engine.search("", [fp(QUERY)], k=10)
        assert engine.searches - before == 1
        assert len(found.matches) == 10 and {m.distance for m in found.matches} == {1}
