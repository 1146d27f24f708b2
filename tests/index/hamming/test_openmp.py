"""One OpenMP thread for searches: on the calling thread only, and restored after."""

from __future__ import annotations

import threading

import faiss
from neardup.index.hamming.openmp import one_thread


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
