"""Property test: any sequence of adds, replaces, deletes, searches, compactions, snapshots
and restarts leaves the engine answering like a plain dict searched by brute force.

Hashes come from a small pool with bit flips, so identical codes, near neighbours, dead
slots and revived codes all occur. Exact and radius searches must equal the model's; HNSW
top-k answers (the collection is forced onto the graph) must be correct where they answer.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams, OnExistingId

from .conftest import STRUCTURES_PREFERRED

POOL = [0x0, 0xFFFF_0000_FFFF_0000, 0x1234_5678_9ABC_DEF0, 0xF0F0_F0F0_0F0F_0F0F]
IDS = [f"i{n}" for n in range(12)]
SETTINGS = EngineSettings(
    index=IndexParams(hnsw_m=8, ef_construction=16, ef_search=16, exact_threshold=0),
    maintenance_interval_seconds=3600,
)

hashes = st.builds(
    lambda base, flips: POOL[base] ^ flips,
    st.integers(0, len(POOL) - 1),
    st.sampled_from([0, 1, 3, 1 << 40, 0xFF, 0xFF00_0000_0000]),
)


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


class EngineAgainstADict(RuleBasedStateMachine):
    """Planned as a large collection would be (scans priced dear): the graph answers top-k
    once codes are in it, though a scan of these few would be cheaper."""

    engine_settings = SETTINGS

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="neardup-prop-"))
        self.engine = Engine(self.folder, self.engine_settings, costs=STRUCTURES_PREFERRED)
        self.model: dict[str, int] = {}

    def teardown(self) -> None:
        self.engine.close(final_snapshot=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def expected(self, query: int, radius: int) -> list[tuple[int, str]]:
        near = [((v ^ query).bit_count(), i) for i, v in self.model.items()]
        return sorted(m for m in near if m[0] <= radius)

    @rule(image_id=st.sampled_from(IDS), value=hashes, replace=st.booleans())
    def add(self, image_id: str, value: int, replace: bool) -> None:
        policy = OnExistingId.REPLACE if replace else OnExistingId.SKIP
        self.engine.add("", image_id, fp(value), on_existing=policy, find_duplicates=False)
        if replace or image_id not in self.model:
            self.model[image_id] = value

    @rule(image_ids=st.lists(st.sampled_from(IDS), min_size=1, max_size=4))
    def delete(self, image_ids: list[str]) -> None:
        result = self.engine.delete("", image_ids)
        unique = list(dict.fromkeys(image_ids))
        assert result.deleted == sum(i in self.model for i in unique)
        for image_id in unique:
            self.model.pop(image_id, None)

    @rule(query=hashes, radius=st.integers(0, 64))
    def radius_search(self, query: int, radius: int) -> None:
        got = self.engine.search("", [fp(query)], radius=radius)
        assert [(m.distance, m.image.id) for m in got.matches] == self.expected(query, radius)

    @rule(query=hashes, k=st.integers(1, 15))
    def exact_top_k(self, query: int, k: int) -> None:
        got = self.engine.search("", [fp(query)], k=k, exact=True)
        want = self.expected(query, 64)
        assert [m.distance for m in got.matches] == [d for d, _ in want[:k]]

    @rule(query=hashes, k=st.integers(1, 15))
    def graph_top_k(self, query: int, k: int) -> None:
        got = self.engine.search("", [fp(query)], k=k)
        assert len(got.matches) <= k
        for match in got.matches:
            assert self.model[match.image.id] == match.image.fingerprint.value
            assert match.distance == (match.image.fingerprint.value ^ query).bit_count()

    @rule()
    def compact(self) -> None:
        self.engine.compact("")

    @rule()
    def snapshot(self) -> None:
        self.engine.snapshot("")

    @rule(final_snapshot=st.booleans())
    def restart(self, final_snapshot: bool) -> None:
        self.engine.close(final_snapshot=final_snapshot)
        self.engine = Engine(self.folder, self.engine_settings, costs=STRUCTURES_PREFERRED)

    @invariant()
    def index_holds_the_store_s_codes(self) -> None:
        live = self.engine.inspect("").live_codes()
        counts: dict[int, int] = {}
        for value in self.model.values():
            counts[value] = counts.get(value, 0) + 1
        assert live == counts
        assert self.engine.collection("").image_count == len(self.model)


class TablesEngineAgainstADict(EngineAgainstADict):
    """The same on the compact "tables" kind: substring tables from the first code, and
    planned for top-k queries at any size (a scan would answer them at these sizes)."""

    engine_settings = EngineSettings(
        index=IndexParams(kind="tables", substring_tables_min_codes=0),
        maintenance_interval_seconds=3600,
    )

    @rule(query=hashes, k=st.integers(1, 15))
    def graph_top_k(self, query: int, k: int) -> None:
        got = self.engine.search("", [fp(query)], k=k)  # exact without asking
        want = self.expected(query, 64)
        assert [m.distance for m in got.matches] == [d for d, _ in want[:k]]


for machine in (EngineAgainstADict, TablesEngineAgainstADict):
    machine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestEngineAgainstADict = pytest.mark.slow(EngineAgainstADict.TestCase)
TestTablesEngineAgainstADict = pytest.mark.slow(TablesEngineAgainstADict.TestCase)
