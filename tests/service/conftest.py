"""A real neardup server on 127.0.0.1 (port 0), in its own event loop thread, per test module."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from neardup.service.client import Client
from neardup.service.config import ServerConfig
from neardup.service.server import NeardupServer, running_server


@dataclass
class RunningServer:
    """A server started in a background thread: its address and a way to stop it."""

    server: NeardupServer
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    stop: asyncio.Event

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def shutdown(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)


def start_server(config: ServerConfig) -> RunningServer:
    """Starts a server like `neardup serve` does, in a thread; returns once it serves."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        async def main() -> None:
            holder["stop"] = asyncio.Event()
            holder["loop"] = asyncio.get_running_loop()
            try:
                async with running_server(config) as server:
                    holder["server"] = server
                    ready.set()
                    await holder["stop"].wait()  # type: ignore[attr-defined]
            except BaseException as exc:
                holder["error"] = exc
                ready.set()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(60), "the server did not start"
    if "error" in holder:
        raise holder["error"]  # type: ignore[misc]
    return RunningServer(
        holder["server"],  # type: ignore[arg-type]
        holder["loop"],  # type: ignore[arg-type]
        thread,
        holder["stop"],  # type: ignore[arg-type]
    )


def config_for(data_dir: Path, **overrides: object) -> ServerConfig:
    from dataclasses import replace

    return replace(ServerConfig(data_dir=data_dir, listen="127.0.0.1:0"), **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        config_for(tmp_path_factory.mktemp("server") / "data", max_message_bytes=4 * 1024 * 1024)
    )
    yield running
    running.shutdown()


@pytest.fixture(scope="module")
def client(server: RunningServer) -> Iterator[Client]:
    with Client(server.target, timeout=30) as opened:
        yield opened
