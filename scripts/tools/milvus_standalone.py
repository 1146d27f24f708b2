"""A real standalone Milvus server for tests, benchmarks and the docs' "try it" path: the
server binary PyPI's `milvus` package ships (it starts offline), run in a child process on
loopback ports of its own, with its data in a given folder.

    with standalone_milvus(Path("/tmp/milvus")) as uri:  # "http://127.0.0.1:PORT"
        ...

    server = StandaloneMilvus(Path("/tmp/milvus"))  # or by hand, to restart it
    uri = server.start(); server.stop(); server.start()  # the same URI and data again

Its settings:
- The time tick (`proxy.timeTickInterval`, through the server's PROXY_TIMETICKINTERVAL
  variable): TICK_MS unless told. A read that must see a write (Strong, or Session right
  after the write) waits for the next tick; the Milvus engine's reads do not.
- Ports: the package picks its own, but its embedded etcd listens on 2379/2380 whatever it
  is told, so a second server on the machine fails to start; and it checks a port it is
  given by binding it without SO_REUSEADDR, which fails for a minute after a stop. Here the
  server's variables set them instead (PROXY_PORT, ETCD_ENDPOINTS, and an etcd config of
  its own through ETCD_CONFIG_PATH), free ports kept in the folder, so a restart comes back
  at the same address.

Raises StandaloneUnavailable (with the reason) when the package is missing or the server
does not start.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TICK_MS", "StandaloneMilvus", "StandaloneUnavailable", "standalone_milvus"]

# The time tick the project's server runs with: Milvus's own default. scripts/bench/
# milvus_tick.py measures reads after writes and the idle server's CPU per tick: a lower
# tick shortens Strong and Session reads but costs the idle server several times the CPU,
# and the Milvus engine's reads (at its read point) do not wait for the tick at all.
TICK_MS = 200

# The child: start the server, say so, and stop it when its stdin closes.
_CHILD = """
import sys
from milvus import MilvusServer
server = MilvusServer()
server.set_base_dir(sys.argv[1])
server.show_startup_banner = False
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""

_ETCD_CONFIG = """name: neardup-standalone
listen-client-urls: http://127.0.0.1:{client}
advertise-client-urls: http://127.0.0.1:{client}
listen-peer-urls: http://127.0.0.1:{peer}
initial-advertise-peer-urls: http://127.0.0.1:{peer}
initial-cluster: neardup-standalone=http://127.0.0.1:{peer}
"""


class StandaloneUnavailable(RuntimeError):
    """The standalone server cannot run here; the message says why."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class StandaloneMilvus:
    """One standalone server's folder and ports; `start` and `stop` it as often as needed."""

    def __init__(self, folder: Path, tick_ms: int = TICK_MS) -> None:
        self.folder = folder
        self.tick_ms = tick_ms
        self._child: subprocess.Popen[str] | None = None
        ports_file = folder / "neardup-ports.json"
        if ports_file.exists():
            self._ports = json.loads(ports_file.read_text())
        else:
            folder.mkdir(parents=True, exist_ok=True)
            self._ports = {name: _free_port() for name in ("grpc", "etcd", "etcd_peer")}
            ports_file.write_text(json.dumps(self._ports))

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self._ports['grpc']}"

    @property
    def pid(self) -> int | None:
        """The server's own process (the Milvus binary), while it runs."""
        if self._child is None:
            return None
        found = subprocess.run(
            ["pgrep", "-P", str(self._child.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        return int(found[0]) if found else None

    def start(self) -> str:
        """Starts the server; returns its URI once it answers."""
        if importlib.util.find_spec("milvus") is None:
            raise StandaloneUnavailable(
                "PyPI's milvus package is not installed (pip install milvus)"
            )
        etcd_config = self.folder / "neardup-etcd.yaml"
        etcd_config.write_text(
            _ETCD_CONFIG.format(client=self._ports["etcd"], peer=self._ports["etcd_peer"])
        )
        env = {
            **os.environ,
            "PROXY_TIMETICKINTERVAL": str(self.tick_ms),
            "PROXY_PORT": str(self._ports["grpc"]),
            "ETCD_ENDPOINTS": f"127.0.0.1:{self._ports['etcd']}",
            "ETCD_CONFIG_PATH": str(etcd_config),
        }
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self._child = child
        line = child.stdout.readline() if child.stdout else ""
        if "ready" not in line:
            self.stop()
            log = self.folder / "logs" / "milvus-stderr.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else line
            raise StandaloneUnavailable(f"the standalone Milvus server did not start: {tail}")
        return self.uri

    def stop(self) -> None:
        """Stops the server as its package does (SIGTERM, then SIGKILL after a second)."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@contextmanager
def standalone_milvus(folder: Path, tick_ms: int = TICK_MS) -> Iterator[str]:
    """The URI of a standalone Milvus server running for the block's duration."""
    server = StandaloneMilvus(folder, tick_ms)
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()
