"""A server on the Milvus engine whose Milvus stops answering (a real Milvus Lite process,
stopped with SIGSTOP while the connection stays open): the calls that need Milvus wait in
the thread pool, the event loop goes on serving what does not need it, and the server stops
without waiting for Milvus."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb

from ..conftest import read_image
from .conftest import config_for, start_server

pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed (pip install .[milvus])")
# A Milvus call's deadline while Milvus hangs: longer than any stop should take.
HUNG_CALL_SECONDS = 60


def _free_port() -> int:
    """A port for Milvus Lite's own server, which takes an address, not a bound socket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def milvus_lite(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Milvus Lite server on a TCP port of 127.0.0.1: its URI and process id."""
    from milvus_lite.server import Server

    address = f"127.0.0.1:{_free_port()}"
    server = Server(str(tmp_path / "milvus.db"), address=address)
    if not server.init() or not server.start():
        pytest.skip("Milvus Lite did not start on a TCP address")
    process = server._p
    assert process is not None
    try:
        yield f"http://{address}", process.pid
    finally:
        os.kill(process.pid, signal.SIGCONT)
        server.stop()


def _millis(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def test_health_and_hash_answer_within_100_ms_while_a_search_waits_for_milvus(
    milvus_lite: tuple[str, int], tmp_path: Path
) -> None:
    uri, milvus_pid = milvus_lite
    config = config_for(tmp_path / "unused-data", backend="milvus", milvus_uri=uri, workers=4)
    running = start_server(config)
    garden = read_image("mate__Garden.jpg")
    try:
        with (
            Client(running.target, timeout=60) as client,
            grpc.insecure_channel(running.target) as channel,
        ):
            health = health_pb2_grpc.HealthStub(channel)
            client.add(garden, id="garden")
            assert [m.id for m in client.search(garden, max_distance=4).matches] == ["garden"]

            os.kill(milvus_pid, signal.SIGSTOP)
            waiting: dict[str, object] = {}

            def search() -> None:
                try:
                    waiting["answer"] = client.search(hash="ba19c8ab5fa05a59", max_distance=8)
                except NeardupRpcError as exc:
                    waiting["error"] = exc

            def list_collections() -> None:
                waiting["collections"] = client.call("ListCollections", pb.ListCollectionsRequest())

            searching = threading.Thread(target=search, daemon=True)
            listing = threading.Thread(target=list_collections, daemon=True)
            searching.start()
            listing.start()
            time.sleep(0.5)  # both calls are in the server, waiting for Milvus
            assert searching.is_alive() and listing.is_alive()

            checks = [
                _millis(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5))
                for _ in range(5)
            ]
            hashes = [_millis(lambda: client.hash(garden)) for _ in range(5)]
            health_ms, hash_ms = statistics.median(checks), statistics.median(hashes)
            print(f"while Milvus is stopped: Health p50 {health_ms:.1f} ms, Hash {hash_ms:.1f} ms")
            assert searching.is_alive(), "the search should still be waiting for Milvus"
            assert health_ms < 100
            assert hash_ms < 100
            os.kill(milvus_pid, signal.SIGCONT)
            searching.join(60)
            listing.join(60)
        assert "error" not in waiting, waiting.get("error")
        assert isinstance(waiting["answer"], pb.SearchResponse)
        names = [c.name for c in waiting["collections"].collections]  # type: ignore[attr-defined]
        assert names == ["default"]
    finally:
        os.kill(milvus_pid, signal.SIGCONT)
        running.shutdown()


def test_a_server_whose_milvus_hangs_stops_without_waiting_for_milvus(
    milvus_lite: tuple[str, int], tmp_path: Path
) -> None:
    uri, milvus_pid = milvus_lite
    config = config_for(
        tmp_path / "unused-data",
        backend="milvus",
        milvus_uri=uri,
        workers=4,
        grace_seconds=1.0,
        milvus_call_seconds=HUNG_CALL_SECONDS,
    )
    running = start_server(config)
    answered: dict[str, object] = {}
    try:
        with Client(running.target, timeout=120) as client:
            client.add(hash="ba19c8ab5fa05a59", id="first")
            os.kill(milvus_pid, signal.SIGSTOP)

            def search() -> None:
                try:
                    answered["answer"] = client.search(hash="ba19c8ab5fa05a59", max_distance=8)
                except NeardupRpcError as exc:
                    answered["error"] = exc

            searching = threading.Thread(target=search, daemon=True)
            searching.start()
            time.sleep(0.5)  # the search waits in the server for Milvus
            started = time.monotonic()
            running.shutdown()
            took = time.monotonic() - started
            searching.join(10)
        assert not running.thread.is_alive(), "the server is still stopping"
        # Well under the calls' deadline: closing ended the call waiting on Milvus.
        assert took < HUNG_CALL_SECONDS / 3, f"stopping took {took:.1f} s"
        assert "error" in answered, "the search cannot have been answered by a stopped Milvus"
    finally:
        os.kill(milvus_pid, signal.SIGCONT)
