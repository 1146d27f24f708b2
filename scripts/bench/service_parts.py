"""The service's per-call costs, each beside its anchor in the same run.

    python -m scripts.bench.service_parts [--codes 100000] [--calls 3000]

- One-query FAISS searches from a pool thread with one OpenMP thread (`index.openmp`) against
  FAISS's default team (anchor), for the flat scan and the HNSW graph.
- Entering and leaving `one_thread()` with another thread busy in Python, against alone,
  before and after the process has run FAISS searches on an OpenMP team.
- The hop to the thread pool and back (`loop.run_in_executor`), against running the same
  trivial call on the event loop.
- A 10-match SearchResponse built by `service.messages.search_message` against building
  each Match and its hash as separate messages (anchor).
- A bare grpc.aio server with the call observer (metrics, and a JSON log line for the calls
  `log_calls` names: "problems", the default, or "all") against the same server without it
  (anchor), answering the same 545 B payload, calls interleaved: the latency a call sees
  (the observer works after the answer has left) and the server's CPU a call.

Prints medians (us) and ratios; the machine is noisy, compare the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import grpc
import numpy as np
from neardup.index import Fingerprint, SearchPath
from neardup.index.fingerprint import codes_from_u64
from neardup.index.fingerprint.orientations import Orientation
from neardup.index.hamming.openmp import one_thread
from neardup.index.records import Match, SearchResult, StoredImage
from neardup.service import messages
from neardup.service.calls import LOG_CALLS, CallObserver, JsonFormatter
from neardup.service.metrics import Metrics
from neardup.v1 import neardup_pb2 as pb

from scripts import module_command
from scripts.bench.common import clustered_codes, published

ECHO = "/bench.Echo/Echo"


def median_us(times: list[float]) -> float:
    return statistics.median(times) * 1e6


def line(label: str, anchor: float, ours: float) -> None:
    print(f"  {label:<44}{anchor:>10.1f}{ours:>10.1f}{anchor / ours:>8.2f}x")


def header(title: str) -> None:
    print(f"\n{title}\n  {'':<44}{'anchor us':>10}{'ours us':>10}{'gain':>9}")


def openmp_searches(codes: int, calls: int) -> None:
    x = codes_from_u64(clustered_codes(codes, np.random.default_rng(20261126)))
    flat = faiss.IndexBinaryFlat(64)
    flat.add(x)
    graph = faiss.IndexBinaryHNSW(64, 32)
    graph.hnsw.efConstruction = 80
    graph.add(x)
    graph.hnsw.efSearch = 160
    queries = x[:calls].copy()
    header(f"One-query top-10 from a pool thread, {codes:,} codes (anchor: default OpenMP team)")
    with ThreadPoolExecutor(2) as pool:
        for name, index in (("flat scan", flat), ("HNSW M=32 efC=80 efS=160", graph)):

            def timed(i: int, single: bool, index: object = index) -> float:
                start = time.perf_counter()
                if single:
                    with one_thread():
                        index.search(queries[i : i + 1], 10)  # type: ignore[attr-defined]
                else:
                    index.search(queries[i : i + 1], 10)  # type: ignore[attr-defined]
                return time.perf_counter() - start

            times: dict[bool, list[float]] = {False: [], True: []}
            for i in range(calls):
                for single in (False, True):
                    times[single].append(pool.submit(timed, i, single).result())
            line(name, median_us(times[False]), median_us(times[True]))


def openmp_setting_beside_a_busy_thread(calls: int, when: str) -> None:
    """What entering and leaving `one_thread()` costs (its FAISS calls each release the GIL)
    alone, and with another thread busy in Python, which may then take the GIL each time:
    why a search that calls no FAISS kernel does not enter it. Medians of 5 rounds. `when`
    says what the process has run before (the cost has differed with it)."""
    header(f"Entering and leaving one_thread(), {when} (anchor: no other thread)")

    def per_call() -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(calls):
            with one_thread():
                pass
        return (time.perf_counter() - wall) / calls, (time.thread_time() - cpu) / calls

    def rounds() -> tuple[float, float]:
        found = [per_call() for _ in range(5)]
        return statistics.median(w for w, _ in found), statistics.median(c for _, c in found)

    alone = rounds()
    running, stop = threading.Event(), threading.Event()

    def busy() -> None:
        while not stop.is_set():
            running.set()
            sum(range(100))

    spinner = threading.Thread(target=busy)
    spinner.start()
    try:
        running.wait(10)
        beside = rounds()
    finally:
        stop.set()
        spinner.join()
    line("wall per enter and leave", alone[0] * 1e6, beside[0] * 1e6)
    line("CPU of the calling thread", alone[1] * 1e6, beside[1] * 1e6)


async def hop(calls: int) -> None:
    """What running a call on the pool (as the servicer does) costs over running it on the
    event loop, with calls 0.5 ms apart as requests arrive (back-to-back calls find the
    worker still awake and measure less)."""
    print("\nA trivial call 0.5 ms after the previous one: on the event loop vs through the pool")
    loop = asyncio.get_running_loop()
    times: dict[str, list[float]] = {"loop": [], "pool": []}
    call = time.perf_counter
    with ThreadPoolExecutor(2) as pool:
        for _ in range(calls):
            for where in ("loop", "pool"):
                await asyncio.sleep(0.0005)
                start = time.perf_counter()
                if where == "pool":
                    await loop.run_in_executor(pool, call)
                else:
                    call()
                times[where].append(time.perf_counter() - start)
    on_loop, on_pool = median_us(times["loop"]), median_us(times["pool"])
    print(f"  on the loop {on_loop:.1f} us; through the pool {on_pool:.1f} us (the hop)")


def separate_messages(result: SearchResult) -> pb.SearchResponse:
    """The anchor: each Match and its hash built as messages of their own, then copied in."""
    return pb.SearchResponse(
        matches=[
            pb.Match(
                id=m.image.id,
                hash=pb.Fingerprint(hex=m.image.fingerprint.hex, algorithm="phash"),
                distance=m.distance,
                similarity=m.similarity,
                orientation=int(m.orientation),  # type: ignore[arg-type]
                metadata={},
            )
            for m in result.matches
        ],
        path=int(result.path),  # type: ignore[arg-type]
        query=messages.fingerprint_message(result.query),
    )


def message_building(calls: int) -> None:
    header("A 10-match SearchResponse (anchor: separate Match messages)")
    matches = [
        Match(
            StoredImage(
                "default", f"seed/{i}", Fingerprint(0x0123456789ABCDEF + i, "phash"), {}, i, 0
            ),
            i,
            Orientation(0),
        )
        for i in range(10)
    ]
    result = SearchResult(matches, SearchPath.HNSW, False, Fingerprint(5, "phash"))
    assert separate_messages(result) == messages.search_message(result, False)
    times: dict[str, list[float]] = {"anchor": [], "ours": []}
    for _ in range(calls):
        for name, build in (
            ("anchor", separate_messages),
            ("ours", lambda r: messages.search_message(r, False)),
        ):
            start = time.perf_counter()
            build(result)
            times[name].append(time.perf_counter() - start)
    line("build", median_us(times["anchor"]), median_us(times["ours"]))


# The servers of the observer part: without it (the anchor), and with each `log_calls`.
OBSERVERS = ("none", *LOG_CALLS)


async def observed_server(observer: str, port_file: Path) -> None:
    """An echo server, with the call observer logging as `observer` says (its log lines to
    /dev/null), or without it ("none")."""
    handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    interceptors = [] if observer == "none" else [CallObserver(Metrics(lambda: None), observer)]
    server = grpc.aio.server(interceptors=interceptors)

    async def echo(request: bytes, context: object) -> bytes:
        return request

    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "bench.Echo",
                {"Echo": grpc.unary_unary_rpc_method_handler(echo, bytes, bytes)},
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    port_file.write_text(str(port))
    await server.wait_for_termination()


async def observer_cost(calls: int) -> None:
    """One server per entry of OBSERVERS, called in turn 100 calls at a time, the order
    rotated each round so that the machine's swings fall on all alike."""
    header("A unary call to a bare aio server (anchor: without the call observer)")
    with tempfile.TemporaryDirectory() as folder:
        processes, targets = [], {}
        for observer in OBSERVERS:
            port_file = Path(folder) / f"port-{observer}"
            command = module_command(__spec__.name, "--serve-observed", observer, str(port_file))
            processes.append(subprocess.Popen(command))
            while not (port_file.exists() and port_file.read_text()):
                time.sleep(0.05)
            targets[observer] = f"127.0.0.1:{port_file.read_text()}"
        channels = {k: grpc.aio.insecure_channel(t) for k, t in targets.items()}
        stubs: dict[str, Callable[[bytes], Awaitable[bytes]]] = {
            k: c.unary_unary(ECHO, request_serializer=bytes, response_deserializer=bytes)
            for k, c in channels.items()
        }
        payload = bytes(545)
        times: dict[str, list[float]] = {k: [] for k in OBSERVERS}
        cpu: dict[str, float] = {}
        for round_ in range(calls // 100 + 1):
            if round_ == 1:
                cpu = {k: cpu_seconds(p.pid) for k, p in zip(OBSERVERS, processes, strict=True)}
            turn = round_ % len(OBSERVERS)
            for observer in OBSERVERS[turn:] + OBSERVERS[:turn]:
                for _ in range(100):
                    start = time.perf_counter()
                    await stubs[observer](payload)
                    if round_:  # the first round warms them all
                        times[observer].append(time.perf_counter() - start)
        for observer, process in zip(OBSERVERS, processes, strict=True):
            cpu[observer] = (cpu_seconds(process.pid) - cpu[observer]) / len(times[observer])
        for channel in channels.values():
            await channel.close()
        for process in processes:
            process.terminate()
            process.wait(30)
    for observer in LOG_CALLS:
        line(
            f"call p50, log_calls = {observer}",
            median_us(times["none"]),
            median_us(times[observer]),
        )
    for observer in LOG_CALLS:
        line(f"server CPU a call, log_calls = {observer}", cpu["none"] * 1e6, cpu[observer] * 1e6)
        print(
            f"  the observer's cost with log_calls = {observer}: "
            f"{median_us(times[observer]) - median_us(times['none']):.1f} us of a call's latency, "
            f"{(cpu[observer] - cpu['none']) * 1e6:.1f} us of the server's CPU"
        )


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--codes", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--serve-observed", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_observed:
        asyncio.run(observed_server(args.serve_observed[0], Path(args.serve_observed[1])))
        return 0
    openmp_setting_beside_a_busy_thread(args.calls // 10, "before any FAISS search")
    openmp_searches(args.codes, args.calls)
    openmp_setting_beside_a_busy_thread(args.calls // 10, "after multi-threaded FAISS searches")
    asyncio.run(hop(args.calls))
    message_building(args.calls)
    asyncio.run(observer_cost(args.calls))
    return 0


if __name__ == "__main__":
    if "--serve-observed" in sys.argv:  # the child process this benchmark starts
        raise SystemExit(main())
    raise SystemExit(
        published(
            __spec__.name,
            "The service's per-call costs",
            "a bare aio server without the call observer; FAISS's default OpenMP team",
            main,
        )
    )
