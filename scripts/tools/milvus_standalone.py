"""A real standalone Milvus server for tests and benchmarks: the server binary PyPI's `milvus`
package ships (it starts offline), run in a child process on a free loopback port with its
data in a given folder, and stopped with the child when the block ends.

    with standalone_milvus(Path("/tmp/milvus")) as uri:  # "http://127.0.0.1:PORT"
        ...

Raises StandaloneUnavailable (with the reason) when the package is missing or the server
does not start.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["StandaloneUnavailable", "standalone_milvus"]

# The child: start the server (the package picks its internal ports itself), say so, and
# stop it when its stdin closes.
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


class StandaloneUnavailable(RuntimeError):
    """The standalone server cannot run here; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def standalone_milvus(folder: Path) -> Iterator[str]:
    """The URI of a standalone Milvus server running for the block's duration."""
    if importlib.util.find_spec("milvus") is None:
        raise StandaloneUnavailable("PyPI's milvus package is not installed (pip install milvus)")
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(folder), str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        if "ready" not in line:
            log = folder / "logs" / "milvus-stderr.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else line
            raise StandaloneUnavailable(f"the standalone Milvus server did not start: {tail}")
        yield f"http://127.0.0.1:{port}"
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
