"""The contract: the committed stubs are what `make proto` generates, and the service has
every operation of DESIGN.md."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from neardup.v1 import neardup_pb2, neardup_pb2_grpc

from scripts.tools import generate_proto

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ["neardup_pb2.py", "neardup_pb2.pyi", "neardup_pb2_grpc.py"]


@pytest.mark.parametrize("name", GENERATED)
def test_committed_stubs_are_not_stale(tmp_path: Path, name: str) -> None:
    generate_proto.generate(tmp_path)
    fresh = (tmp_path / "neardup" / "v1" / name).read_text()
    committed = (ROOT / "proto" / "neardup" / "v1" / name).read_text()
    assert committed == fresh, f"{name} is stale: run `make proto` and commit the result"


def test_the_service_has_every_operation_of_the_design() -> None:
    methods = set(neardup_pb2.DESCRIPTOR.services_by_name["Neardup"].methods_by_name)
    assert methods == {
        "CreateCollection",
        "ListCollections",
        "DropCollection",
        "Stats",
        "Hash",
        "Compare",
        "Add",
        "AddStream",
        "Delete",
        "Search",
        "SearchBatch",
        "Get",
        "GetMany",
        "List",
        "Snapshot",
        "Compact",
    }
    add_stream = neardup_pb2.DESCRIPTOR.services_by_name["Neardup"].methods_by_name["AddStream"]
    assert add_stream.client_streaming and add_stream.server_streaming
    assert hasattr(neardup_pb2_grpc, "NeardupServicer")


def test_search_queries_by_image_hash_or_id() -> None:
    query = neardup_pb2.SearchRequest.DESCRIPTOR.oneofs_by_name["query"]
    assert [f.name for f in query.fields] == ["image", "hash", "id"]


def test_every_field_and_enum_value_is_commented() -> None:
    # protoc keeps comments in source_code_info only when asked; parse the .proto instead.
    text = (ROOT / "proto" / "neardup" / "v1" / "neardup.proto").read_text().splitlines()
    for number, line in enumerate(text):
        stripped = line.strip()
        is_field = (
            stripped.endswith(";")
            and "=" in stripped
            and not stripped.startswith(("//", "option", "syntax"))
        )
        if not is_field:
            continue
        above = text[number - 1].strip()
        assert above.startswith("//"), f"line {number + 1} has no comment: {stripped}"


def test_the_orientation_enum_matches_the_engine() -> None:
    from neardup.index import Orientation

    values = {v.name: v.number for v in neardup_pb2.Orientation.DESCRIPTOR.values}
    assert values == {f"ORIENTATION_{o.name}": int(o) for o in Orientation}
    assert sys.modules["neardup.v1.neardup_pb2"] is neardup_pb2


def _requirement(name: str) -> str:
    """pyproject.toml's requirement of a runtime dependency, e.g. "protobuf>=7.35.1,<8"."""
    import tomllib

    with (ROOT / "pyproject.toml").open("rb") as f:
        dependencies: list[str] = tomllib.load(f)["project"]["dependencies"]
    [found] = [r for r in dependencies if r.partition(">=")[0].strip() == name]
    return found


def _minimum(name: str) -> str:
    """The `>=` version pyproject.toml requires of a runtime dependency."""
    return _requirement(name).partition(">=")[2].split(",")[0].strip()


def test_pyproject_requires_the_grpcio_the_stubs_were_generated_for() -> None:
    assert _minimum("grpcio") == neardup_pb2_grpc.GRPC_GENERATED_VERSION


def test_pyproject_requires_the_protobuf_runtime_the_stubs_check_for() -> None:
    import re

    source = (ROOT / "proto" / "neardup" / "v1" / "neardup_pb2.py").read_text()
    found = re.search(
        r"ValidateProtobufRuntimeVersion\(\s*_runtime_version\.Domain\.PUBLIC,\s*"
        r"(\d+),\s*(\d+),\s*(\d+),",
        source,
    )
    assert found is not None, "the protobuf stub no longer states its runtime version"
    major, minor, patch = found.groups()
    assert _minimum("protobuf") == f"{major}.{minor}.{patch}"
    # protobuf refuses a runtime of another major version than the generator's
    assert f"<{int(major) + 1}" in _requirement("protobuf")
