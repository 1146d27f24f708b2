"""A Milvus-backed server whose Milvus goes away and comes back (the real standalone server,
stopped and started again in its folder): health says NOT_SERVING while Milvus does not
answer and SERVING when it does, calls fail with UNAVAILABLE naming Milvus within their
deadline, and no add acknowledged before, during or after the restart is lost."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from neardup.service.client import Client, NeardupRpcError, add_request
from neardup.v1 import neardup_pb2 as pb

from scripts.tools import milvus_standalone as launcher

from .conftest import RunningServer, config_for, start_server

pytestmark = pytest.mark.slow
CALL_SECONDS = 3
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[launcher.StandaloneMilvus]:
    server = launcher.StandaloneMilvus(tmp_path_factory.mktemp("milvus") / "standalone")
    try:
        server.start()
    except launcher.StandaloneUnavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def neardup(milvus: launcher.StandaloneMilvus, tmp_path: Path) -> Iterator[RunningServer]:
    if milvus.pid is None:
        milvus.start()
    config = config_for(
        tmp_path / "unused",
        backend="milvus",
        milvus_uri=milvus.uri,
        milvus_call_seconds=CALL_SECONDS,
        grace_seconds=2.0,
    )
    running = start_server(config)
    yield running
    running.shutdown()


def health_of(target: str) -> int:
    with grpc.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return int(stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status)


def within(seconds: float, check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def random_hash(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def test_while_milvus_is_down_health_is_not_serving_and_calls_fail_unavailable_in_time(
    milvus: launcher.StandaloneMilvus, neardup: RunningServer
) -> None:
    with Client(neardup.target, timeout=60) as client:
        client.add(hash="00000000000000ff", id="before")
        assert health_of(neardup.target) == SERVING
        milvus.stop()
        assert within(10, lambda: health_of(neardup.target) == NOT_SERVING)
        started = time.monotonic()
        with pytest.raises(NeardupRpcError) as down:
            client.search(hash="00000000000000ff", max_distance=4)
        waited = time.monotonic() - started
        assert down.value.code == grpc.StatusCode.UNAVAILABLE
        assert "Milvus" in down.value.message
        assert waited < 2 * CALL_SECONDS + 2, f"the search failed after {waited:.1f} s"
        milvus.start()
        assert within(60, lambda: health_of(neardup.target) == SERVING)
        found = client.search(hash="00000000000000ff", max_distance=4)
        assert [m.id for m in found.matches] == ["before"]


def test_every_add_acknowledged_across_a_milvus_restart_is_stored(
    milvus: launcher.StandaloneMilvus, neardup: RunningServer
) -> None:
    rng = random.Random(34)
    requests = [add_request(hash=random_hash(rng), id=f"img-{i:05d}") for i in range(4000)]
    acknowledged: list[str] = []
    refused: list[pb.AddStreamResponse] = []
    restarted = threading.Event()

    def pace() -> Iterator[pb.AddRequest]:
        for i, request in enumerate(requests):
            if i % 500 == 0:
                time.sleep(0.5)  # the restart falls within the stream, not after it
            if i == 3000:
                restarted.wait(120)
            yield request

    def stream() -> None:
        with Client(neardup.target, timeout=300) as client:
            for answer in client.add_stream(pace()):
                if answer.HasField("added"):
                    acknowledged.append(answer.id)
                else:
                    refused.append(answer)

    streaming = threading.Thread(target=stream, daemon=True)
    streaming.start()
    assert within(30, lambda: len(acknowledged) > 200), "the stream did not start"
    milvus.stop()
    time.sleep(2)
    milvus.start()
    restarted.set()
    streaming.join(300)
    assert not streaming.is_alive()
    assert refused, "no add was in flight while Milvus was down"
    assert all(r.error.code == grpc.StatusCode.UNAVAILABLE.value[0] for r in refused)
    assert len(acknowledged) + len(refused) == len(requests)
    assert within(60, lambda: health_of(neardup.target) == SERVING)
    with Client(neardup.target, timeout=60) as client:
        stored = set()
        for start in range(0, len(acknowledged), 1000):
            answer = client.get_many(acknowledged[start : start + 1000])
            stored.update(image.id for image in answer.images)
    assert stored == set(acknowledged)
