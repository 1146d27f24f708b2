"""Cost models that make a chosen route win, so small test collections exercise the routes
a real machine only plans for millions of codes: the planner's choice is its input, the
answers are checked against brute force either way. And a count of the substring tables
made, which says whether a restart rebuilt them or loaded them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from neardup.index.hamming import planner
from neardup.index.hamming.substrings import SubstringTables

_DEAR = planner.Linear(0.0, 1e6)  # per code: a few codes after the tables cost little


@contextmanager
def structures_preferred() -> Iterator[None]:
    """Scans priced above any structure, and codes as dense as a collection of billions
    (a top-k grown through the tables is expected to find its k codes at the first
    radius): the tables and the graph are planned at any size."""
    dear = planner.ScanCosts(_DEAR, _DEAR, _DEAR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(planner, "scan_costs", lambda: dear)
        patch.setattr(planner, "UNIFORM_WITHIN", np.ones(65))
        yield


@pytest.fixture
def scans_dear(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scans priced above any structure: the tables and the graph answer at any size."""
    dear = planner.ScanCosts(_DEAR, _DEAR, _DEAR)
    monkeypatch.setattr(planner, "scan_costs", lambda: dear)


@pytest.fixture
def scans_free(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scans priced at nothing: no structure can be predicted cheaper (whatever this noisy
    machine timed them at)."""
    free = planner.ScanCosts(*(planner.Linear(0.0, 0.0),) * 3)
    monkeypatch.setattr(planner, "scan_costs", lambda: free)


@pytest.fixture
def growth_expected_to_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes as dense as a collection of billions: the planner expects a top-k grown through
    the tables to find its k codes at the first radius, and plans it at any size."""
    monkeypatch.setattr(planner, "UNIFORM_WITHIN", np.ones(65))


@pytest.fixture
def numpy_dearer_than_faiss(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tables planned, and the codes after their prefix scanned by FAISS's kernel, as a
    million of them would be rather than a few thousand."""
    costs = planner.ScanCosts(planner.Linear(1e6, 1e3), _DEAR, planner.Linear(1e9, 1e9))
    monkeypatch.setattr(planner, "scan_costs", lambda: costs)


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
