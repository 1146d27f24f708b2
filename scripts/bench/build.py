"""Bulk build throughput beside hashing alone, on the same files and cores, in one run.

The bench images (../shared/bench: originals and variants, from its manifest) are repeated
under distinct ids up to --files entries of a list file (`id<TAB>path`), so every phase
reads the same, page-cache-warm bytes. Phases, each timed from outside as a user meets it:

1. anchor: `hash_image` over the list on every core (threads; and processes, for the
   ratio that Pillow's GIL release leaves);
2. `neardup build LIST --data-dir D` (a real subprocess: start-up, hashing, durable batched
   writes, the final snapshot);
3. the same command again over the fully indexed library (resume);
4. with --online: `neardup build LIST --server ADDR` into a `neardup serve` on 127.0.0.1.

Prints images/s per phase and the ratios the bulk-build issue asks for: offline / hash-only
(>= 0.85), online / hash-only (>= 0.60), first run / resume (>= 20x). Medians over --rounds.

    python -m scripts.bench.build [--files 20000] [--rounds 1] [--online]
"""

from __future__ import annotations

import csv
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from neardup.index import hash_image

from scripts.bench.common import published, start_server
from scripts.bench.corpus import corpus_parser, parse

NEARDUP = shutil.which("neardup", path=str(Path(sys.executable).parent)) or "neardup"


def bench_files(shared: Path) -> list[Path]:
    """Every image of the bench manifest."""
    bench = shared / "bench"
    with (bench / "manifest.csv").open(newline="") as f:
        return [bench / row["path"] for row in csv.DictReader(f)]


def write_list(files: list[Path], count: int, folder: Path) -> Path:
    """A list file of `count` entries cycling through `files`, each under its own id."""
    listing = folder / "library.txt"
    with listing.open("w") as f:
        for i in range(count):
            path = files[i % len(files)]
            f.write(f"r{i // len(files)}/{path.name}\t{path}\n")
    return listing


def _hash_path(path: str) -> str:
    with open(path, "rb") as f:
        return hash_image(f.read()).fingerprint.hex


def hash_only(paths: list[str], processes: bool) -> float:
    """Images/s of hashing alone on every core."""
    workers = os.cpu_count() or 1
    pool_type = ProcessPoolExecutor if processes else ThreadPoolExecutor
    with pool_type(max_workers=workers) as pool:
        list(pool.map(_hash_path, paths[: workers * 4], chunksize=8))  # start the workers
        started = time.perf_counter()
        for _ in pool.map(_hash_path, paths, chunksize=32):
            pass
        return len(paths) / (time.perf_counter() - started)


def timed_command(*argv: str) -> float:
    """Seconds a CLI command takes, wall clock; fails loudly on a non-zero exit."""
    started = time.perf_counter()
    done = subprocess.run([NEARDUP, *argv], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    print(f"    {done.stderr.strip().splitlines()[-1]}")
    return seconds


def one_round(listing: Path, paths: list[str], online: bool) -> dict[str, float]:
    rates = {
        "hash-only, threads": hash_only(paths, processes=False),
        "hash-only, processes": hash_only(paths, processes=True),
    }
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        first = timed_command("build", str(listing), "--data-dir", str(data))
        rates["build, offline"] = len(paths) / first
        resume = timed_command("build", str(listing), "--data-dir", str(data))
        rates["resume speed-up (x)"] = first / resume
        if online:
            server, address = start_server([NEARDUP], Path(folder) / "served")
            try:
                errors = str(Path(folder) / "online-errors.tsv")
                seconds = timed_command(
                    "build", str(listing), "--server", address, "--errors", errors
                )
                rates["build, online"] = len(paths) / seconds
            finally:
                server.terminate()
                server.wait(120)
    return rates


def main() -> None:
    parser = corpus_parser(__doc__)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--online", action="store_true", help="also build through a server")
    args = parse(parser)
    files = bench_files(args.shared)
    with tempfile.TemporaryDirectory(dir=".") as folder:
        listing = write_list(files, args.files, Path(folder))
        paths = [line.split("\t")[1].rstrip("\n") for line in listing.open()]
        for path in files:  # page cache: every phase reads warm bytes
            path.read_bytes()
        print(f"{len(paths)} files ({len(files)} distinct images), {os.cpu_count()} cores")
        rounds = []
        for number in range(args.rounds):
            print(f"round {number + 1}:")
            rounds.append(one_round(listing, paths, args.online))
    print("\nmedian images/s (resume: first build's seconds / resume's)")
    medians = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    for name, value in medians.items():
        print(f"  {name:24s} {value:8.1f}")
    anchor = medians["hash-only, threads"]
    print(f"  offline / hash-only      {medians['build, offline'] / anchor:8.2f}   (>= 0.85)")
    if "build, online" in medians:
        print(f"  online / hash-only       {medians['build, online'] / anchor:8.2f}   (>= 0.60)")
    print(f"  resume speed-up          {medians['resume speed-up (x)']:8.1f}x  (>= 20)")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Bulk build throughput",
            "hashing alone (`hash_image` on the same files, threads and cores)",
            main,
        )
    )
