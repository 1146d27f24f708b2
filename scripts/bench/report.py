"""`neardup report` over a large collection: its time, beside the radius searches it makes,
and what its HTML sheet costs a browser.

Loads --n codes (70% random, 30% near copies, as scripts/bench/index.py) into a fresh data dir with
`add_batch`, closes it, then times `neardup report --data-dir D --json FILE --html PAGE`
as a real subprocess (start-up, listing every image, one exact radius search per distinct
code and orientation, grouping, writing). The report prints how much of its time went to
the radius searches; as the anchor, FAISS's flat range search of the same codes is timed on
a sample of them in this process, and scaled to every code (and orientation).

The sheet: the bytes of the page a browser opens first and of everything beside it, and the
time headless Chromium takes to load and render the first page (`--dump-dom`, after the
page's script has drawn its groups), beside the same browser opening an empty page in the
same run (its start-up). The codes carry no image files, so the sheet has no thumbnails.

    python -m scripts.bench.report [--n 1000000] [--radius 10] [--no-orientations]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from neardup.index import Engine, EngineSettings
from neardup.index.fingerprint import codes_from_u64

from scripts.bench.common import clustered_codes, load_codes, published

NEARDUP = shutil.which("neardup", path=str(Path(sys.executable).parent)) or "neardup"
SAMPLE = 2000


def flat_seconds_for_all(codes: np.ndarray, radius: int) -> float:
    """Seconds FAISS's flat range search would take for every distinct code (one thread),
    from a sample."""
    unique = np.unique(codes)
    flat = faiss.IndexBinaryFlat(64)
    flat.add(codes_from_u64(unique))
    faiss.omp_set_num_threads(1)
    sample = unique[np.random.default_rng(2).integers(0, len(unique), SAMPLE)]
    started = time.perf_counter()
    for code in sample:
        flat.range_search(codes_from_u64(np.array([code], dtype=np.uint64)), radius + 1)
    return (time.perf_counter() - started) / SAMPLE * len(unique)


def browser_seconds(page: Path, profile: Path) -> tuple[float, str]:
    """Wall seconds for headless Chromium to load, run and dump a page, and the DOM."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    started = time.perf_counter()
    done = subprocess.run(
        [
            chromium or "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return time.perf_counter() - started, done.stdout


def print_browser_times(page: Path) -> None:
    """The first page's load-and-render time in headless Chromium, beside an empty page's."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        print("browser: no chromium here (scripts/tools/ensure_chromium.sh installs it)")
        return
    empty = page.with_name("empty.html")
    empty.write_text("<!doctype html><title>empty</title>")
    runs = []
    for round_ in range(3):
        blank, _ = browser_seconds(empty, page.with_name(f"profile-e{round_}"))
        full, dom = browser_seconds(page, page.with_name(f"profile-r{round_}"))
        runs.append((blank, full, dom.count('class="group"')))
    blank = statistics.median(r[0] for r in runs)
    full = statistics.median(r[1] for r in runs)
    print(
        f"browser (headless Chromium, median of 3): first page loaded and {runs[0][2]} groups "
        f"drawn in {full:.2f} s; an empty page {blank:.2f} s (the anchor); the sheet's own "
        f"share {full - blank:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--radius", type=int, default=10)
    parser.add_argument("--no-orientations", action="store_true")
    args = parser.parse_args()
    codes = clustered_codes(args.n, np.random.default_rng(12))
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        with Engine(data, EngineSettings(maintenance_interval_seconds=3600)) as engine:
            print(f"loaded {args.n} codes in {load_codes(engine, codes):.1f} s")
        out, page = Path(folder) / "report.json", Path(folder) / "report.html"
        started = time.perf_counter()
        done = subprocess.run(
            [
                NEARDUP,
                "report",
                "--data-dir",
                str(data),
                "--radius",
                str(args.radius),
                "--json",
                str(out),
                "--html",
                str(page),
                *(["--no-orientations"] if args.no_orientations else []),
            ],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(done.stderr[-2000:])
        groups = json.loads(out.read_text())["groups"]
        print(done.stderr.strip())
        print(f"report, wall clock: {seconds:.1f} s; {len(groups)} groups")
        searched = 1 if args.no_orientations else 8
        flat = flat_seconds_for_all(codes, args.radius) * searched
        print(
            f"anchor: flat range searches of every distinct code x {searched} (r <= "
            f"{args.radius}, one thread, from {SAMPLE} timed): {flat:.1f} s"
        )
        files = page.with_name("report_files")
        beside = sum(f.stat().st_size for f in files.rglob("*"))
        scripts = sum(1 for _ in files.rglob("*.js"))
        print(
            f"sheet: the page a browser opens {page.stat().st_size / 1024:.0f} KB; beside it "
            f"{beside / 2**20:.1f} MB in {scripts} page scripts, each loaded when its page is "
            "opened"
        )
        print_browser_times(page)


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "`neardup report` over a large collection",
            "the radius searches the report makes, timed apart",
            main,
        )
    )
