"""What crop hashes cost: hashing, bulk load, index size, store size, adds and searches of a
`crop_hashes` collection beside a plain one, in the same run, for each index kind.

Hashing: every original of the corpus (../shared/bench, when present) hashed plain and with
its crops (`hash_image(..., crops=True)`), interleaved, single-threaded; medians per image.
Engine: two fresh data dirs, one collection each (plain, and crop_hashes), loaded with the
same --n images through `add_batch` (random 64-bit hashes, two random crop hashes each for
the crop collection: the index and the store only see codes), then, right after the load,
single adds with their duplicate check and searches (radius 10 and top-10, by hash, the
crop collection's queries sending their two crop hashes as an image query does), p50/p99;
then the same once the index has settled (its background work after the load done).
The plain collection is the anchor: every row prints the ratio, and the rows that have one
are checked against the bounds crop hashes must keep to be a default (`BOUNDS`).

    python -m scripts.bench.crop_cost [--n 1000000] [--queries 400] [--kinds hnsw,tables]
        [--corpus ../shared/bench]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from neardup.index import Engine, EngineSettings, Fingerprint, hash_image
from neardup.index.fingerprint.crops import CROP_KEEPS
from neardup.index.params import KINDS

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED

LOAD_BATCH = 50_000
# What crop hashes may cost, crop collection / plain collection in one run (issue 32: they
# are on by default, so a user who never asked for them must barely pay for them).
BOUNDS = {
    "settled: radius 10 p50 ms": 1.3,
    "settled: top-10 p50 ms": 1.2,
    "index MB, settled": 1.5,
    "settled: add p50 ms": 1.3,
    "after load: radius 10 p50 ms": 2.0,
    "after load: top-10 p50 ms": 2.0,
    "after load: add p50 ms": 2.0,
}


def hashing_ms(corpus: Path) -> tuple[float, float, int] | None:
    """Median ms per original hashed plain and with crops, and how many (None: no corpus)."""
    manifest = corpus / "manifest.csv"
    if not manifest.exists():
        return None
    with manifest.open(newline="") as f:
        paths = [corpus / r["path"] for r in csv.DictReader(f) if r["transform"] == "none"]
    plain, cropped = [], []
    for path in paths:
        data = path.read_bytes()
        for crops, into in ((False, plain), (True, cropped)):
            started = time.perf_counter()
            hash_image(data, crops=crops)
            into.append((time.perf_counter() - started) * 1000)
    return statistics.median(plain), statistics.median(cropped), len(paths)


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


def _calls(
    engine: Engine,
    codes: np.ndarray,
    queries: int,
    crop_hashes: bool,
    rng: np.random.Generator,
    phase: str,
) -> dict[str, float]:
    """p50/p99 ms of single adds and of radius-10 and top-10 searches near stored images."""
    adds: list[float] = []
    radius: list[float] = []
    top: list[float] = []
    n = codes.shape[0]
    for i in range(queries):
        base = codes[int(rng.integers(n))].tolist()
        flipped = [c ^ int(rng.integers(1 << 10)) for c in base]  # <= 10 bits from a stored image
        crops = [fp(c) for c in flipped[1:]] if crop_hashes else []
        started = time.perf_counter()
        engine.add("c", f"new-{phase}-{i}", fp(flipped[0]), quality=80, crops=crops)
        adds.append((time.perf_counter() - started) * 1000)
        for into, options in ((radius, {"radius": 10}), (top, {"k": 10})):
            started = time.perf_counter()
            engine.search("c", [fp(flipped[0])], crop_queries=crops, **options)
            into.append((time.perf_counter() - started) * 1000)
    figures = {}
    for name, values in (("add", adds), ("radius 10", radius), ("top-10", top)):
        figures[f"{phase}: {name} p50 ms"] = float(np.percentile(values, 50))
        figures[f"{phase}: {name} p99 ms"] = float(np.percentile(values, 99))
    return figures


def measure_engine(
    folder: Path, kind: str, crop_hashes: bool, codes: np.ndarray, queries: int
) -> dict:
    """Load seconds, codes, memory and store bytes, add and search latencies of one engine
    right after the load and once its index settled."""
    rng = np.random.default_rng(7)
    n = codes.shape[0]
    figures: dict[str, object] = {}
    settings = EngineSettings(
        maintenance_interval_seconds=3600, index=EngineSettings().index.with_overrides(kind=kind)
    )
    with Engine(folder, settings) as engine:
        engine.create_collection("c", crop_hashes=crop_hashes)
        started = time.perf_counter()
        for start in range(0, n, LOAD_BATCH):
            rows = codes[start : start + LOAD_BATCH].tolist()
            engine.add_batch(
                "c",
                [
                    (f"i{start + i}", fp(row[0]), {}, 80, tuple(fp(c) for c in row[1:]))
                    for i, row in enumerate(rows)
                ],
            )
        figures["load s"] = time.perf_counter() - started
        for phase in ("after load", "settled"):
            if phase == "settled":
                settle_started = time.perf_counter()
                engine.inspect("c").settle()
                figures["settle s"] = time.perf_counter() - settle_started
            figures.update(_calls(engine, codes, queries, crop_hashes, rng, phase))
        stats = engine.stats("c")
        figures["images"], figures["codes"] = stats.collection.image_count, stats.code_count
        figures["index MB, settled"] = stats.index_memory_bytes / 1e6
    figures["store MB"] = sum(p.stat().st_size for p in folder.glob("neardup.sqlite3*")) / 1e6
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--corpus", type=Path, default=DEFAULT_SHARED / "bench")
    args = parser.parse_args()
    timed = hashing_ms(args.corpus)
    if timed is None:
        print(f"no corpus at {args.corpus}: hashing not measured")
    else:
        plain, cropped, count = timed
        print(
            f"hashing {count} originals, median per image: plain {plain:.1f} ms, with "
            f"{len(CROP_KEEPS)} crops {cropped:.1f} ms ({cropped / plain:.2f}x)"
        )
    rng = np.random.default_rng(20261201)
    codes = rng.integers(0, 1 << 63, size=(args.n, 1 + len(CROP_KEEPS)), dtype=np.uint64) * 2
    codes |= rng.integers(0, 2, size=codes.shape, dtype=np.uint64)
    over: list[str] = []
    for kind in args.kinds.split(","):
        with tempfile.TemporaryDirectory(prefix="neardup-crop-cost-") as tmp:
            plain = measure_engine(Path(tmp) / "plain", kind, False, codes[:, :1], args.queries)
            cropping = measure_engine(Path(tmp) / "crops", kind, True, codes, args.queries)
        print(
            f"\n## index kind {kind}: {args.n:,} images loaded with add_batch; {args.queries}"
            " adds and searches each, right after the load and settled\n"
        )
        print("| | plain | crop_hashes | ratio | bound |")
        print("|---|---|---|---|---|")
        for key in plain:
            a, b = float(plain[key]), float(cropping[key])  # type: ignore[arg-type]
            ratio = b / a if a >= 0.01 else None
            bound = BOUNDS.get(key)
            verdict = ""
            if bound is not None and ratio is not None:
                verdict = f"<= {bound}x " + ("met" if ratio <= bound else "NOT met")
                if ratio > bound:
                    over.append(f"{kind}: {key} {ratio:.2f}x > {bound}x")
            shown = f"{ratio:.2f}x" if ratio is not None else "-"
            print(f"| {key} | {a:,.2f} | {b:,.2f} | {shown} | {verdict} |")
    print("\nbounds: " + ("every one met" if not over else "not met: " + "; ".join(over)))
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "What crop hashes cost",
            "a plain collection (no crop hashes), loaded and searched in the same run",
            main,
        )
    )
