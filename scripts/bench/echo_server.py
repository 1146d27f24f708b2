"""The anchor of the service benchmarks: a bare grpc.aio server doing nothing, in its own
process on 127.0.0.1, answering each call with the bytes it received (`echo`) or with
none (`empty`: the floor of a refusal).

    python -m scripts.bench.echo_server PORT_FILE [--empty]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

import grpc

from scripts import module_command

__all__ = ["ECHO_METHOD", "EchoProcess", "echo_latencies"]

ECHO_METHOD = "/bench.Echo/Echo"
MAX_MESSAGE_BYTES = 64 << 20


async def serve(port_file: Path, empty: bool) -> None:
    async def echo(request: bytes, context: object) -> bytes:
        return b"" if empty else request

    server = grpc.aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ]
    )
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo",
        {"Echo": grpc.unary_unary_rpc_method_handler(echo, lambda b: b, lambda b: b)},
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_file.write_text(str(port))
    await server.wait_for_termination()


class EchoProcess:
    """An echo server process for the length of a `with` block; `target` is its address."""

    def __init__(self, empty: bool = False) -> None:
        self.empty = empty
        self.target = ""
        self._folder = tempfile.TemporaryDirectory()
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EchoProcess:
        port_file = Path(self._folder.name) / "port"
        args = module_command(__spec__.name, str(port_file), *(["--empty"] if self.empty else []))
        self._process = subprocess.Popen(args, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text()):
            if time.monotonic() > deadline or self._process.poll() is not None:
                raise RuntimeError("the echo server did not start")
            time.sleep(0.05)
        self.target = f"127.0.0.1:{port_file.read_text()}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(30)
        self._folder.cleanup()


async def echo_latencies(
    payload: bytes, concurrency: int, seconds: float, channels: int = 1, empty: bool = False
) -> list[float]:
    """Latencies (ms) of an echo server process answering `payload` at `concurrency` in
    flight through `channels` channels for `seconds`: what gRPC alone costs at that load."""
    with EchoProcess(empty) as echo:
        opened = [grpc.aio.insecure_channel(echo.target) for _ in range(channels)]
        calls = [channel.unary_unary(ECHO_METHOD) for channel in opened]
        times: list[float] = []
        stop_at = time.monotonic() + seconds

        async def caller(n: int) -> None:
            while time.monotonic() < stop_at:
                at = time.perf_counter()
                await calls[n % channels](payload)
                times.append((time.perf_counter() - at) * 1000)

        try:
            await asyncio.gather(*(caller(n) for n in range(concurrency)))
        finally:
            for channel in opened:
                await channel.close()
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port_file", type=Path)
    parser.add_argument("--empty", action="store_true", help="answer with no bytes")
    args = parser.parse_args()
    asyncio.run(serve(args.port_file, args.empty))


if __name__ == "__main__":
    main()
