"""Two neardup servers sharing one real standalone Milvus server: what is added through one
is found through the other (Get at once, it reads Strong; a search within Milvus's Bounded
staleness), collections created through one are served by the other, and a delete through
the second is seen by the first."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb

from ..conftest import read_image
from ..milvus_standalone import standalone_milvus
from .conftest import config_for, start_server

pytestmark = pytest.mark.slow
BOUNDED_SECONDS = 30


@pytest.fixture(scope="module")
def two_clients(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Client]]:
    folder = tmp_path_factory.mktemp("shared-milvus")
    with standalone_milvus(folder / "milvus") as uri:
        servers = [
            start_server(config_for(folder / f"unused-{i}", backend="milvus", milvus_uri=uri))
            for i in range(2)
        ]
        clients = [Client(s.target, timeout=120) for s in servers]
        try:
            yield clients[0], clients[1]
        finally:
            for client in clients:
                client.close()
            for server in servers:
                server.shutdown()


def eventually(call: object, seconds: float = BOUNDED_SECONDS) -> object:
    deadline = time.monotonic() + seconds
    while True:
        result = call()  # type: ignore[operator]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


def test_an_add_through_one_server_is_found_through_the_other(
    two_clients: tuple[Client, Client],
) -> None:
    first, second = two_clients
    garden = read_image("mate__Garden.jpg")
    assert first.add(garden, id="garden").outcome == pb.ADD_OUTCOME_ADDED
    assert second.get("garden").hash.hex == first.get("garden").hash.hex
    found = eventually(lambda: list(second.search(garden, max_distance=4).matches))
    assert [m.id for m in found] == ["garden"]  # type: ignore[attr-defined]
    duplicate = second.add(garden, id="again")
    assert [m.id for m in duplicate.duplicates] == ["garden"]


def test_a_collection_and_a_delete_are_shared(two_clients: tuple[Client, Client]) -> None:
    first, second = two_clients
    first.call("CreateCollection", pb.CreateCollectionRequest(name="shared-set", min_quality=0))
    second.add(hash="00000000000000ff", id="x", collection="shared-set")
    assert first.get("x", collection="shared-set").hash.hex == "00000000000000ff"
    assert second.delete(["x"], collection="shared-set").deleted == 1
    with pytest.raises(NeardupRpcError) as gone:
        first.get("x", collection="shared-set")
    assert gone.value.code.name == "NOT_FOUND"
