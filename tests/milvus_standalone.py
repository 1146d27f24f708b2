"""A real standalone Milvus server for a test: the server binary PyPI's `milvus` package ships
(it starts offline), run in a child process on a free loopback port with its data in the
test's folder, and stopped (with the child) after the test.

Where the package is missing or the server does not start, the tests that need it are
skipped with the reason.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["standalone_milvus"]

_START_SECONDS = 180
# The child: start the server (the package picks its internal ports itself), print its
# port, and stop it when told (stdin closes).
_CHILD = """
import sys
from milvus import MilvusServer
server = MilvusServer()
server.set_base_dir(sys.argv[1])
server.listen_port = int(sys.argv[2])
server.show_startup_banner = False
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standalone_milvus(folder: Path) -> Iterator[str]:
    """The URI of a standalone Milvus server running for the block's duration."""
    pytest.importorskip("milvus", reason="the standalone Milvus server (pip install milvus)")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder), str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        started = time.monotonic()
        line = child.stdout.readline() if child.stdout else ""
        if "ready" not in line:
            log = folder / "logs" / "milvus-stderr.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else line
            pytest.skip(f"the standalone Milvus server did not start: {tail.strip()}")
        if time.monotonic() - started > _START_SECONDS:
            pytest.skip(f"the standalone Milvus server took over {_START_SECONDS} s to start")
        yield f"http://127.0.0.1:{port}"
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
