"""Benchmark of the Hamming engine against IndexBinaryFlat, in one run.

    python -m scripts.bench.index [--n 1000000] [--index-only] [--ef 64,128,256,512,1024]
                                  [--kind hnsw|tables] [--codes clustered|uniform|duplicated]
    python -m scripts.bench.index --engine-only --n 1000000,10000000 [--kind tables]

Data (as ANCHORS.md, `--codes clustered`): 70% random 64-bit codes, 30% copies of them with
1..8 bits flipped; `uniform`: all random; `duplicated`: half in 1,000 tight families (a base
and variants 1-4 bits from it, one picture re-encoded over and over), half random.
Queries: half stored codes with 0..10 bits flipped, half random codes; one at a time, one
FAISS thread per query. Prints, each beside its anchor:

- build: HNSW codes/s with all cores, and 1 vs all threads on a 100k subset (the hnsw kind);
  the whole index until its substring tables are built;
- memory: RSS growth per code of our index (tables included), and of the flat anchor;
- top-k (k=10): p50/p99 and recall@10 of the HNSW path at each efSearch (the hnsw kind), and
  of the planner's choice for near and random queries apart, against a flat scan (recall is
  tie-aware: a result counts when its distance is at most the true 10th distance);
- radius r = 4, 8, 10, 12, 16 (10 is the duplicate check of every Add): recall and p50
  against flat range search, the substring tables alone (at any size, even below
  `substring_tables_min_codes` where the index scans), and their build time and size;
- snapshot write and load;
- unless --index-only: the engine with its SQLite store (bulk load rate, bytes per image on
  disk); the public `Engine.search` (radius 10 and exact top-10, near queries, one thread)
  beside the code index alone and the flat scan, right after the bulk load and settled,
  every answer checked against the scan, and the index's memory per image; restart time
  (snapshot load + replay of 100k newer rows), and durable adds with group commit (16
  writers) against one transaction per add (1 writer), on the same engine. With
  --engine-only, at each size of --n in turn, published apart (index_engine_<kind>.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams
from neardup.index.code_sets import CodeSet
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming import restore_code_index
from neardup.index.hamming.factory import index_class
from neardup.index.hamming.planner import Route
from neardup.index.hamming.substrings import SubstringTables
from neardup.index.params import HNSW_KIND, KINDS
from neardup.index.persistence.snapshot import read_snapshot, write_snapshot

from scripts.bench.common import (
    CODES,
    build_index,
    latencies,
    p,
    published,
    queries_for,
    rss_bytes,
    timed,
    warm_up_compiled_loops,
)

K = 10


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n",
        default="1000000",
        help="codes; with --engine-only, several sizes in one run, comma-separated",
    )
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef", default="64,128,256,512,1024")
    parser.add_argument("--m", type=int, default=IndexParams().hnsw_m)
    parser.add_argument("--ef-construction", type=int, default=IndexParams().ef_construction)
    parser.add_argument("--kind", choices=KINDS, default=IndexParams().kind)
    parser.add_argument("--codes", choices=sorted(CODES), default="clustered")
    parser.add_argument(
        "--engine-queries", type=int, default=300, help="near queries the Engine API answers"
    )
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument("--index-only", action="store_true", help="skip the store benchmarks")
    parts.add_argument("--engine-only", action="store_true", help="only the store benchmarks")
    args = parser.parse_args()
    try:
        sizes = [int(n) for n in args.n.split(",")]
    except ValueError:
        parser.error(f"--n takes numbers of codes, comma-separated: got {args.n!r}")
    if len(sizes) > 1 and not args.engine_only:
        parser.error("several sizes (--n A,B) go with --engine-only")
    threads = faiss.omp_get_max_threads()
    params = IndexParams(hnsw_m=args.m, ef_construction=args.ef_construction, kind=args.kind)
    for n in sizes:
        args.n = n
        rng = np.random.default_rng(20261125)
        print(
            f"n={n:,}  codes={args.codes}  kind={params.kind}  M={params.hnsw_m} "
            f"efC={params.ef_construction}  threads={threads}"
        )
        codes = CODES[args.codes](n, rng)
        if not args.engine_only:
            bench_index(args, codes, params, queries_for(codes, args.queries, rng), threads)
        if not args.index_only:
            near = queries_for(codes, 2 * args.engine_queries, rng)[: args.engine_queries]
            bench_engine(codes, params, near)
        print()
    return 0


def bench_index(
    args: argparse.Namespace,
    codes: np.ndarray,
    params: IndexParams,
    queries: list[int],
    threads: int,
) -> None:
    """Build, memory, top-k and radius against IndexBinaryFlat, snapshots."""
    unique = np.unique(codes)

    # -- build ----------------------------------------------------------------------------
    if params.kind == HNSW_KIND:
        subset = codes[: min(100_000, args.n)]
        faiss.omp_set_num_threads(1)
        _, one = build_index(subset, params)
        faiss.omp_set_num_threads(threads)
        _, many = build_index(subset, params)
        print(
            f"build {len(subset):,} codes: 1 thread {len(subset) / one:,.0f} codes/s, "
            f"{threads} threads {len(subset) / many:,.0f} codes/s ({one / many:.2f}x)"
        )
    counts = dict.fromkeys(unique.tolist(), 1)  # made before the RSS baseline
    warm_up_compiled_loops()  # their machine code is the process's, not the index's
    rss0 = rss_bytes()
    start = time.perf_counter()
    index = index_class(params).build(params, counts, len(codes))
    seconds = time.perf_counter() - start
    index.settle()  # the substring tables, built in the background
    settled = time.perf_counter() - start
    rss_index = rss_bytes() - rss0
    del counts
    rate = len(unique) / seconds
    print(
        f"build {len(unique):,} distinct codes: {seconds:.1f} s, {rate:,.0f} codes/s; "
        f"with its substring tables {settled:.1f} s"
    )

    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(unique))
    print(
        f"memory per code: ours {rss_index / len(unique):.0f} B RSS growth "
        f"(estimate {index.memory_bytes() / len(unique):.0f} B); "
        f"flat anchor {flat.code_size} B"
    )

    # -- top-k ----------------------------------------------------------------------------
    faiss.omp_set_num_threads(1)
    q_codes = codes_from_u64(np.array(queries, dtype=np.uint64))

    def flat_knn(i: int) -> np.ndarray:
        return flat.search(q_codes[i : i + 1], K)[0][0]

    flat_times, flat_results = latencies(flat_knn, list(range(len(queries))))
    truth = [int(d[-1]) for d in flat_results]  # the true 10th distance per query
    flat_p50 = p(flat_times, 50)
    print(f"\ntop-{K}: flat anchor p50 {flat_p50:.3f} ms  p99 {p(flat_times, 99):.3f} ms")
    print(f"  {'path':<22}{'p50 ms':>9}{'p99 ms':>9}{'recall@10':>11}{'x flat p50':>12}")

    def run_top_k(label: str, idx_params: IndexParams, route: Route | None = None) -> None:
        # a benchmark's override of the collection's settings (the graph reads its own)
        index.params = index._graph.params = idx_params
        if route is Route.HNSW and index._graph.graph_costs is None:
            index._graph.measure_graph()  # a graph the default settings do not plan
        times, results = latencies(lambda q: index.search([q], k=K, route=route), queries)
        hits = [
            min(K, sum(m.distance <= truth[i] for m in r.matches))  # type: ignore[attr-defined]
            for i, r in enumerate(results)
        ]
        path = results[0].path.name  # type: ignore[attr-defined]
        recall = sum(hits) / (K * len(hits))
        print(
            f"  {label + ' (' + path + ')':<22}{p(times, 50):>9.3f}{p(times, 99):>9.3f}"
            f"{recall:>11.3f}{flat_p50 / p(times, 50):>11.2f}x"
        )

    forced = replace(params, exact_threshold=0, hnsw_max_codes=1 << 40)
    if params.kind == HNSW_KIND:
        for ef in (int(e) for e in args.ef.split(",") if e):
            run_top_k(f"HNSW efS={ef}", replace(forced, ef_search=ef), Route.HNSW)
    run_top_k("planner", params)
    near, far = list(range(len(queries) // 2)), list(range(len(queries) // 2, len(queries)))
    for label, part in (("near queries", near), ("random queries", far)):
        times, results = latencies(lambda i: index.search([queries[i]], k=K), part)
        theirs = [flat_times[i] for i in part]
        hits = sum(
            min(K, sum(m.distance <= truth[i] for m in r.matches))  # type: ignore[attr-defined]
            for i, r in zip(part, results, strict=True)
        )
        print(
            f"  planner, {label}: p50 {p(times, 50):.3f} ms  p99 {p(times, 99):.3f} ms  "
            f"(flat {p(theirs, 50):.3f} / {p(theirs, 99):.3f}: {p(theirs, 50) / p(times, 50):.1f}x"
            f" at p50)  recall@10 {hits / (K * len(part)):.3f}"
        )

    # -- radius ---------------------------------------------------------------------------
    tables_s, tables = timed(lambda: SubstringTables(unique))
    print(
        f"\nradius (exact: substring tables when narrow enough, else a scan; tables "
        f"{tables.nbytes / len(unique):.0f} B/code, built in {tables_s:.3f} s in the "
        "background) against flat range search:"
    )
    for radius in (4, 8, 10, 12, 16):

        def flat_range(i: int, r: int = radius) -> set[int]:
            _, _, labels = flat.range_search(q_codes[i : i + 1], r + 1)
            return set(unique[labels].tolist())

        # the tables on their own, at any size: where they start to beat the scan (first,
        # so that ours is timed after them, not right after the flat scan, which streams
        # every code through the caches; the tables alone follow the previous radius's scan)
        tt, _ = latencies(
            lambda q, r=radius: tables.range_search(np.array([q], dtype=np.uint64), r), queries
        )
        ot, orr = latencies(lambda q, r=radius: index.search([q], radius=r), queries)
        ft, fr = latencies(flat_range, list(range(len(queries))))
        alone = f"{p(tt, 50):.3f} ms"
        want = sum(len(s) for s in fr)  # type: ignore[arg-type]
        got = sum(
            len(s & {m.code for m in o.matches})  # type: ignore[attr-defined, operator]
            for s, o in zip(fr, orr, strict=True)
        )
        print(
            f"  r={radius:<3} flat p50 {p(ft, 50):.3f} ms   ours p50 {p(ot, 50):.3f} ms "
            f"(flat / ours {p(ft, 50) / p(ot, 50):.1f}x)   tables alone p50 {alone}   "
            f"recall {got / max(want, 1):.3f} ({want} matches)"
        )
    faiss.omp_set_num_threads(threads)

    # -- snapshot -------------------------------------------------------------------------
    with tempfile.TemporaryDirectory(dir=".") as folder:
        seconds, written = timed(lambda: write_snapshot(Path(folder), "bench", index.export()))
        size = written[1]  # type: ignore[index]
        load_s, loaded = timed(lambda: read_snapshot(Path(folder) / "bench.snap"))
        _, image = loaded  # type: ignore[misc]
        restore_s, restored = timed(lambda: restore_code_index(params, image))
        restored.close()  # type: ignore[attr-defined]
        print(
            f"\nsnapshot: {size / 1e6:.1f} MB ({size / len(unique):.0f} B/code), "
            f"write {seconds:.2f} s, "
            f"read + verify {load_s:.2f} s, restore {restore_s:.2f} s"
        )
        if params.kind == HNSW_KIND and len(image.tables):
            bare = image._replace(tables=image.tables[:0])
            bare_s, without = timed(lambda: restore_code_index(params, bare))
            rebuilt_s, _ = timed(without.settle)  # type: ignore[attr-defined]
            without.close()  # type: ignore[attr-defined]
            print(
                f"  the graph's substring tables in it: {len(image.tables) / len(unique):.0f} "
                f"B/code; restored without them (anchor, as before snapshots kept them) "
                f"{bare_s:.2f} s, then {rebuilt_s:.2f} s until rebuilt in the background"
            )


def dir_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def bench_engine(codes: np.ndarray, params: IndexParams, near: list[int]) -> None:
    """Bulk load, the public API's searches beside the code index alone and a flat scan
    (right after the load and settled), restart, durable adds."""
    settings = EngineSettings(index=params, maintenance_interval_seconds=3600)
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder)
        engine = Engine(data, settings)
        batch = 50_000
        start = time.perf_counter()
        for at in range(0, len(codes), batch):
            items = [
                (f"img/{at + i:09d}.jpg", Fingerprint(int(v), "phash"), {})
                for i, v in enumerate(codes[at : at + batch].tolist())
            ]
            engine.add_batch("", items)
        load_s = time.perf_counter() - start
        flat = faiss.IndexBinaryFlat(64)
        flat.add(codes_from_u64(codes))
        reads = engine_reads(engine, flat, near)
        print_engine_reads(f"right after the load ({load_s:.0f} s)", reads)
        engine.inspect("").settle()
        graph_s = time.perf_counter() - start
        print_engine_reads("settled", engine_reads(engine, flat, near))
        del flat
        stats = engine.stats("")
        images = stats.collection.image_count
        print(
            f"engine index memory, settled: {stats.index_memory_bytes / images:.0f} B per image "
            f"({stats.code_count:,} codes in {stats.index_kind}); the read path keeps nothing "
            "beside it (a search reads its matches' rows from the store)"
        )
        engine.snapshot("")
        print(
            f"\nengine bulk load (add_batch, {batch:,} per transaction): "
            f"{len(codes) / load_s:,.0f} images/s stored and searchable, "
            f"{len(codes) / graph_s:,.0f} images/s until settled (graph, tables); "
            f"on disk {dir_bytes(data) / len(codes):.0f} B/image (SQLite + snapshot)"
        )
        extra = min(100_000, len(codes))
        items = [
            (f"extra/{i:09d}", Fingerprint(int(v) ^ 1, "phash"), {})
            for i, v in enumerate(codes[:extra].tolist())
        ]
        engine.add_batch("", items)
        engine.close(final_snapshot=False)
        seconds, reopened = timed(lambda: Engine(data, settings))
        assert isinstance(reopened, Engine)
        sources = "; ".join(
            f"{r.codes.value}: {r.source}, {r.replayed:,} changes replayed"
            for r in reopened.load_reports
        )
        graft_s, _ = timed(reopened.inspect("").settle)
        print(
            f"restart: {seconds:.2f} s to serve ({sources}; "
            f"{reopened.collection('').image_count:,} images); settled (the replayed "
            f"codes in the graph, the tables rebuilt) {graft_s:.1f} s later"
        )
        durable_adds(reopened)
        reopened.close(final_snapshot=False)


ENGINE_READS = ("radius 10", "top-10")


def engine_reads(
    engine: Engine, flat: faiss.IndexBinaryFlat, queries: list[int]
) -> dict[str, dict[str, list[float]] | int]:
    """Per query, in turn (the machine's swings fall on all three alike): the flat scan, the
    code index alone (`Engine.inspect(...).search`: codes and distances), and the public
    `Engine.search` (images, ids and metadata), for radius 10 and exact top-10, one thread.
    Counts the answers whose distances differ from the flat scan's."""
    faiss.omp_set_num_threads(1)
    crops = engine.collection("").crop_hashes  # radius searches go to its index of every code
    by_radius = engine.inspect("", CodeSet.EVERY_CODE if crops else CodeSet.IMAGES)
    by_rank = engine.inspect("")
    times: dict[str, dict[str, list[float]]] = {
        read: {"flat": [], "index": [], "engine": []} for read in ENGINE_READS
    }
    inexact = 0
    for q in queries:
        x = codes_from_u64(np.array([q], dtype=np.uint64))
        for read in ENGINE_READS:
            radius = read == "radius 10"
            started = time.perf_counter_ns()
            if radius:
                _, distances, _ = flat.range_search(x, 11)
            else:
                distances, _ = flat.search(x, K)
            flat_ns = time.perf_counter_ns()
            options = {"radius": 10} if radius else {"k": K}
            (by_radius if radius else by_rank).search([q], exact=True, **options)
            index_ns = time.perf_counter_ns()
            result = engine.search("", [Fingerprint(q, "phash")], exact=True, **options)
            engine_ns = time.perf_counter_ns()
            for name, ns in (
                ("flat", flat_ns - started),
                ("index", index_ns - flat_ns),
                ("engine", engine_ns - index_ns),
            ):
                times[read][name].append(ns / 1e6)
            want = sorted(int(d) for d in np.asarray(distances).ravel())
            got = sorted(m.distance for m in result.matches)
            inexact += got != want  # ties at a top-k's last distance tie in distance too
    faiss.omp_set_num_threads(faiss.omp_get_max_threads())
    return {**times, "inexact": inexact}


def print_engine_reads(phase: str, reads: dict) -> None:
    print(f"engine API, {phase}, {len(reads['top-10']['flat'])} near queries, one thread:")
    for read in ENGINE_READS:
        t = reads[read]
        flat, index, api = (p(t[name], 50) for name in ("flat", "index", "engine"))
        print(
            f"  {read:<9} flat p50 {flat:.3f} ms   index alone {index:.3f} ms "
            f"({flat / index:.1f}x flat)   Engine.search {api:.3f} ms ({flat / api:.1f}x flat; "
            f"p99 {p(t['engine'], 99):.3f} ms)"
        )
    print(f"  answers whose distances differ from the flat scan's: {reads['inexact']}")


def durable_adds(engine: Engine) -> None:
    """Adds/s with 1 writer (each add its own transaction and fsync) against 16 writers
    (group commit), with and without the near-duplicate search of each add."""
    rng = np.random.default_rng(1)
    counter = iter(range(10**9))
    lock = threading.Lock()

    def rate(seconds: float, writers: int, find_duplicates: bool) -> float:
        stop = time.perf_counter() + seconds
        done = [0] * writers

        def writer(w: int) -> None:
            while time.perf_counter() < stop:
                with lock:
                    n = next(counter)
                    value = int(rng.integers(0, 2**63))
                fingerprint = Fingerprint(value, "phash")
                engine.add("", f"durable/{n}", fingerprint, find_duplicates=find_duplicates)
                done[w] += 1

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(done) / seconds

    fsyncs = []
    with tempfile.NamedTemporaryFile(dir=engine.data_dir) as scratch:
        for _ in range(200):
            scratch.write(b"x" * 100)
            scratch.flush()
            start = time.perf_counter()
            os.fsync(scratch.fileno())
            fsyncs.append((time.perf_counter() - start) * 1e3)
    print(f"durable adds (acknowledged after fsync; an fsync here: p50 {p(fsyncs, 50):.3f} ms):")
    for find_duplicates in (False, True):
        single = rate(3.0, 1, find_duplicates)
        groups = engine.inspect_store().groups_committed
        grouped = rate(3.0, 16, find_duplicates)
        per_txn = 3.0 * grouped / max(1, engine.inspect_store().groups_committed - groups)
        label = "with duplicate search" if find_duplicates else "store only"
        print(
            f"  {label:<22} 1 writer (a transaction per add) {single:>7,.0f}/s   "
            f"16 writers (group commit, {per_txn:.1f} per transaction) {grouped:>7,.0f}/s   "
            f"{grouped / single:.1f}x"
        )


def _page() -> str:
    """The page a run publishes to: the engine's reads of each kind apart from the index's
    own benchmark, which runs at one size."""
    if "--engine-only" not in sys.argv:
        return "index"
    kind = sys.argv[sys.argv.index("--kind") + 1] if "--kind" in sys.argv else IndexParams().kind
    return f"index_engine_{kind}"


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "The Hamming index",
            "FAISS `IndexBinaryFlat` (top-k and range search) over the same codes",
            main,
            page=_page(),
        )
    )
