"""A Search by hash or id whose index search the planner predicts within the inline budget is
answered on the event loop: it needs no pool worker, so it is answered while every worker is
busy. Image queries (decoding, hashing), unbounded answers, and every search when the budget
is 0 wait for a worker."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from neardup.service.client import Client, NeardupRpcError

from ..conftest import read_image
from .conftest import RunningServer, config_for, start_server

GARDEN = read_image("mate__Garden.jpg")
CROP = read_image("mate__Garden__crop05.jpg")


def _serving(data_dir: Path, **config: object) -> Iterator[tuple[RunningServer, Client, str]]:
    server = start_server(config_for(data_dir, workers=2, **config))
    with Client(server.target, timeout=10) as client:
        stored = client.add(GARDEN, id="garden.jpg")
        client.add(CROP, id="crop.jpg")
        yield server, client, stored.image.hash.hex
    server.shutdown()


@pytest.fixture
def inline(tmp_path: Path) -> Iterator[tuple[RunningServer, Client, str]]:
    yield from _serving(tmp_path / "data")


@pytest.fixture
def pooled(tmp_path: Path) -> Iterator[tuple[RunningServer, Client, str]]:
    yield from _serving(tmp_path / "data", inline_search_us=0)


class BusyWorkers:
    """Every worker of the server's pool held by a task until `release`."""

    def __init__(self, server: RunningServer) -> None:
        self._release = threading.Event()
        pool = server.server._pool
        started = [threading.Event() for _ in range(pool._max_workers)]
        for event in started:
            pool.submit(self._hold, event)
        assert all(event.wait(10) for event in started)

    def _hold(self, started: threading.Event) -> None:
        started.set()
        self._release.wait(60)

    def release(self) -> None:
        self._release.set()


def _waits_for_a_worker(client: Client, *args: object, **search: object) -> None:
    with pytest.raises(NeardupRpcError) as caught:
        client.search(*args, **search)  # type: ignore[arg-type]
    assert caught.value.code is grpc.StatusCode.DEADLINE_EXCEEDED


def test_a_bounded_search_by_hash_or_id_is_answered_while_every_worker_is_busy(
    inline: tuple[RunningServer, Client, str],
) -> None:
    server, client, code = inline
    busy = BusyWorkers(server)
    try:
        by_hash = client.search(hash=code, k=10, max_distance=10)
        assert [m.id for m in by_hash.matches] == ["garden.jpg", "crop.jpg"]
        by_id = client.search(id="garden.jpg", k=5, exclude_self=True)
        assert [m.id for m in by_id.matches] == ["crop.jpg"]
    finally:
        busy.release()


def test_image_queries_and_unbounded_answers_wait_for_a_worker(
    inline: tuple[RunningServer, Client, str],
) -> None:
    server, _, code = inline
    with Client(server.target, timeout=1.0) as impatient:
        busy = BusyWorkers(server)
        try:
            _waits_for_a_worker(impatient, GARDEN, k=10)  # decoding and hashing
            _waits_for_a_worker(impatient, hash=code, max_distance=10)  # no k: no bound
        finally:
            busy.release()
        assert impatient.search(hash=code, max_distance=10).matches


def test_with_a_zero_budget_every_search_waits_for_a_worker(
    pooled: tuple[RunningServer, Client, str],
) -> None:
    server, _, code = pooled
    with Client(server.target, timeout=1.0) as impatient:
        busy = BusyWorkers(server)
        try:
            _waits_for_a_worker(impatient, hash=code, k=10)
        finally:
            busy.release()
        assert [m.id for m in impatient.search(hash=code, k=1).matches] == ["garden.jpg"]


def _searches_on(server: RunningServer, thread: str) -> float:
    registry = server.server.metrics.registry
    return registry.get_sample_value("neardup_searches_total", {"thread": thread}) or 0.0


def test_a_metric_counts_the_searches_answered_on_the_loop_and_in_the_pool(
    inline: tuple[RunningServer, Client, str],
) -> None:
    server, client, code = inline
    client.search(hash=code, k=10, max_distance=10)
    client.search(GARDEN, k=10)  # an image: decoded and hashed in the pool
    assert (_searches_on(server, "loop"), _searches_on(server, "pool")) == (1.0, 1.0)
