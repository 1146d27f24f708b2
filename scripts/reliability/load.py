"""Load and soak: a real server driven with a mixed workload for a set time.

    python -m scripts.reliability.load --minutes 30 --concurrency 32      # the soak
    python -m scripts.reliability.load --seconds 10 --concurrency 8 --preload 2000   # a short run

Starts `neardup serve` on 127.0.0.1 (a fresh data dir, port 0), preloads --preload hashes
through AddStream, then keeps --concurrency calls in flight: searches by hash (top-10 and
radius 10) and by image, adds of hashes and images, deletes, AddStream batches, SearchBatch,
GetMany. Every call must succeed: any other status is an unexpected error. While it runs the
server's RSS and open descriptors are sampled. Prints, per method, count, p50 and p99 (and
p99 in the first and the last window), errors by code, throughput, the RSS slope after
warm-up (MB/hour) and descriptors; and as the anchor, a bare gRPC echo server driven at the
same concurrency on the same machine for a few seconds. Exits 1 on any unexpected error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from neardup.service.client import AsyncClient, NeardupRpcError

from scripts.bench.common import published
from scripts.reliability.load_mix import Mix, echo_latencies
from scripts.reliability.server_process import ServerProcess

SAMPLE_SECONDS = 5.0
WARMUP_SHARE = 0.2


@dataclass
class Observed:
    """What the run saw: (start offset s, latency ms) per method, codes, memory samples."""

    calls: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    codes: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (s, RSS MB, fds)
    messages: dict[str, str] = field(default_factory=dict)


async def drive(mix: Mix, concurrency: int, seconds: float, seen: Observed) -> float:
    """Keeps `concurrency` calls in flight for `seconds`; returns the elapsed seconds."""
    started = time.monotonic()
    stop_at = started + seconds

    async def worker(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < stop_at:
            name, call = mix.next_call(rng)
            await _observe(name, call, started, seen)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return time.monotonic() - started


async def _observe(
    name: str, call: Callable[[], Awaitable[object]], started: float, seen: Observed
) -> None:
    at = time.monotonic()
    code = "OK"
    try:
        await call()
    except NeardupRpcError as exc:
        code = exc.code.name
        seen.messages.setdefault(f"{name} {code}", exc.message)
    except RuntimeError as exc:  # a stream's item failed
        code = "ITEM_ERROR"
        seen.messages.setdefault(f"{name} {code}", str(exc))
    seen.calls[name].append((at - started, (time.monotonic() - at) * 1000))
    seen.codes[(name, code)] += 1


async def sample(
    server: ServerProcess, seen: Observed, started: float, done: asyncio.Event
) -> None:
    """Samples the server's RSS and descriptors every few seconds until `done`."""
    while not done.is_set():
        seen.samples.append((time.monotonic() - started, server.rss_mb(), server.open_fds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), SAMPLE_SECONDS)


def rss_slope_mb_per_hour(samples: list[tuple[float, float, int]], seconds: float) -> float:
    """Least-squares slope of RSS over the samples after the warm-up share of the run."""
    kept = [(t, rss) for t, rss, _ in samples if t >= WARMUP_SHARE * seconds]
    if len(kept) < 3:
        return float("nan")
    t, rss = np.array(kept).T
    return float(np.polyfit(t, rss, 1)[0] * 3600)


def report(seen: Observed, seconds: float, echo: list[float]) -> int:
    """Prints the figures; returns the count of unexpected errors."""
    window = min(300.0, seconds / 6)
    print(
        f"\n{'method':16s} {'calls':>8s} {'p50 ms':>8s} {'p99 ms':>8s} "
        f"{'p99 first':>10s} {'p99 last':>9s}"
    )
    for name in sorted(seen.calls):
        rows = np.array(seen.calls[name])
        first = rows[rows[:, 0] < window][:, 1]
        last = rows[rows[:, 0] >= seconds - window][:, 1]
        print(
            f"{name:16s} {len(rows):8d} {np.percentile(rows[:, 1], 50):8.2f} "
            f"{np.percentile(rows[:, 1], 99):8.2f} {_p99(first):10.2f} {_p99(last):9.2f}"
        )
    total = sum(seen.codes.values())
    print(f"\n{total} calls in {seconds:.0f} s: {total / seconds:.0f} calls/s")
    by_code = Counter[str]()
    for (_, code), count in seen.codes.items():
        by_code[code] += count
    print("codes: " + ", ".join(f"{code} {count}" for code, count in by_code.most_common()))
    unexpected = total - by_code["OK"]
    print(f"unexpected errors: {unexpected}")
    for key, message in sorted(seen.messages.items()):
        print(f"  {key}: {message[:200]}")
    rss = [r for _, r, _ in seen.samples]
    fds = [f for _, _, f in seen.samples]
    if rss:
        slope = rss_slope_mb_per_hour(seen.samples, seconds)
        print(
            f"server RSS MB: start {rss[0]:.0f}, max {max(rss):.0f}, end {rss[-1]:.0f}; "
            f"slope after warm-up {slope:+.1f} MB/hour"
        )
        print(f"server open fds: start {fds[0]}, max {max(fds)}, end {fds[-1]}")
    if echo:
        print(
            f"anchor, bare gRPC echo at the same concurrency: p50 {np.percentile(echo, 50):.2f} "
            f"ms, p99 {np.percentile(echo, 99):.2f} ms, {len(echo)} calls"
        )
    return unexpected


def _p99(values: np.ndarray) -> float:
    return float(np.percentile(values, 99)) if len(values) else float("nan")


async def run(args: argparse.Namespace) -> int:
    seconds = args.seconds or args.minutes * 60
    with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
        server = ServerProcess(Path(scratch) / "data")
        print(f"server serving after {server.start():.1f} s")
        try:
            async with AsyncClient(server.address, timeout=60) as client:
                mix = Mix(client, random.Random(args.seed))
                preload_s = await mix.preload(args.preload)
                print(f"preloaded {args.preload} hashes through AddStream in {preload_s:.1f} s")
                seen = Observed()
                done = asyncio.Event()
                sampler = asyncio.ensure_future(sample(server, seen, time.monotonic(), done))
                before = (await client.stats()).collection.image_count
                elapsed = await drive(mix, args.concurrency, seconds, seen)
                done.set()
                await sampler
                after = (await client.stats()).collection.image_count
                print(f"images stored: {before} before the run, {after} after")
        finally:
            server.stop()
    echo = await echo_latencies(args.concurrency, min(10.0, seconds))
    return 1 if report(seen, elapsed, echo) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=0.0, help="overrides --minutes")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--preload", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scratch", type=Path, default=None, help="where the data dir goes")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Load and soak",
            "a bare grpc.aio echo server at the same concurrency",
            main,
            page="reliability-load",
        )
    )
