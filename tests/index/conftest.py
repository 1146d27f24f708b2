"""Cost models that make a chosen route win, so small test collections exercise the routes
a real machine only plans for millions of codes: a test gives one to the index or engine it
builds (`costs=`), and the answers are checked against brute force either way. And a count
of the substring tables made, which says whether a restart rebuilt them or loaded them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from neardup.index.hamming.costs import CostModel, Linear, ScanCosts
from neardup.index.hamming.substrings import SubstringTables

_DEAR = Linear(0.0, 1e6)  # per code: a few codes after the tables cost little

# Scans priced above any structure: the tables and the graph answer at any size.
SCANS_DEAR = CostModel(ScanCosts(_DEAR, _DEAR, _DEAR))
# Scans priced at nothing: no structure can be predicted cheaper (whatever this noisy
# machine would time them at).
SCANS_FREE = CostModel(ScanCosts(*(Linear(0.0, 0.0),) * 3))
# Scans dear, and codes as dense as a collection of billions (a top-k grown through the
# tables is expected to find its k codes at the first radius): the tables and the graph
# are planned at any size.
STRUCTURES_PREFERRED = replace(SCANS_DEAR, within=np.ones(65))
# The tables planned, and the codes after their prefix scanned by FAISS's kernel, as a
# million of them would be rather than a few thousand.
NUMPY_DEARER_THAN_FAISS = CostModel(ScanCosts(Linear(1e6, 1e3), _DEAR, Linear(1e9, 1e9)))


def range_top_k_at_any_size(**changes: Any) -> CostModel:
    """This machine's model, an exact top-k scan made by one range search at any size."""
    return replace(CostModel.measured(), range_top_k_from=0, **changes)


@pytest.fixture
def tables_made(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per `SubstringTables` made from now on: tables loaded from a snapshot
    make one (the layout's empty arrays, nothing sorted); a rebuild makes another."""
    made: list[int] = []
    original = SubstringTables.__init__

    def counted(tables: SubstringTables, *args: Any, **kwargs: Any) -> None:
        made.append(1)
        original(tables, *args, **kwargs)

    monkeypatch.setattr(SubstringTables, "__init__", counted)
    return made
