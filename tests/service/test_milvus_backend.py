"""A real neardup server on the Milvus engine (`backend = "milvus"`, a real Milvus Lite): the
same contract over gRPC, with nothing in the data dir, and precise statuses for what Milvus
keeps for itself (snapshots) or does not offer (crop hashes)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from grpc import StatusCode as Code
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb
from PIL import Image

from ..conftest import read_image
from .conftest import RunningServer, config_for, start_server

pytest.importorskip("milvus_lite", reason="Milvus Lite is not installed (pip install .[milvus])")


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("milvus-server")
    config = config_for(
        folder / "unused-data", backend="milvus", milvus_uri=str(folder / "neardup.db")
    )
    running = start_server(config)
    yield running
    running.shutdown()


@pytest.fixture(scope="module")
def client(milvus_server: RunningServer) -> Iterator[Client]:
    with Client(milvus_server.target, timeout=60) as opened:
        yield opened


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


def test_an_image_added_through_the_server_is_found_by_its_re_encoded_copy(
    client: Client, tmp_path_factory: pytest.TempPathFactory
) -> None:
    garden = read_image("mate__Garden.jpg")
    added = client.add(garden, id="garden", metadata={"album": "2026"})
    assert added.outcome == pb.ADD_OUTCOME_ADDED
    with Image.open(io.BytesIO(garden)) as image:
        copy = jpeg(image.resize((400, 250)))
    found = client.search(copy, max_distance=10, include_metadata=True)
    assert [(m.id, dict(m.metadata)) for m in found.matches] == [("garden", {"album": "2026"})]
    assert found.path == pb.SEARCH_PATH_EXACT
    duplicate = client.add(copy, id="copy")
    assert [m.id for m in duplicate.duplicates] == ["garden"]
    stats = client.stats("")
    assert stats.collection.image_count == 2 and stats.index_kind.startswith("Milvus")


def test_what_milvus_keeps_for_itself_is_unimplemented_not_unknown(client: Client) -> None:
    with pytest.raises(NeardupRpcError) as snapshot:
        client.call("Snapshot", pb.SnapshotRequest())
    assert snapshot.value.code == Code.UNIMPLEMENTED and "Milvus" in str(snapshot.value)
    with pytest.raises(NeardupRpcError) as crops:
        client.call("CreateCollection", pb.CreateCollectionRequest(name="c", crop_hashes=True))
    assert crops.value.code == Code.UNIMPLEMENTED
    with pytest.raises(NeardupRpcError) as unknown:
        client.search(hash="00" * 8, collection="nope")
    assert unknown.value.code == Code.NOT_FOUND


def test_the_data_dir_is_left_empty(milvus_server: RunningServer) -> None:
    data_dir = Path(milvus_server.server.config.data_dir)
    assert not data_dir.exists() or not any(data_dir.iterdir())
