"""Operations: Prometheus metrics on their own port, JSON log lines for failed and slow calls
(for every call with log_calls = "all"), config sources, and refused calls that leave the
server serving."""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from neardup.index.errors import InvalidArgument
from neardup.service.calls import JsonFormatter
from neardup.service.client import Client, NeardupRpcError
from neardup.service.config import load_config

from ..conftest import read_image
from .conftest import RunningServer, config_for, start_server

GARDEN = read_image("mate__Garden.jpg")


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        config_for(
            tmp_path_factory.mktemp("observed") / "data",
            metrics_listen="127.0.0.1:0",
            log_calls="all",
        )
    )
    yield running
    running.shutdown()


def scrape(server: RunningServer) -> str:
    url = f"http://127.0.0.1:{server.server.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def test_metrics_count_calls_by_method_and_code_and_report_the_index(
    observed: RunningServer,
) -> None:
    with Client(observed.target) as client:
        client.add(GARDEN, id="garden.jpg")
        client.search(GARDEN, k=3)
        with pytest.raises(NeardupRpcError):
            client.get("nobody")
    deadline = time.monotonic() + 10  # the server counts a call just after answering it
    while 'method="Get"' not in (text := scrape(observed)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 'neardup_requests_total{code="OK",method="Add"} 1.0' in text
    assert 'neardup_requests_total{code="NOT_FOUND",method="Get"} 1.0' in text
    assert 'neardup_request_seconds_bucket{le="+Inf",method="Search"} 1.0' in text
    assert 'neardup_images{collection="default"} 1.0' in text
    # its own hash and its two crop hashes (the default collection keeps crop hashes)
    assert 'neardup_codes{collection="default"} 3.0' in text
    assert "neardup_store_queue_depth 0.0" in text
    assert 'neardup_snapshot_age_seconds{collection="default"}' in text


def calls_logged(caplog: pytest.LogCaptureFixture, count: int) -> list[logging.LogRecord]:
    """The call records, once `count` are there: the server logs a call just after the
    client has its answer."""
    deadline = time.monotonic() + 10
    while True:
        records = [r for r in caplog.records if r.name == "neardup.calls"]
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def test_with_log_calls_all_each_call_logs_one_json_line_without_image_bytes(
    observed: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="neardup.calls"), Client(observed.target) as client:
        client.search(GARDEN, collection="default", k=1)
        with pytest.raises(NeardupRpcError):
            client.search(GARDEN, collection="missing", k=1)
        records = calls_logged(caplog, 2)
    lines = [json.loads(JsonFormatter().format(r)) for r in records]
    assert [(line["method"], line["code"], line["collection"]) for line in lines] == [
        ("Search", "OK", "default"),
        ("Search", "NOT_FOUND", "missing"),
    ]
    assert all(isinstance(line["ms"], float) for line in lines)
    assert all(len(json.dumps(line)) < 1000 for line in lines)  # no image in a log line


def test_by_default_only_failed_calls_are_logged(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="neardup.calls"), Client(server.target) as client:
        client.search(GARDEN, collection="default", k=1)
        with pytest.raises(NeardupRpcError):
            client.get("no-such-id", collection="default")
        client.search(GARDEN, collection="default", k=1)
        with pytest.raises(NeardupRpcError):
            client.search(GARDEN, collection="missing", k=1)
        records = calls_logged(caplog, 2)
    assert [(r.method, r.code) for r in records] == [  # type: ignore[attr-defined]
        ("Get", "NOT_FOUND"),
        ("Search", "NOT_FOUND"),
    ]


def test_by_default_a_slow_call_is_logged_though_it_succeeded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Slow is what the setting says: at 0 s every call is slow, at an hour none is."""
    for slow_seconds, logged in ((3600.0, []), (0.0, [("Hash", "OK")])):
        caplog.clear()
        running = start_server(
            config_for(tmp_path / f"data-{slow_seconds}", slow_call_seconds=slow_seconds)
        )
        try:
            with (
                caplog.at_level(logging.INFO, logger="neardup.calls"),
                Client(running.target) as client,
            ):
                client.hash(GARDEN)
                with pytest.raises(NeardupRpcError):  # a failed call is always logged:
                    client.get("no-such-id")  # once it is, the Hash's turn has come
                records = calls_logged(caplog, len(logged) + 1)
        finally:
            running.shutdown()
        hashes = [(r.method, r.code) for r in records if r.method == "Hash"]  # type: ignore[attr-defined]
        assert hashes == logged


def test_an_unknown_call_log_policy_is_refused_before_serving(tmp_path: Path) -> None:
    from neardup.service.server import NeardupServer

    with pytest.raises(InvalidArgument, match="log_calls"):
        NeardupServer(config_for(tmp_path / "data", log_calls="some"))


def test_an_expired_deadline_is_logged_as_such(
    observed: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    from neardup.v1 import neardup_pb2 as pb
    from neardup.v1 import neardup_pb2_grpc as pb_grpc

    with (
        caplog.at_level(logging.INFO, logger="neardup.calls"),
        grpc.insecure_channel(observed.target) as channel,
    ):
        stub = pb_grpc.NeardupStub(channel)

        def late_items() -> Iterator[pb.AddRequest]:
            time.sleep(0.5)  # the call's deadline passes while the server waits for this
            yield pb.AddRequest(id="late", hash=pb.Hash(hex="00" * 8))

        with pytest.raises(grpc.RpcError) as caught:
            list(stub.AddStream(late_items(), timeout=0.1))
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
        stub.Hash(pb.HashRequest(image=GARDEN), timeout=30)
        codes = [r.code for r in calls_logged(caplog, 2)]  # type: ignore[attr-defined]
    assert codes == ["DEADLINE_EXCEEDED", "OK"]


def test_settings_come_from_file_then_environment_then_flags(tmp_path: Path) -> None:
    file = tmp_path / "neardup.toml"
    file.write_text('listen = "127.0.0.1:7000"\nworkers = 3\ndata_dir = "from-file"\n')
    config = load_config(
        file,
        environ={"NEARDUP_WORKERS": "5", "NEARDUP_MAX_PIXELS": "1000", "HOME": "/x"},
        flags={"data_dir": "from-flag", "listen": None},
    )
    assert (config.listen, config.workers, config.max_pixels) == ("127.0.0.1:7000", 5, 1000)
    assert config.data_dir == Path("from-flag")
    file.write_text("no_such_setting = 1\n")
    with pytest.raises(InvalidArgument, match="no_such_setting"):
        load_config(file, environ={})
    with pytest.raises(InvalidArgument, match="workers"):
        load_config(None, environ={"NEARDUP_WORKERS": "many"})


def test_the_index_kind_of_new_collections_is_a_setting_checked_before_serving(
    tmp_path: Path,
) -> None:
    config = load_config(None, environ={"NEARDUP_INDEX_KIND": "tables"})
    assert config.engine_settings().index.kind == "tables"
    with pytest.raises(InvalidArgument, match=r"index\.kind must be one of"):
        load_config(None, environ={"NEARDUP_INDEX_KIND": "graph"}).engine_settings()
    milvus = load_config(
        None, environ={}, flags={"backend": "milvus", "milvus_uri": "x.db", "index_kind": "tables"}
    )
    with pytest.raises(InvalidArgument, match="Milvus keeps its own"):
        milvus.check_backend()
