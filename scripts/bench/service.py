"""Benchmark of the gRPC service against a bare grpc.aio echo server, in one run.

    python -m scripts.bench.service [--n 1000000] [--seconds 5] [--data-cache DIR]

A real `neardup serve` process holding N clustered hashes (as scripts/bench/index.py makes them)
and, in the same run, an echo server process (the floor: Python grpc.aio doing nothing),
both on 127.0.0.1, client and servers sharing this machine's cores. Prints:

- After each start: how long radius searches wait for the substring tables the server
  rebuilds in the background, and their p50 meanwhile.
- Search by hash, top-10 and a radius-10 duplicate check (k=10, max_distance=10): p50/p99
  at 1 in flight and req/s at 1 and 16 in flight, beside the echo floor for a payload of the
  same size and the engine's own search (in this process, on a copy of the data dir), the
  three timed call by call in turn so that the machine's swings of speed fall on all alike;
  the service's own overhead = service p50 - echo p50 - engine p50. Twice: the server as
  configured by default
  (searches the planner predicts within inline_search_us run on its event loop), and with
  NEARDUP_INLINE_SEARCH_US=0 (every search through the thread pool: the anchor); with the
  share of the timed searches the server answered on its loop (its neardup_searches_total).
- Add of typical 1024 px JPEGs (from ../shared/bench): unary Add at 16 in flight (p50,
  images/s) and AddStream images/s, against the ceiling 1 / (1/H + 1/E), where H is
  hash-only images/s on 2 threads, hashing as an add into the default collection does
  (orientations and crop hashes), and E the echo server's req/s for the same payload at 16
  in flight (hashing and gRPC compete for the same cores); and against the same ceiling
  with H', hashing in the server's worker processes (service/hashing.py), which threads
  held back by Python's lock do not reach. And the Hash RPC at 16 in flight, the same
  work without the store (what the service reaches before adding anything).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
from neardup.index import (
    DecodeLimits,
    Engine,
    EngineSettings,
    Fingerprint,
    SearchResult,
)
from neardup.service.client import AsyncClient, add_request, search_request
from neardup.service.config import ServerConfig
from neardup.service.hashing import Hashing, HashJob
from neardup.v1 import neardup_pb2 as pb

from scripts.bench.common import (
    clustered_codes,
    free_port,
    prepare_data_dir,
    published,
    start_server,
)
from scripts.bench.corpus import DEFAULT_SHARED, load_sets
from scripts.bench.echo_server import ECHO_METHOD, EchoProcess

# the entry point installed beside this interpreter, activated or not
NEARDUP = str(Path(sys.executable).with_name("neardup"))


async def latencies(call: Callable[[int], Awaitable[object]], count: int) -> list[float]:
    times = []
    for i in range(count):
        start = time.perf_counter()
        await call(i)
        times.append((time.perf_counter() - start) * 1e3)
    return times


async def rate(call: Callable[[int], Awaitable[object]], in_flight: int, seconds: float) -> float:
    stop = time.perf_counter() + seconds
    done = 0
    counter = iter(range(10**9))

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await call(next(counter))
            done += 1

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return done / seconds


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def searches_on_loop(metrics_url: str) -> float:
    """The server's count of Search calls answered on its event loop so far."""
    with urllib.request.urlopen(metrics_url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith('neardup_searches_total{thread="loop"}'):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


# The searches timed: top-10, and the duplicate check an upload makes (radius 10, k=10).
SEARCHES: dict[str, dict[str, int]] = {
    "top-10": {"k": 10},
    "radius 10, k=10": {"k": 10, "max_distance": 10},
}


def engine_call(engine: Engine, search: dict[str, int]) -> Callable[[int], SearchResult]:
    """The engine's own answer to this search of a hash, in this process (the service's
    work without gRPC, protobuf or its event loop)."""
    radius = search.get("max_distance")

    def call(query: int) -> SearchResult:
        return engine.search("", [Fingerprint(query, "phash")], k=search["k"], radius=radius)

    return call


async def interleaved(
    calls: dict[str, Callable[[int], Awaitable[object]]], queries: list[int]
) -> dict[str, list[float]]:
    """Per call, its latency (ms) on each query, the calls taken in turn query by query and
    their order rotated, so that a machine slowing down for a while slows them all alike."""
    times: dict[str, list[float]] = {label: [] for label in calls}
    labels = list(calls)
    for i, query in enumerate(queries):
        turn = i % len(labels)
        for label in labels[turn:] + labels[:turn]:
            start = time.perf_counter()
            await calls[label](query)
            times[label].append((time.perf_counter() - start) * 1e3)
    return times


async def wait_for_tables(client: AsyncClient, queries: list[int]) -> tuple[float, list[float]]:
    """Radius-10 searches from the moment the server says it is serving until one is
    answered by the substring tables (rebuilt in the background after a start): the
    seconds that took and each search's latency meanwhile (what a user meets right after a
    restart)."""
    started = time.perf_counter()
    times = []
    for i in itertools.count():
        request = search_request(hash=f"{queries[i % len(queries)]:016x}", k=10, max_distance=10)
        before = time.perf_counter()
        response = await client.call("Search", request)
        times.append((time.perf_counter() - before) * 1e3)
        if response.path == pb.SEARCH_PATH_TABLES:
            break
        if time.perf_counter() - started > 600:
            raise TimeoutError("the server's substring tables were not rebuilt in 10 minutes")
    return time.perf_counter() - started, times


async def searches(
    args: argparse.Namespace,
    client: AsyncClient,
    echo_call: Callable[[bytes], Awaitable[bytes]],
    queries: list[int],
    engine: Engine,
    server: str,
    metrics_url: str,
) -> None:
    """Each search of `SEARCHES` by hash through the service, beside the echo floor and
    the engine in this process, call by call."""
    ready_seconds, early = await wait_for_tables(client, queries)
    print(
        f"\n{server}: radius searches answered by the substring tables {ready_seconds:.1f} s "
        f"after 'serving'; the {len(early)} searches before: p50 {pct(early, 50):.3f} ms"
    )
    for label, search in SEARCHES.items():
        requests = {q: search_request(hash=f"{q:016x}", **search) for q in queries}
        sample = await client.call("Search", requests[queries[0]])
        payload = bytes(
            max(len(requests[queries[0]].SerializeToString()), len(sample.SerializeToString()))
        )
        in_process = engine_call(engine, search)
        path = in_process(queries[0]).path.name

        async def one(q: int, requests: dict[int, pb.SearchRequest] = requests) -> object:
            return await client.call("Search", requests[q])

        async def echoed(q: int, payload: bytes = payload) -> bytes:
            return await echo_call(payload)

        async def engine_only(
            q: int, in_process: Callable[[int], SearchResult] = in_process
        ) -> object:
            return in_process(q)

        calls = {"neardup": one, "echo": echoed, "engine": engine_only}
        await interleaved(calls, queries[:200])  # warm all three
        on_loop = searches_on_loop(metrics_url)
        times = await interleaved(calls, queries)
        on_loop = (searches_on_loop(metrics_url) - on_loop) / len(queries)
        search_1 = await rate(lambda i: one(queries[i % len(queries)]), 1, args.seconds)
        echo_1 = await rate(lambda i: echoed(0), 1, args.seconds)
        search_16 = await rate(lambda i: one(queries[i % len(queries)]), 16, args.seconds)
        echo_16 = await rate(lambda i: echoed(0), 16, args.seconds)
        s50, e50, g50 = (pct(times[c], 50) for c in ("neardup", "echo", "engine"))
        print(
            f"\nSearch by hash, {label}, {args.n:,} stored, {server} "
            f"({len(payload)} B messages; engine path {path}; {on_loop:.0%} of the timed "
            "searches answered on the event loop; the three timed call by call, in turn):"
        )
        print(f"  {'':<10}{'p50 ms':>9}{'p99 ms':>9}{'req/s 1':>10}{'req/s 16':>10}")
        print(
            f"  {'echo':<10}{e50:>9.3f}{pct(times['echo'], 99):>9.3f}"
            f"{echo_1:>10,.0f}{echo_16:>10,.0f}"
        )
        print(
            f"  {'neardup':<10}{s50:>9.3f}{pct(times['neardup'], 99):>9.3f}"
            f"{search_1:>10,.0f}{search_16:>10,.0f}"
        )
        print(f"  engine in process (a copy of the data dir): p50 {g50:.3f} ms")
        print(
            f"  service overhead: {s50:.3f} - {e50:.3f} - {g50:.3f} = "
            f"{s50 - e50 - g50:.3f} ms (bound 0.15)"
        )


def echo_caller(target: str) -> tuple[grpc.aio.Channel, Callable[[bytes], Awaitable[bytes]]]:
    """A channel to the echo server and its one method."""
    echo = grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.max_send_message_length", 64 << 20),
            ("grpc.max_receive_message_length", 64 << 20),
        ],
    )
    call = echo.unary_unary(
        ECHO_METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b
    )
    return echo, call


