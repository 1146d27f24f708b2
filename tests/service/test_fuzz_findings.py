"""What the fuzzers found stays fixed: each kept finding is replayed against a real server
(or the decoder) and answered with a precise status; and both fuzz harnesses still run."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from neardup.index.errors import ImageTooLarge, InvalidImage
from neardup.index.fingerprint import ALGORITHMS, hash_image
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb

FINDINGS = Path(__file__).parent.parent / "fixtures" / "fuzz"
ROOT = Path(__file__).parent.parent.parent
BUGS = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS}


def _rpc_findings() -> list[Path]:
    return sorted((FINDINGS / "rpc").glob("*.bin"))


def _decode_findings() -> list[Path]:
    return sorted((FINDINGS / "decode").glob("*.bin"))


@pytest.mark.parametrize("finding", _rpc_findings(), ids=lambda p: p.stem)
def test_a_request_the_rpc_fuzzer_found_gets_a_precise_status(
    client: Client, finding: Path
) -> None:
    method, _, body = finding.read_bytes().partition(b"\n")
    name = method.decode()
    request_type = getattr(
        pb, pb.DESCRIPTOR.services_by_name["Neardup"].methods_by_name[name].input_type.name
    )
    request = request_type.FromString(body)
    try:
        if name == "AddStream":
            list(client.add_stream([request]))
        else:
            client.call(name, request)
    except NeardupRpcError as exc:
        assert exc.code not in BUGS, exc.message


@pytest.mark.parametrize("finding", _decode_findings(), ids=lambda p: p.stem)
def test_bytes_the_decode_fuzzer_found_are_hashed_or_refused_as_invalid(finding: Path) -> None:
    data = finding.read_bytes()
    names = sorted(ALGORITHMS)
    with contextlib.suppress(InvalidImage, ImageTooLarge):
        hash_image(data[1:], names[data[0] % len(names)], orientations=bool(data[0] & 0x80))


@pytest.mark.slow
@pytest.mark.parametrize("target", ["decode", "rpc"])
def test_each_fuzz_harness_runs_and_finds_nothing_new(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.reliability.fuzz",
            "--target",
            target,
            "--runs",
            "400",
            "--findings",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    executed = re.search(r"(\d+) executions", done.stdout)
    assert executed and int(executed.group(1)) >= 400, done.stdout  # runs, plus the seeds'
