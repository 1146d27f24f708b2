"""`neardup serve` as a real process: health while loading and draining, reflection,
SIGTERM (final snapshot, exit 0), and SIGKILL in the middle of an AddStream."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams
from neardup.index.code_sets import snapshot_key
from neardup.index.persistence.snapshot import snapshot_path
from neardup.service.client import Client, NeardupRpcError, add_request

from .cli.test_hash import NEARDUP

pytestmark = pytest.mark.slow
HealthStatus = health_pb2.HealthCheckResponse
SMALL_GRAPH = EngineSettings(index=IndexParams(hnsw_m=8, ef_construction=16))


class ServeProcess:
    """`neardup serve` on 127.0.0.1, a free port; the port read from its first line."""

    started: ClassVar[list[subprocess.Popen[str]]] = []  # killed after each test

    def __init__(self, data_dir: Path) -> None:
        # The server logs a JSON line per call on stderr: a file, since a pipe nobody reads
        # fills up and blocks the server.
        self.log = data_dir.parent / "serve.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [NEARDUP, "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        ServeProcess.started.append(self.process)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        assert first.startswith("neardup: listening on 127.0.0.1:"), first + self.log.read_text()
        self.target = first.rsplit(" ", 1)[1].strip()

    def health(self, timeout: float = 30) -> int:
        with grpc.insecure_channel(self.target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service="neardup.v1.Neardup"), timeout=timeout
            )
            return int(reply.status)

    def wait_serving(self, bound_seconds: float = 120) -> list[int]:
        """The health answers until SERVING (bounded)."""
        deadline = time.monotonic() + bound_seconds
        seen = []
        while not seen or seen[-1] != HealthStatus.SERVING:
            assert time.monotonic() < deadline, f"not SERVING after {bound_seconds} s: {seen}"
            seen.append(self.health())
            time.sleep(0.05)
        return seen

    def stop(self, sig: signal.Signals) -> int:
        os.kill(self.process.pid, sig)
        return self.process.wait(60)


LOADED_IMAGES = 20_000


@pytest.fixture(autouse=True)
def no_server_outlives_its_test() -> Iterator[None]:
    """A test that fails half-way must not leave its `neardup serve` running."""
    yield
    while ServeProcess.started:
        process = ServeProcess.started.pop()
        if process.poll() is None:
            process.kill()
            process.wait(30)


@pytest.fixture
def loaded_dir(tmp_path: Path) -> Path:
    """A data dir of 20k images whose snapshot is a FIFO: the server's start-up stalls
    reading it (as on a stalled disk) until the test writes a torn snapshot into it, which
    the server then refuses and rebuilds the index from the store."""
    data = tmp_path / "data"
    rng = random.Random(5)
    with Engine(data, SMALL_GRAPH) as engine:
        engine.add_batch(
            "",
            [
                (f"img{i}", Fingerprint(rng.getrandbits(64), "phash"), {})
                for i in range(LOADED_IMAGES)
            ],
        )
        engine.add("", "marker", Fingerprint(0xABCDEF, "phash"))
        stalled = snapshot_path(data / "snapshots", snapshot_key(engine.collection("")))
    stalled.unlink()
    os.mkfifo(stalled)
    return data


def release_stalled_snapshot(data: Path, bound_seconds: float = 60) -> None:
    """Writes a torn snapshot into the FIFO the server is reading, once it reads it."""
    [fifo] = [path for path in (data / "snapshots").iterdir() if path.is_fifo()]
    deadline = time.monotonic() + bound_seconds
    while True:
        try:  # no reader yet: ENXIO
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            assert time.monotonic() < deadline, "the server never read its snapshot"
            time.sleep(0.01)
    try:
        os.write(fd, b"a torn snapshot")
    except BrokenPipeError:
        pass  # the reader already gave up on an empty FIFO: a torn snapshot all the same
    finally:
        os.close(fd)


def test_health_says_not_serving_while_loading_then_sigterm_drains_and_exits_0(
    loaded_dir: Path,
) -> None:
    server = ServeProcess(loaded_dir)
    with Client(server.target, timeout=5) as client:
        seen = [server.health()]
        with pytest.raises(NeardupRpcError) as caught:
            client.stats()
        assert caught.value.code == grpc.StatusCode.UNAVAILABLE
        release_stalled_snapshot(loaded_dir)
        seen += server.wait_serving()
        assert seen[0] == HealthStatus.NOT_SERVING  # its snapshot read is stalled
        assert client.search(hash="0000000000abcdef", k=1).matches[0].id == "marker"

    with grpc.insecure_channel(server.target) as channel:
        watch = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service="neardup.v1.Neardup"), timeout=60
        )
        assert next(watch).status == HealthStatus.SERVING
        changes: list[int] = []
        reader = threading.Thread(target=lambda: changes.extend(r.status for r in _quietly(watch)))
        reader.start()
        assert server.stop(signal.SIGTERM) == 0
        reader.join(30)
    assert changes[:1] == [HealthStatus.NOT_SERVING]

    with Engine(loaded_dir, SMALL_GRAPH) as engine:  # the final snapshot was written
        assert {report.source for report in engine.load_reports} == {"snapshot"}
        assert engine.collection("").image_count == LOADED_IMAGES + 1


def _quietly(
    stream: Iterator[health_pb2.HealthCheckResponse],
) -> Iterator[health_pb2.HealthCheckResponse]:
    try:
        yield from stream
    except grpc.RpcError:  # the stream ends when the server goes
        return


def test_reflection_lists_the_services(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path / "data")
    try:
        server.wait_serving()
        with grpc.insecure_channel(server.target) as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            replies = stub.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
            )
            names = {s.name for s in next(replies).list_services_response.service}
        assert {"neardup.v1.Neardup", "grpc.health.v1.Health"} <= names
    finally:
        assert server.stop(signal.SIGINT) == 0


def test_every_item_acknowledged_before_a_sigkill_is_there_after_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServeProcess(data)
    server.wait_serving()
    acknowledged: list[str] = []
    requests = (add_request(hash=f"{i * 7919:016x}", id=f"s{i}") for i in range(100_000))
    with Client(server.target, timeout=None) as client:
        try:
            for response in client.add_stream(requests):
                assert response.HasField("added"), response
                acknowledged.append(response.id)
                if len(acknowledged) == 1500:
                    os.kill(server.process.pid, signal.SIGKILL)
        except NeardupRpcError as error:
            assert error.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert server.process.wait(30) == -signal.SIGKILL
    assert len(acknowledged) >= 1500
    with Engine(data) as engine:
        stored = {image.id for image in engine.list_images("", limit=1000)}
        after = ""
        stored = set()
        while page := engine.list_images("", after_id=after, limit=1000):
            stored |= {image.id for image in page}
            after = page[-1].id
        assert set(acknowledged) <= stored
        assert engine.inspect("").live_codes() == {
            i * 7919: 1 for i in range(100_000) if f"s{i}" in stored
        }
