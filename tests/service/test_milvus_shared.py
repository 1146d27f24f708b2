"""Neardup servers sharing one real standalone Milvus server: an add acknowledged through one
is found at once by a duplicate check through a server that starts after it; between servers
already running, writes are seen within the engine's read lag (`consistency`); collections
created through one are served by the other, and a delete through the second is seen by the
first."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index.milvus.consistency import READ_LAG_SECONDS
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb

from ..conftest import read_image
from ..milvus_standalone import standalone_milvus
from .conftest import RunningServer, config_for, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with standalone_milvus(tmp_path_factory.mktemp("shared-milvus") / "milvus") as uri:
        yield uri


def serving(uri: str, folder: Path) -> RunningServer:
    return start_server(config_for(folder, backend="milvus", milvus_uri=uri))


@pytest.fixture(scope="module")
def two_clients(
    milvus_uri: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, Client]]:
    servers = [serving(milvus_uri, tmp_path_factory.mktemp("unused")) for _ in range(2)]
    clients = [Client(s.target, timeout=120) for s in servers]
    try:
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.shutdown()


def eventually(call: object, seconds: float = READ_LAG_SECONDS + 5) -> object:
    deadline = time.monotonic() + seconds
    while True:
        result = call()  # type: ignore[operator]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_an_add_is_a_duplicate_at_once_for_a_server_started_after_it(
    two_clients: tuple[Client, Client], milvus_uri: str, tmp_path: Path
) -> None:
    first, _ = two_clients
    ladybird = read_image("mate__LadyBird.jpg")
    assert first.add(ladybird, id="ladybird").outcome == pb.ADD_OUTCOME_ADDED
    later = serving(milvus_uri, tmp_path)
    try:
        with Client(later.target, timeout=120) as client:
            duplicate = client.add(ladybird, id="ladybird-again", reject_duplicates=True)
        assert duplicate.outcome == pb.ADD_OUTCOME_REJECTED_DUPLICATE
        assert [m.id for m in duplicate.duplicates] == ["ladybird"]
    finally:
        later.shutdown()


def test_an_add_through_one_server_is_found_through_the_other(
    two_clients: tuple[Client, Client],
) -> None:
    first, second = two_clients
    garden = read_image("mate__Garden.jpg")
    assert first.add(garden, id="garden").outcome == pb.ADD_OUTCOME_ADDED
    assert first.get("garden").id == "garden"  # its own write: at once
    stored = eventually(lambda: second.get_many(["garden"]).images)
    assert [image.hash.hex for image in stored] == [first.get("garden").hash.hex]  # type: ignore[attr-defined]
    found = eventually(lambda: list(second.search(garden, max_distance=4).matches))
    assert [m.id for m in found] == ["garden"]  # type: ignore[attr-defined]
    duplicate = second.add(garden, id="again")
    assert [m.id for m in duplicate.duplicates] == ["garden"]


def test_a_collection_and_a_delete_are_shared(two_clients: tuple[Client, Client]) -> None:
    first, second = two_clients
    first.call("CreateCollection", pb.CreateCollectionRequest(name="shared-set", min_quality=0))
    second.add(hash="00000000000000ff", id="x", collection="shared-set")
    stored = eventually(lambda: first.get_many(["x"], collection="shared-set").images)
    assert [image.hash.hex for image in stored] == ["00000000000000ff"]  # type: ignore[attr-defined]
    assert second.delete(["x"], collection="shared-set").deleted == 1
    with pytest.raises(NeardupRpcError) as gone:
        second.get("x", collection="shared-set")  # its own delete: at once
    assert gone.value.code.name == "NOT_FOUND"
    assert eventually(lambda: not first.get_many(["x"], collection="shared-set").images)
