"""What matching an upload's 8 orientations costs an add: its duplicate check with the 8
orientation hashes beside the same add with the upright hash alone, in one run.

Loads --n codes (70% random, 30% near copies: `common.clustered_codes`) into a fresh data
dir of the --kind index with `add_batch`, then times durable single adds with their
duplicate check, alternating an add that sends its 8 orientation hashes with one that sends
its upright hash only (the anchor: what an add did before the setting), each a random code:
first right after the bulk load (what a user meets then), then once the index has settled.
Hashing itself: `hash_image` with and without orientations on the fixture photos (the 8
orientations come from the same DCT).

    python -m scripts.bench.add_orientations [--n 1000000] [--kind hnsw|tables] [--adds 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams, hash_image
from neardup.index.params import KINDS

from scripts import ROOT
from scripts.bench.common import clustered_codes, published


def hashing_ms(orientations: bool) -> float:
    """The median ms of hashing each fixture photo (best of three), with or without its
    orientations."""
    photos = [p.read_bytes() for p in sorted((ROOT / "tests/fixtures/images").glob("*.jpg"))]
    times = []
    for data in photos:
        best = []
        for _ in range(3):
            started = time.perf_counter()
            hash_image(data, orientations=orientations)
            best.append(time.perf_counter() - started)
        times.append(min(best))
    return statistics.median(times) * 1e3


def timed_adds(
    engine: Engine, rng: np.random.Generator, count: int, prefix: str
) -> tuple[list[float], list[float]]:
    """Seconds of `count` adds each way (upright only, with orientations), alternating."""
    upright: list[float] = []
    turned: list[float] = []
    for i in range(count * 2):
        values = rng.integers(0, 2**63, 8, dtype=np.uint64).tolist()
        oriented = [Fingerprint(v, "phash") for v in values]
        with_turns = i % 2 == 0
        started = time.perf_counter()
        engine.add("", f"{prefix}{i}", oriented[0], orientations=oriented if with_turns else ())
        (turned if with_turns else upright).append(time.perf_counter() - started)
    return upright, turned


def print_table(when: str, upright: list[float], turned: list[float]) -> None:
    p50_up, p50_turned = (statistics.median(t) * 1e3 for t in (upright, turned))
    p99_up, p99_turned = (float(np.percentile(t, 99)) * 1e3 for t in (upright, turned))
    print(f"\n{when}\n\n| durable add with its duplicate check | p50 ms | p99 ms |\n|---|---|---|")
    print(f"| upright hash only (anchor) | {p50_up:.3f} | {p99_up:.3f} |")
    print(f"| 8 orientation hashes | {p50_turned:.3f} | {p99_turned:.3f} |")
    print(f"| ratio | {p50_turned / p50_up:.2f}x | {p99_turned / p99_up:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--kind", choices=KINDS, default=IndexParams().kind)
    parser.add_argument("--adds", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(31)
    codes = clustered_codes(args.n, rng)
    settings = EngineSettings(index=IndexParams(kind=args.kind), maintenance_interval_seconds=3600)
    with tempfile.TemporaryDirectory() as folder, Engine(Path(folder), settings) as engine:
        started = time.perf_counter()
        for at in range(0, args.n, 100_000):
            chunk = codes[at : at + 100_000].tolist()
            engine.add_batch(
                "", [(f"i{at + i}", Fingerprint(c, "phash"), {}) for i, c in enumerate(chunk)]
            )
        loaded = time.perf_counter() - started
        after_load = timed_adds(engine, rng, args.adds // 4, "fresh")
        engine.inspect("").settle()
        print(
            f"n={args.n:,} kind={args.kind}: loaded in {loaded:.0f} s, settled "
            f"{time.perf_counter() - started - loaded:.0f} s later"
        )
        settled = timed_adds(engine, rng, args.adds, "settled")
    print_table(f"right after the bulk load ({args.adds // 4} adds each way)", *after_load)
    print_table(f"settled ({args.adds} adds each way)", *settled)
    plain, oriented_ms = hashing_ms(False), hashing_ms(True)
    print(
        f"\nhashing a fixture photo, median: {plain:.2f} ms upright, {oriented_ms:.2f} ms with "
        f"its 8 orientations ({oriented_ms / plain:.2f}x)"
    )


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "What matching an upload's 8 orientations costs an add",
            "the same durable add with the upright hash only, alternating in one run",
            main,
        )
    )
