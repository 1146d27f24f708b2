"""More uploads at once than the server admits (more calls, or more seconds of work for its
workers, than its bounds): the extra calls are refused at once with RESOURCE_EXHAUSTED, the
admitted ones are answered, a stream waits instead of failing, and the server serves
normally once the burst is over."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from neardup.service.client import Client, NeardupRpcError, add_request

from tests.conftest import read_image
from tests.service.conftest import RunningServer, config_for, start_server

BURST = 48


@pytest.fixture(
    scope="module",
    params=[{"max_pending_calls": 3}, {"max_queue_seconds": 0.005}],
    ids=["bound-on-calls", "bound-on-seconds-of-work"],
)
def small_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningServer]:
    data = tmp_path_factory.mktemp("overload") / "data"
    running = start_server(config_for(data, workers=1, **request.param))
    # the server learns what a hash and an add cost (the bound on seconds reads that)
    _hash_code(running.target, read_image("mate__LadyBird.jpg"))
    with Client(running.target, timeout=60) as client:
        client.add(read_image("mate__Garden__jpeg30.jpg"), id="learnt")
    yield running
    running.shutdown()


def _hash_code(target: str, image: bytes) -> tuple[grpc.StatusCode, str]:
    with Client(target, timeout=60) as client:
        try:
            client.hash(image)
        except NeardupRpcError as exc:
            return exc.code, exc.message
    return grpc.StatusCode.OK, ""


def test_a_burst_of_uploads_past_the_admission_bound_is_partly_refused_as_busy(
    small_server: RunningServer,
) -> None:
    image = read_image("mate__LadyBird.jpg")
    with ThreadPoolExecutor(BURST) as pool:
        outcomes = list(pool.map(lambda _: _hash_code(small_server.target, image), range(BURST)))
    codes = Counter(code for code, _ in outcomes)
    assert set(codes) == {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    busy = {message for code, message in outcomes if code != grpc.StatusCode.OK}
    assert all("server is busy" in m and "retry with backoff" in m for m in busy)
    assert _hash_code(small_server.target, image) == (grpc.StatusCode.OK, "")  # recovered


def test_a_stream_past_the_admission_bound_waits_instead_of_failing(
    small_server: RunningServer,
) -> None:
    image = read_image("mate__Garden__jpeg30.jpg")
    requests = [add_request(image, id=f"streamed-{i}", collection="") for i in range(40)]
    with Client(small_server.target, timeout=60) as client:
        answers = list(client.add_stream(requests))
    assert [a.WhichOneof("result") for a in answers] == ["added"] * 40