async def bench(
    args: argparse.Namespace,
    echo_target: str,
    serve_target: str,
    jpegs: list[bytes] | None,
    queries: list[int],
    engine: Engine,
    label: str,
    metrics_url: str,
) -> None:
    """The searches against this server, and with `jpegs` the adds."""
    echo, echo_call = echo_caller(echo_target)
    async with AsyncClient(serve_target, timeout=60) as client:
        await searches(args, client, echo_call, queries, engine, label, metrics_url)
        if jpegs is not None:
            await adds(args, client, echo_call, jpegs)
    await echo.close()


def hashing_rate(jpegs: list[bytes], seconds: float, processes: int) -> float:
    """Images/s decoded and hashed as an add into the default collection does (its
    orientations and crop hashes, and the file's digest), on 2 threads of this process
    (processes 0), or through that many hashing workers (service/hashing.py, as the server
    hashes), each driven by a thread."""
    hashing = Hashing(processes)
    hashing.start()
    jobs = [HashJob(j, "phash", True, True, False, DecodeLimits()) for j in jpegs]
    try:
        with ThreadPoolExecutor(processes or 2) as pool:
            start = time.perf_counter()
            rounds = 0
            while time.perf_counter() - start < seconds:
                list(pool.map(hashing.run, jobs))
                rounds += 1
            return rounds * len(jpegs) / (time.perf_counter() - start)
    finally:
        hashing.close()


