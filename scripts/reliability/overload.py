"""Overload: more concurrent uploads than the server admits, then calm again.

    python -m scripts.reliability.overload [--burst 600] [--seconds 20]

A real `neardup serve` (defaults: 256 calls admitted) gets Add calls carrying a JPEG: first
4 in flight (calm: the anchor of admitted latency), then --burst in flight for --seconds
(each caller retries a refused call after 50 ms), then 4 in flight again; beside the burst,
8 AddStreams of 100 images each. Prints per phase the calls answered and refused, the
latency of both (a refusal must come at once; an admitted call's latency must stay
bounded), the server's peak RSS against its calm RSS, and the streams' items answered
(back-pressure, not errors). The anchor of refusal latency: the same burst of callers
sending the same request to a bare grpc.aio server that answers nothing (what any answer
costs at that load, before any work).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np
from neardup.service.client import AsyncClient, NeardupRpcError, add_request
from neardup.v1 import neardup_pb2 as pb

from scripts.bench.common import published
from scripts.bench.echo_server import echo_latencies
from scripts.reliability.server_process import ServerProcess

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
IMAGE = FIXTURES / "images" / "mate__Garden.jpg"
CHANNELS = 8
RETRY_SECONDS = 0.05


@dataclass
class Phase:
    """Latencies (ms) of answered and refused calls, other codes, peak RSS of a phase."""

    answered: list[float] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)
    others: Counter[str] = field(default_factory=Counter)
    peak_rss_mb: float = 0.0


class Uploads:
    """Callers adding the same JPEG under fresh ids through a few channels."""

    def __init__(self, clients: list[AsyncClient], image: bytes) -> None:
        self.clients = clients
        self.image = image
        self.next_id = 0

    def _request(self) -> pb.AddRequest:
        self.next_id += 1
        return add_request(self.image, id=f"upload-{self.next_id}")

    async def caller(self, n: int, stop_at: float, phase: Phase) -> None:
        client = self.clients[n % len(self.clients)]
        while time.monotonic() < stop_at:
            at = time.perf_counter()
            try:
                await client.call("Add", self._request())
                phase.answered.append((time.perf_counter() - at) * 1000)
            except NeardupRpcError as exc:
                if exc.code != grpc.StatusCode.RESOURCE_EXHAUSTED:
                    phase.others[exc.code.name] += 1
                    continue
                phase.refused.append((time.perf_counter() - at) * 1000)
                await asyncio.sleep(RETRY_SECONDS)

    async def stream(self, n: int, items: int) -> Counter[str]:
        async def source() -> AsyncIterator[pb.AddRequest]:
            for _ in range(items):
                yield self._request()

        outcomes: Counter[str] = Counter()
        async for answer in self.clients[n % len(self.clients)].add_stream(source()):
            outcomes[answer.WhichOneof("result") or "none"] += 1
        return outcomes


async def run_phase(
    uploads: Uploads, server: ServerProcess, callers: int, seconds: float, streams: int = 0
) -> tuple[Phase, Counter[str]]:
    phase = Phase()
    stop_at = time.monotonic() + seconds

    async def watch() -> None:
        while time.monotonic() < stop_at:
            phase.peak_rss_mb = max(phase.peak_rss_mb, server.rss_mb())
            await asyncio.sleep(0.25)

    results = await asyncio.gather(
        watch(),
        *(uploads.caller(n, stop_at, phase) for n in range(callers)),
        *(uploads.stream(n, 100) for n in range(streams)),
    )
    streamed: Counter[str] = Counter()
    for outcome in results[1 + callers :]:
        streamed.update(outcome)
    return phase, streamed


def server_side_ms(log: Path, began: float, ended: float) -> dict[str, list[float]]:
    """Latencies (ms) the server's call log gives its Add calls between two times, by
    status code: what the server itself took, without the client's and the network's
    share (both clients and server share this machine's cores)."""
    found: dict[str, list[float]] = {}
    for text in log.read_text().splitlines():
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        if entry.get("logger") != "neardup.calls" or entry.get("method") != "Add":
            continue
        at = time.mktime(time.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S"))
        if began <= at <= ended:
            found.setdefault(entry["code"], []).append(float(entry["ms"]))
    return found


def line(name: str, phase: Phase, seconds: float) -> str:
    def p(values: list[float], q: float) -> str:
        return f"{np.percentile(values, q):8.1f}" if values else f"{'-':>8s}"

    return (
        f"{name:8s} {len(phase.answered) / seconds:8.1f} {p(phase.answered, 50)} "
        f"{p(phase.answered, 99)} {len(phase.refused):8d} {p(phase.refused, 50)} "
        f"{p(phase.refused, 99)} {phase.peak_rss_mb:8.0f}  {dict(phase.others) or ''}"
    )


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(Path(scratch) / "data", {"log_calls": "all"})
        server.start()
        clients = [AsyncClient(server.address, timeout=120) for _ in range(CHANNELS)]
        uploads = Uploads(clients, IMAGE.read_bytes())
        try:
            idle = server.rss_mb()
            calm, _ = await run_phase(uploads, server, 4, args.calm_seconds)
            burst_began = time.time()
            burst, streamed = await run_phase(uploads, server, args.burst, args.seconds, 8)
            burst_ended = time.time()
            after, _ = await run_phase(uploads, server, 4, args.calm_seconds)
        finally:
            for client in clients:
                await client.close()
            server.stop()
        served = server_side_ms(server.log_path, burst_began + 1, burst_ended - 1)
    anchor = await echo_latencies(
        add_request(uploads.image, id="anchor").SerializeToString(),
        args.burst,
        min(args.seconds, 10.0),
        channels=CHANNELS,
        empty=True,
    )
    print(f"server RSS idle {idle:.0f} MB; image {IMAGE.name}, {len(uploads.image)} bytes\n")
    print(
        f"{'phase':8s} {'adds/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'refused':>8s} "
        f"{'ref p50':>8s} {'ref p99':>8s} {'peak MB':>8s}  other codes"
    )
    print(line("calm", calm, args.calm_seconds))
    print(line("burst", burst, args.seconds))
    print(line("after", after, args.calm_seconds))
    print(
        "in the server (its call log: from the request received to the answer), Add in the "
        "burst: "
        + "; ".join(
            f"{code} p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"
            for code, ms in sorted(served.items())
        )
    )
    print(
        f"anchor, a bare grpc.aio server answering nothing to {args.burst} callers of the "
        f"same request: p50 {np.percentile(anchor, 50):.1f} ms, p99 "
        f"{np.percentile(anchor, 99):.1f} ms ({len(anchor) / min(args.seconds, 10.0):.0f} calls/s)"
    )
    print(f"\nAddStream beside the burst, 8 x 100 items: {dict(streamed)}")
    calm_p99 = float(np.percentile(calm.answered, 99))
    print(
        f"admitted p99 burst / calm: {np.percentile(burst.answered, 99) / calm_p99:.1f}x; "
        f"refusal p50 {np.percentile(burst.refused, 50) if burst.refused else float('nan'):.1f} "
        f"ms ({np.percentile(burst.refused, 50) / np.percentile(anchor, 50):.1f}x the anchor's "
        f"p50); peak RSS in the burst {burst.peak_rss_mb - idle:+.0f} MB over idle; after the "
        f"burst p99 {np.percentile(after.answered, 99) / calm_p99:.1f}x calm"
    )
    unexpected = sum(p.others.total() for p in (calm, burst, after))
    unexpected += streamed.total() - streamed["added"]
    print(f"unexpected errors: {unexpected}")
    return 1 if unexpected else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--calm-seconds", type=float, default=10.0)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Overload",
            "the calm phase before the burst (4 calls in flight)",
            main,
            page="reliability-overload",
        )
    )
