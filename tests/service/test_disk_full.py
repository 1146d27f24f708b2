"""A full disk under a real server: writes are refused with RESOURCE_EXHAUSTED and a message
that says so, reads go on, a snapshot that cannot be written leaves nothing half-written,
and writes succeed again once space is freed, without a restart."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb

from tests.service.conftest import RunningServer, config_for, start_server
from tests.small_disk import fill, small_filesystem

DISK_BYTES = 16 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", DISK_BYTES) as folder:
        yield folder


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"


def _add_until_refused(
    client: Client, rng: random.Random, stored: dict[str, str]
) -> NeardupRpcError:
    for i in range(10_000):
        image_id, code = f"late-{i}", _hex(rng)
        try:
            client.add(id=image_id, hash=code)
        except NeardupRpcError as refused:
            return refused
        stored[image_id] = code
    pytest.fail("10,000 adds fitted on a full disk")


def test_a_full_disk_refuses_writes_precisely_and_serves_reads_until_space_is_freed(
    small_disk: Path,
) -> None:
    rng = random.Random(5)
    data_dir = small_disk / "data"
    server: RunningServer = start_server(config_for(data_dir))
    stored: dict[str, str] = {}
    try:
        with Client(server.target, timeout=30) as client:
            for i in range(200):
                stored[f"early-{i}"] = _hex(rng)
                client.add(id=f"early-{i}", hash=stored[f"early-{i}"])
            filler = small_disk / "filler"
            fill(filler)

            refused = _add_until_refused(client, rng, stored)
            assert refused.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "disk is full" in refused.message, refused.message

            some_id, some_hex = next(iter(stored.items()))
            assert client.get(some_id).hash.hex == some_hex
            found = client.search(hash=some_hex, k=1)
            assert [m.id for m in found.matches] == [some_id]
            with pytest.raises(NeardupRpcError) as snapshot_refused:
                client.call("Snapshot", pb.SnapshotRequest())
            assert snapshot_refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert not [p for p in (data_dir / "snapshots").iterdir() if p.name.endswith(".tmp")]

            filler.unlink()
            client.add(id="after", hash=_hex(rng))
            stored["after"] = client.get("after").hash.hex
            client.call("Snapshot", pb.SnapshotRequest())
    finally:
        server.shutdown()

    restarted = start_server(config_for(data_dir))
    try:
        with Client(restarted.target, timeout=30) as client:
            assert client.stats().collection.image_count == len(stored)
            got = client.get_many(list(stored)).images
            assert {image.id: image.hash.hex for image in got} == stored
    finally:
        restarted.shutdown()