async def adds(
    args: argparse.Namespace,
    client: AsyncClient,
    echo_call: Callable[[bytes], Awaitable[bytes]],
    jpegs: list[bytes],
) -> None:
    """Adds of typical JPEGs: unary and streamed, beside hashing alone and the echo."""
    hash_rate = hashing_rate(jpegs, args.seconds, 0)
    workers = ServerConfig().hash_processes
    hash_rate_workers = hashing_rate(jpegs, args.seconds, workers)
    jpeg_payload = jpegs[0]
    echo_jpeg_16 = await rate(lambda i: echo_call(jpeg_payload), 16, args.seconds)
    ceiling = 1 / (1 / hash_rate + 1 / echo_jpeg_16)
    ceiling_workers = 1 / (1 / hash_rate_workers + 1 / echo_jpeg_16)
    hash_rpc_16 = await rate(
        lambda i: client.call(
            "Hash", pb.HashRequest(image=jpegs[i % len(jpegs)], orientations=True, crops=True)
        ),
        16,
        args.seconds,
    )
    counter = iter(range(10**9))

    async def add_one(i: int) -> object:
        n = next(counter)
        return await client.add(jpegs[n % len(jpegs)], id=f"unary/{n}")

    add_times = await latencies(add_one, 100)
    add_16 = await rate(add_one, 16, args.seconds)
    streamed = 0
    total = int(max(ceiling, 100) * args.seconds)

    async def stream_requests():  # type: ignore[no-untyped-def]
        for n in range(total):
            yield add_request(jpegs[n % len(jpegs)], id=f"stream/{n}")

    start = time.perf_counter()
    async for response in client.add_stream(stream_requests()):
        assert response.HasField("added"), response
        streamed += 1
    stream_rate = streamed / (time.perf_counter() - start)
    kb = statistics.mean(len(j) for j in jpegs) / 1024
    print(
        f"\nAdd of typical JPEGs ({len(jpegs)} distinct, mean {kb:.0f} KB), into {args.n:,} stored:"
    )
    print(
        f"  hash only, as the default collection's add (orientations, crops), 2 threads (H): "
        f"{hash_rate:,.0f} images/s; in {workers} hashing workers, as the server hashes "
        f"(H'): {hash_rate_workers:,.0f} images/s"
    )
    print(f"  echo of one JPEG, 16 in flight (E): {echo_jpeg_16:,.0f} req/s")
    print(
        f"  ceiling 1/(1/H + 1/E): {ceiling:,.0f} images/s; with H', "
        f"{ceiling_workers:,.0f} images/s (each rate below: its share of both)"
    )

    def shares(rate_: float) -> str:
        return f"{rate_ / ceiling:.0%} of the ceiling, {rate_ / ceiling_workers:.0%} with H'"

    print(
        f"  Hash RPC (decode and hash, nothing stored), 16 in flight: {hash_rpc_16:,.0f} "
        f"images/s ({shares(hash_rpc_16)})"
    )
    print(
        f"  Add, 1 in flight: p50 {pct(add_times, 50):.2f} ms; 16 in flight: "
        f"{add_16:,.0f} images/s ({shares(add_16)}; bound 60%)"
    )
    print(f"  AddStream: {stream_rate:,.0f} images/s ({shares(stream_rate)}; bound 70%)")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument(
        "--data-cache",
        type=Path,
        help="keep the data dir of N hashes here (made once, ~9 min at 1M) and copy it per run",
    )
    args = parser.parse_args()
    originals = args.shared / "bench" / "originals"
    if not originals.is_dir():
        print(f"no corpus at {originals}", file=sys.stderr)
        return 2
    jpegs = load_sets(originals)["1024px"]
    rng = np.random.default_rng(20261125)
    codes = clustered_codes(args.n, rng)
    queries = [
        int(c) ^ (1 << random.Random(i).randrange(64)) for i, c in enumerate(codes[: args.queries])
    ]
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        started = time.perf_counter()
        prepare_data_dir(data, codes, args.data_cache)
        print(f"data dir of {args.n:,} hashes made in {time.perf_counter() - started:.0f} s")
        shutil.copytree(data, Path(folder) / "engine", ignore=shutil.ignore_patterns("LOCK"))
        settings = EngineSettings(maintenance_interval_seconds=3600)
        with Engine(Path(folder) / "engine", settings) as engine, EchoProcess() as echo:
            engine.inspect("").settle()  # its tables rebuilt, as the server's are before timing
            for inline in ({"NEARDUP_INLINE_SEARCH_US": "0"}, {}):
                metrics = f"127.0.0.1:{free_port()}"
                env = {**inline, "NEARDUP_METRICS_LISTEN": metrics}
                serve, serve_target = start_server([NEARDUP], data, env)
                metrics_url = f"http://{metrics}/metrics"
                try:
                    label = "every search in the pool" if inline else "as configured by default"
                    added = None if inline else jpegs
                    run = bench(
                        args,
                        echo.target,
                        serve_target,
                        added,
                        queries,
                        engine,
                        label,
                        metrics_url,
                    )
                    asyncio.run(run)
                finally:
                    serve.terminate()
                    serve.wait(120)
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "The gRPC service",
            "a bare grpc.aio echo server (scripts/bench/echo_server.py), and the engine in process",
            main,
        )
    )
