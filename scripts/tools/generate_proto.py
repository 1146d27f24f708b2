"""Regenerates the gRPC stubs beside the contract (`make proto`).

The stubs (`neardup_pb2.py`, `neardup_pb2.pyi`, `neardup_pb2_grpc.py`) are committed so that a
plain install needs no code generator; `tests/proto/test_stubs.py` regenerates them into a
temporary folder and fails when the committed ones differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
CONTRACT = "neardup/v1/neardup.proto"


def generate(out_dir: Path = PROTO_ROOT) -> None:
    """Writes the Python, type-stub and gRPC modules for the contract under `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto
    status = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--pyi_out={out_dir}",
            f"--grpc_python_out={out_dir}",
            str(PROTO_ROOT / CONTRACT),
        ]
    )
    if status != 0:
        raise RuntimeError(f"protoc failed with status {status}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=PROTO_ROOT, help="output root")
    generate(parser.parse_args().out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
