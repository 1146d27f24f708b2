"""One OpenMP thread for a search's FAISS kernels: on the calling thread only, restored after,
and not asked for at all by a search that calls no FAISS kernel (each OpenMP call into FAISS
releases the GIL, which another thread busy in Python may then hold for a while)."""

from __future__ import annotations

import threading
from typing import Any

import faiss
import pytest
from neardup.index import SearchPath
from neardup.index.hamming.openmp import one_thread

from ..conftest import SCANS_DEAR, SCANS_FREE
from .test_hnsw import SMALL_GRAPH, TABLED, clustered_codes, index_of


def test_inside_the_block_faiss_uses_one_thread_and_the_setting_is_restored_after() -> None:
    faiss.omp_set_num_threads(2)
    with one_thread():
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == 2


def test_the_setting_is_restored_when_the_block_raises() -> None:
    faiss.omp_set_num_threads(2)
    try:
        with one_thread():
            raise RuntimeError("search failed")
    except RuntimeError:
        pass
    assert faiss.omp_get_max_threads() == 2


def test_other_threads_keep_their_own_setting() -> None:
    faiss.omp_set_num_threads(2)
    inside = threading.Event()
    leave = threading.Event()
    seen: list[int] = []

    def search_thread() -> None:
        with one_thread():
            inside.set()
            leave.wait(10)

    worker = threading.Thread(target=search_thread)
    worker.start()
    assert inside.wait(10)
    seen.append(faiss.omp_get_max_threads())  # graph builds here still use both threads
    leave.set()
    worker.join()
    assert seen == [2]


def _calls_counted(monkeypatch: pytest.MonkeyPatch, name: str, calls: list[str]) -> None:
    original = getattr(faiss, name)

    def counted(*args: Any) -> Any:
        calls.append(name)
        return original(*args)

    monkeypatch.setattr(faiss, name, counted)


def test_a_block_inside_one_of_the_same_count_asks_faiss_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from neardup.index.hamming.openmp import threads

    faiss.omp_set_num_threads(2)
    calls: list[str] = []
    with one_thread():
        for name in ("omp_get_max_threads", "omp_set_num_threads"):
            _calls_counted(monkeypatch, name, calls)
        with one_thread():
            pass
        assert calls == []
        with threads(2):  # a different count inside: set, and put back after
            assert faiss.omp_get_max_threads() == 2
        assert faiss.omp_get_max_threads() == 1
    assert faiss.omp_get_max_threads() == 2


def test_a_search_through_the_substring_tables_asks_openmp_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    codes = clustered_codes(2000, seed=5)
    index = index_of(codes, TABLED, costs=SCANS_DEAR)
    index.settle()
    calls: list[str] = []
    for name in ("omp_get_max_threads", "omp_set_num_threads"):
        _calls_counted(monkeypatch, name, calls)
    found = index.search([codes[10] ^ 1], k=10, radius=10)
    assert found.path is SearchPath.TABLES and found.matches
    assert calls == []


def test_a_scan_runs_faiss_s_kernels_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    codes = clustered_codes(2000, seed=5)
    index = index_of(codes, SMALL_GRAPH, costs=SCANS_FREE)
    faiss.omp_set_num_threads(2)
    seen: list[int] = []
    for name in ("hamming_range_search", "hammings_knn_hc"):
        original = getattr(faiss, name)
        monkeypatch.setattr(
            faiss,
            name,
            lambda *args, f=original: seen.append(faiss.omp_get_max_threads()) or f(*args),
        )
    assert index.search([codes[10]], radius=4).path is SearchPath.EXACT
    assert index.search([codes[10]], k=5, exact=True).path is SearchPath.EXACT
    assert seen and set(seen) == {1}
    assert faiss.omp_get_max_threads() == 2
