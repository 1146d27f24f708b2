"""Substring-table layouts against FAISS's flat scan, in one run: which layout at which size.

    python -m scripts.bench.substrings [--n 1000000,10000000,30000000] [--queries 300]

Per size N: codes as ANCHORS.md (70% random, 30% near copies with 1..8 bits flipped), the
substring tables in each layout (`--layouts`, widths low bits first; four of 16 bits and
three of 21-22 by default), and an `IndexBinaryFlat` of the same codes (the anchor).
Queries: stored codes with 0..10 bits flipped ("near") and random codes ("random"),
reported apart; one at a time, one thread, in blocks of 25 queries asked of each layout
and of the flat index in turn, so that the machine's swings fall on all alike (and each
block sees the caches its own structure leaves: a flat scan streams every code). Per layout: build
seconds and bytes a code; radius 4, 8, 10, 12 p50 (tables alone; "scan" where they
decline); exact top-10 by growing the radius through the layout's growth radii until ten
codes are proven (the engine's `tables_top_k`), p50 and p99; the flat scan's p50 beside
them, and the ratio. Results are checked against the flat scan (an assertion, not a
sample).
"""

from __future__ import annotations

import argparse
import time

import faiss
import numpy as np
from neardup.index.fingerprint import codes_from_u64
from neardup.index.hamming.openmp import one_thread
from neardup.index.hamming.substrings import SubstringTables

from scripts.bench.common import clustered_codes, p, published

RADII = (4, 8, 10, 12)
K = 10
BLOCK = 25


def query_sets(codes: np.ndarray, count: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    near = codes[rng.integers(0, len(codes), size=count)].copy()
    for i in range(len(near)):
        for bit in rng.choice(64, size=int(rng.integers(0, 11)), replace=False):
            near[i] ^= np.uint64(1) << np.uint64(bit)
    return {"near": near, "random": rng.integers(0, 2**64, size=count, dtype=np.uint64)}


def grown_top_k(tables: SubstringTables, query: np.ndarray) -> np.ndarray | None:
    """The distances of the k nearest, proven by growing the radius; None: a scan."""
    for radius in tables.growth_radii:
        found = tables.range_search(query, radius).found
        assert found is not None  # no bound asked
        if len(found[0]) >= K:
            return np.sort(found[1])[:K]
    return None


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter_ns()
    value = fn()
    return (time.perf_counter_ns() - start) / 1e6, value


def bench(n: int, layouts: list[tuple[int, ...]], count: int, rng: np.random.Generator) -> None:
    codes = np.unique(clustered_codes(n, rng))
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(codes))
    built = {}
    print(f"\nN = {n:,} ({len(codes):,} distinct codes)")
    for widths in layouts:
        seconds, tables = timed(lambda w=widths: SubstringTables(codes, w))
        built[widths] = tables
        print(
            f"  layout {widths}: built in {seconds / 1e3:.2f} s, "
            f"{tables.nbytes / len(codes):.1f} B a code"
        )
    for kind, queries in query_sets(codes, count, rng).items():
        times: dict[object, list[float]] = {}
        with one_thread():
            for block in range(0, len(queries), BLOCK):
                measure_block(queries[block : block + BLOCK], flat, built, times)
        report(kind, times, layouts)


def measure_block(
    queries: np.ndarray,
    flat: faiss.IndexBinaryFlat,
    built: dict[tuple[int, ...], SubstringTables],
    times: dict[object, list[float]],
) -> None:
    """Every query of the block through the flat index, then through each layout, with
    each answer checked against the flat one."""
    truth = {}
    for q in queries:
        packed = codes_from_u64(q.reshape(1))
        for radius in RADII:
            ms, (_lims, dist, _ids) = timed(lambda r=radius, x=packed: flat.range_search(x, r + 1))
            times.setdefault(("flat", radius), []).append(ms)
            truth[int(q), radius] = np.sort(dist)
        ms, (dist, _ids) = timed(lambda x=packed: flat.search(x, K))
        times.setdefault(("flat", "top"), []).append(ms)
        truth[int(q), "top"] = dist[0]
    for widths, tables in built.items():
        for q in queries:
            one = q.reshape(1)
            for radius in RADII:
                ms, probed = timed(lambda t=tables, r=radius, x=one: t.range_search(x, r))
                times.setdefault((widths, radius), []).append(ms)
                assert np.array_equal(np.sort(probed.found[1]), truth[int(q), radius])
            ms, got = timed(lambda t=tables, x=one: grown_top_k(t, x))
            times.setdefault((widths, "top"), []).append(ms if got is not None else np.nan)
            assert got is None or np.array_equal(got, truth[int(q), "top"])


def report(kind: str, times: dict[object, list[float]], layouts: list[tuple[int, ...]]) -> None:
    def cell(key: object) -> str:
        values = np.array(times[key])
        if np.isnan(values).mean() > 0.5:
            return "scan"
        return f"{np.nanmedian(values):.3f}"

    flat = {radius: p(times[("flat", radius)], 50) for radius in (*RADII, "top")}
    print(f"  {kind} queries, p50 ms (x = flat p50 / ours):")
    header = "".join(f"{'r=' + str(r):>16s}" for r in RADII)
    print(f"  {'':18s}{header}{'top-10 p50':>18s}{'p99':>9s}")
    row = "".join(f"{flat[r]:16.3f}" for r in RADII)
    print(f"  {'flat (anchor)':18s}{row}{flat['top']:18.3f}{p(times[('flat', 'top')], 99):9.3f}")
    for widths in layouts:
        cells = []
        for key in (*RADII, "top"):
            value = cell((widths, key))
            ratio = "" if value == "scan" else f" ({flat[key] / float(value):.1f}x)"
            cells.append(f"{value + ratio:>16s}" if key != "top" else f"{value + ratio:>18s}")
        top = np.array(times[(widths, "top")])
        p99 = f"{np.nanpercentile(top, 99):9.3f}" if not np.isnan(top).all() else f"{'':9s}"
        print(f"  {widths!s:18s}{''.join(cells)}{p99}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="1000000,10000000,30000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--layouts", default="16,16,16,16 21,21,22")
    args = parser.parse_args()
    layouts = [tuple(int(w) for w in layout.split(",")) for layout in args.layouts.split()]
    rng = np.random.default_rng(7)
    for n in (int(v) for v in args.n.split(",")):
        bench(n, layouts, args.queries, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Substring-table layouts",
            "FAISS `IndexBinaryFlat` range search over the same codes",
            main,
        )
    )
