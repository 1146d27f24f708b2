"""Searches right after a bulk load, before the index has settled, beside a flat scan.

A user's library lands with `add_batch` (as `neardup build` does); the first searches come
at once, while the engine absorbs the new codes (substring tables, the HNSW graph built
aside). This loads --n codes (70% random, 30% near copies) into a fresh engine, then
searches through `Engine.search` without waiting (radius 10, top-10; stored codes with
0-10 bits flipped and random codes), recording every latency until the engine has settled;
then the same queries settled. Beside each search, as the anchor under the same load, a
FAISS `IndexBinaryFlat` of the same codes answers it too (range_search r <= 10, top-10).
Prints p50/p99 per phase, the radius latencies of the absorb by minute (where a slow phase
shows: the first minutes after a 1M load, while the tables waited for a graph built aside),
and the ratios the bulk-build issue asks for: p99 while absorbing at most 2x settled, and at
most the flat scan's.

    python -m scripts.bench.absorb [--n 1000000] [--seconds-max 1800]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import faiss
import numpy as np
from neardup.index import Engine, EngineSettings, Fingerprint
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming.openmp import one_thread

from scripts.bench.common import clustered_codes, load_codes, p, published, queries_for

LOAD_BATCH = 100_000
SEARCHES = tuple(
    f"{name}{kind}" for name in ("radius 10", "top-10") for kind in ("", ", engine", ", flat")
)
WINDOW_SECONDS = 60  # the absorb's latencies by time: a slow phase shows as its windows


def _ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def search_until(
    engine: Engine, flat: faiss.IndexBinaryFlat, queries: list[int], done: threading.Event
) -> dict[str, list[float]]:
    """Latencies (ms) of alternating radius-10 and top-10 searches until `done`: through the
    code index, through `Engine.search` (that plus the store's lookup of the images: what a
    caller meets), and, as the anchor under the same load, FAISS's flat scan of the codes."""
    found: dict[str, list[float]] = {name: [] for name in ("started", *SEARCHES)}
    i = 0
    # The anchor gets one OpenMP thread, as the engine's searches do; with the default two,
    # each flat call wakes a team thread that spins on the core the graph build is using.
    with one_thread():
        while not done.is_set():
            _search_once(engine, flat, queries[i % len(queries)], found)
            i += 1
    return found


def _search_once(
    engine: Engine, flat: faiss.IndexBinaryFlat, code: int, found: dict[str, list[float]]
) -> None:
    """One query code through each of the six searches, each latency appended."""
    query = [Fingerprint(code, "phash")]
    q = codes_from_u64(np.array([code], dtype=np.uint64))
    found["started"].append(time.perf_counter())
    index = engine.inspect("")
    found["radius 10"].append(_ms(partial(index.search, [code], radius=10)))
    found["radius 10, engine"].append(_ms(partial(engine.search, "", query, radius=10)))
    found["radius 10, flat"].append(_ms(partial(flat.range_search, q, 11)))
    found["top-10"].append(_ms(partial(index.search, [code], k=10)))
    found["top-10, engine"].append(_ms(partial(engine.search, "", query, k=10)))
    found["top-10, flat"].append(_ms(partial(flat.search, q, 10)))


def print_windows(absorbing: dict[str, list[float]]) -> None:
    """p50/p99 of radius 10 (code index and flat scan) per WINDOW_SECONDS of the absorb."""
    started = np.array(absorbing["started"])
    window = ((started - started[0]) // WINDOW_SECONDS).astype(int)
    print(f"\nabsorbing by {WINDOW_SECONDS} s: radius 10 p50 / p99 ms, code index | flat scan")
    for w in np.unique(window):
        at = np.flatnonzero(window == w)
        index = [absorbing["radius 10"][i] for i in at]
        flat = [absorbing["radius 10, flat"][i] for i in at]
        print(
            f"  {w * WINDOW_SECONDS:5d} s  {p(index, 50):6.2f} / {p(index, 99):6.2f}"
            f"  |  {p(flat, 50):6.2f} / {p(flat, 99):6.2f}"
        )


def ratios(name: str, absorbing: dict[str, list[float]], settled: dict[str, list[float]]) -> str:
    """The issue's ratios for one kind of search, through the code index."""
    during, flat = absorbing[name], absorbing[f"{name}, flat"]
    return (
        f"{name} (code index): p99 absorbing / settled {p(during, 99) / p(settled[name], 99):.2f}"
        f" (<= 2); p99 absorbing / flat scan meanwhile {p(during, 99) / p(flat, 99):.2f} (<= 1);"
        f" p50 absorbing / flat {p(during, 50) / p(flat, 50):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--seconds-max", type=float, default=1800)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    codes = clustered_codes(args.n, rng)
    queries = queries_for(codes, args.queries, rng)
    with tempfile.TemporaryDirectory(dir=".") as folder:
        engine = Engine(Path(folder) / "data", EngineSettings(maintenance_interval_seconds=3600))
        print(f"loading {args.n} codes with add_batch: {load_codes(engine, codes):.1f} s")
        index = engine.inspect("")
        flat = faiss.IndexBinaryFlat(64)
        flat.add(codes_from_u64(np.unique(codes)))
        done = threading.Event()
        results: dict[str, dict[str, list[float]]] = {}
        searcher = threading.Thread(
            target=lambda: results.update(absorbing=search_until(engine, flat, queries, done))
        )
        started = time.perf_counter()
        searcher.start()
        index.settle(timeout=args.seconds_max)
        done.set()
        searcher.join()
        absorb_s = time.perf_counter() - started
        print(f"absorbed in {absorb_s:.1f} s (tables, and the graph where it serves)")
        done = threading.Event()
        threading.Timer(20.0, done.set).start()
        results["settled"] = search_until(engine, flat, queries, done)
        engine.close(final_snapshot=False)
    print(f"\n{'phase':12s} {'search':18s} {'count':>7s} {'p50 ms':>8s} {'p99 ms':>8s}")
    for phase, found in results.items():
        for name, times in found.items():
            if name == "started":
                continue
            print(f"{phase:12s} {name:18s} {len(times):7d} {p(times, 50):8.3f} {p(times, 99):8.3f}")
    print_windows(results["absorbing"])
    for name in ("radius 10", "top-10"):
        print(ratios(name, results["absorbing"], results["settled"]))


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Searches right after a bulk load",
            "FAISS `IndexBinaryFlat` over the same codes, in the same run",
            main,
        )
    )
