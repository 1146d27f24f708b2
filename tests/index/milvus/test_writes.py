"""The Milvus engine's write queue: writes queued meanwhile reach `apply` together, as runs
of one kind and collection in the order they were queued; a failed run fails each of its
writes; a closed queue fails what it is given and what it could not apply."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from neardup.index.milvus.writes import Write, WriteQueue


class Stopping(Exception):
    pass


def test_writes_queued_meanwhile_are_applied_as_runs_of_one_key_in_order() -> None:
    entered, gate = threading.Event(), threading.Event()
    runs: list[list[tuple[str, str]]] = []

    def apply(group: list[Write]) -> None:
        entered.set()
        gate.wait(10)
        runs.append([w.key for w in group])
        for write in group:
            write.future.set_result(len(runs))

    queue = WriteQueue(apply, Stopping)
    first = queue.put(Write(("add", "c")))  # taken alone: the queue was empty
    assert entered.wait(10)
    keys = [("add", "c"), ("add", "c"), ("delete", "c"), ("add", "c"), ("add", "d")]
    futures = [queue.put(Write(key)) for key in keys]
    gate.set()
    assert first.result(10) == 1
    assert [f.result(10) for f in futures] == [2, 2, 3, 4, 5]
    assert runs[1:] == [keys[:2], [keys[2]], [keys[3]], [keys[4]]]
    queue.close(10)


def test_a_run_whose_apply_fails_fails_each_of_its_writes() -> None:
    def apply(group: list[Write]) -> None:
        raise RuntimeError("Milvus said no")

    queue = WriteQueue(apply, Stopping)
    futures = [queue.put(Write(("add", "c"))) for _ in range(3)]
    for future in futures:
        with pytest.raises(RuntimeError, match="Milvus said no"):
            future.result(10)
    queue.close(10)


def test_a_closed_queue_fails_writes_it_could_not_apply_and_new_ones() -> None:
    started, release = threading.Event(), threading.Event()

    def apply(group: list[Write]) -> None:
        started.set()
        release.wait(10)
        for write in group:
            write.future.set_result("applied")

    queue = WriteQueue(apply, Stopping)
    running = queue.put(Write(("add", "c")))
    assert started.wait(10)
    waiting = queue.put(Write(("add", "c")))
    queue.close(0.1)  # the running write outlasts the wait
    with pytest.raises(Stopping):
        waiting.result(10)
    late: Future[object] = queue.put(Write(("add", "c")))
    with pytest.raises(Stopping):
        late.result(10)
    release.set()
    assert running.result(10) == "applied"
