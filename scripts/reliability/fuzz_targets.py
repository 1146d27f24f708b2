"""The fuzz targets scripts/reliability/fuzz.py runs under libFuzzer: decode and rpc (see
there)."""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["neardup"]):
    from neardup.index.errors import ImageTooLarge, InvalidImage
    from neardup.index.fingerprint import ALGORITHMS, hash_image
    from neardup.service.client import Client, NeardupRpcError
    from neardup.service.config import ServerConfig
    from neardup.service.server import NeardupServer

import grpc
from neardup.v1 import neardup_pb2 as pb

from scripts.reliability.hostile_messages import HostileMessages, request_types

SEED_IMAGES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "images"
# What the server must never answer: a bug's codes, and a hang (a missed deadline).
BAD_CODES = {
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
CALL_SECONDS = 15
FUZZ_COLLECTION = "fz"


def record(findings: Path, target: str, payload: bytes, why: str) -> None:
    """Keeps a Python-level finding; the run goes on."""
    folder = findings / target
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(payload).hexdigest()[:16]
    (folder / f"{target}-{digest}.bin").write_bytes(payload)
    (folder / f"{target}-{digest}.txt").write_text(why + "\n")
    print(f"FINDING {target}-{digest}: {why}", file=sys.stderr, flush=True)


def decode_target(findings: Path) -> Callable[[bytes], None]:
    """hash_image over the input, with an algorithm and orientations drawn from it."""
    names = sorted(ALGORITHMS)

    def one(data: bytes) -> None:
        if not data:
            return
        algorithm = names[data[0] % len(names)]
        try:
            hash_image(data[1:], algorithm, orientations=bool(data[0] & 0x80))
        except (InvalidImage, ImageTooLarge):
            pass
        except Exception as exc:
            record(findings, "decode", data, f"{algorithm}: {type(exc).__name__}: {exc}")

    return one


class _LoopbackServer:
    """A real server on 127.0.0.1 port 0, on its own event loop thread."""

    def __init__(self, data_dir: Path) -> None:
        self._ready = threading.Event()
        self._config = ServerConfig(data_dir=data_dir, listen="127.0.0.1:0")
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)
        self._thread.start()
        if not self._ready.wait(60):
            raise RuntimeError("the fuzzed server did not start")

    async def _serve(self) -> None:
        server = NeardupServer(self._config)
        await server.start()
        self.port = server.port
        self._ready.set()
        await asyncio.Event().wait()  # until the process ends


def _prepare(client: Client) -> list[str]:
    """A collection and a few images to aim at; the names a request may use."""
    images = sorted(p for p in SEED_IMAGES.iterdir() if p.stat().st_size < 64 * 1024)
    _ensure_collection(client)
    ids = []
    for i, path in enumerate(images[:4]):
        for collection in ("", FUZZ_COLLECTION):
            client.add(path.read_bytes(), id=f"img{i}", collection=collection)
        ids.append(f"img{i}")
    return ["", "default", FUZZ_COLLECTION, *ids]


def _ensure_collection(client: Client) -> None:
    try:
        client.call("CreateCollection", pb.CreateCollectionRequest(name=FUZZ_COLLECTION))
    except NeardupRpcError as exc:
        if exc.code != grpc.StatusCode.ALREADY_EXISTS:
            raise


def rpc_target(findings: Path) -> Callable[[bytes], None]:
    """One hostile request per input to a live server."""
    scratch = tempfile.mkdtemp(prefix="neardup-fuzz-")
    server = _LoopbackServer(Path(scratch) / "data")
    client = Client(f"127.0.0.1:{server.port}", timeout=CALL_SECONDS)
    names = _prepare(client)
    images = [p.read_bytes() for p in sorted(SEED_IMAGES.iterdir()) if p.stat().st_size < 64 * 1024]
    methods = request_types(pb.DESCRIPTOR.services_by_name["Neardup"])
    method_names = sorted(methods)

    def one(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        method = method_names[provider.ConsumeIntInRange(0, len(method_names) - 1)]
        request = HostileMessages(provider, images, names).fill(methods[method]())
        code, message = _call(client, method, request)
        if code in BAD_CODES:
            payload = method.encode() + b"\n" + request.SerializeToString()
            record(findings, "rpc", payload, f"{method}: {code.name}: {message}")
        if method == "DropCollection" and code == grpc.StatusCode.OK:
            _ensure_collection(client)

    return one


def _call(client: Client, method: str, request: Any) -> tuple[grpc.StatusCode, str]:
    try:
        if method == "AddStream":
            for _ in client.add_stream(iter([request, request])):
                pass
        else:
            client.call(method, request)
    except NeardupRpcError as exc:
        return exc.code, exc.message
    return grpc.StatusCode.OK, ""


def fuzz(target: str, findings: Path, argv: list[str]) -> int:
    """Runs libFuzzer on one target (it exits the process when done)."""
    one = decode_target(findings) if target == "decode" else rpc_target(findings)
    atheris.Setup(argv, one)
    atheris.Fuzz()
    return 0
