"""The engines beside each other: the local engine (SQLite + FAISS), Milvus Lite and a
standalone Milvus server (PyPI's `milvus` binary on loopback), with the same codes and
queries through the same engine seam (`Backend`).

Per engine: a bulk load of --n codes (70% random, 30% near copies) with `add_batch` in
batches of 2,000 (adds/s), then --queries searches by hash right after it (half near a
stored code, half random), radius 10 and top-10, p50/p99 ms, and single adds with their
duplicate check. The local engine is the anchor: every row prints each engine's ratio to
it. The standalone server is skipped, saying why, where it cannot start.

Through the service (section "service"): a `neardup serve` process on the local engine and
one on the Milvus engine in front of the standalone server (at the project's tick,
`TICK_MS`), one after the other, each timed from a Python client as a user meets it: an
AddStream of --stream hash adds into the empty server (adds/s), then single hash adds with
their duplicate check, radius-10 and top-10 searches by hash (p50/p99 ms), `neardup build
--server` of the build corpus into it (files/s, wall; hashing runs in the build), and the
seconds a SIGTERM takes to stop it. The local server is the anchor (ratio Milvus / local).

With --build-corpus FOLDER (default ../shared/bench when present) it also times
`neardup build FOLDER --data-dir D` twice as a user runs it: hashing on this machine's
threads, and with `--dask local` (a LocalCluster, its start included), then checks that
both stored the same hashes.

    python -m scripts.bench.scaleout [--sections build,engines,service] [--n 100000]
        [--queries 300] [--stream 20000] [--build-corpus DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from neardup.index import Engine, EngineSettings, Fingerprint
from neardup.index.backend import Backend
from neardup.service.client import Client, add_request

from scripts.bench.common import clustered_codes, published, queries_for
from scripts.bench.corpus import DEFAULT_SHARED
from scripts.reliability.server_process import ServerProcess
from scripts.tools.milvus_standalone import StandaloneUnavailable, standalone_milvus

BATCH = 2000
SECTIONS = ("build", "engines", "service")
SETTINGS = EngineSettings(maintenance_interval_seconds=3600)


def fp(value: int) -> Fingerprint:
    return Fingerprint(value, "phash")


@contextmanager
def local(folder: Path) -> Iterator[Backend]:
    with Engine(folder / "data", SETTINGS) as engine:
        yield engine


@contextmanager
def lite(folder: Path) -> Iterator[Backend]:
    from neardup.index.milvus import MilvusEngine

    with MilvusEngine(str(folder / "lite.db"), settings=SETTINGS) as engine:
        yield engine


@contextmanager
def standalone(folder: Path) -> Iterator[Backend]:
    from neardup.index.milvus import MilvusEngine

    with (
        standalone_milvus(folder / "standalone") as uri,
        MilvusEngine(uri, settings=SETTINGS) as engine,
    ):
        yield engine


def _ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(engine: Backend, codes: np.ndarray, queries: list[int]) -> dict[str, float]:
    """adds/s of the bulk load, then search and add latencies right after it."""
    started = time.perf_counter()
    values = codes.tolist()
    for start in range(0, len(values), BATCH):
        engine.add_batch(
            "",
            [(f"i{start + i}", fp(c), {}, 80) for i, c in enumerate(values[start : start + BATCH])],
        )
    figures = {"bulk adds/s": len(values) / (time.perf_counter() - started)}
    radius = [_ms(lambda q=q: engine.search("", [fp(q)], radius=10)) for q in queries]
    top = [_ms(lambda q=q: engine.search("", [fp(q)], k=10)) for q in queries]
    adds = [
        _ms(lambda i=i, q=q: engine.add("", f"new{i}", fp(q), quality=80))
        for i, q in enumerate(queries)
    ]
    for name, values_ms in (("radius 10", radius), ("top-10", top), ("single add", adds)):
        figures[f"{name} p50 ms"] = float(np.percentile(values_ms, 50))
        figures[f"{name} p99 ms"] = float(np.percentile(values_ms, 99))
    return figures


def _hex(code: int) -> str:
    return f"{code:016x}"


def through_server(target: str, codes: np.ndarray, queries: list[int]) -> dict[str, float]:
    """An AddStream of the codes into an empty server (adds/s), then single adds and
    searches by hash, as a client meets them."""
    values = codes.tolist()
    with Client(target, timeout=120) as client:
        started = time.perf_counter()
        stream = (add_request(hash=_hex(c), id=f"i{i}") for i, c in enumerate(values))
        answers = sum(1 for a in client.add_stream(stream) if a.HasField("added"))
        figures = {"AddStream adds/s": answers / (time.perf_counter() - started)}
        assert answers == len(values), f"{len(values) - answers} adds failed"
        adds = [
            _ms(lambda i=i, q=q: client.add(hash=_hex(q), id=f"single{i}"))
            for i, q in enumerate(queries)
        ]
        radius = [_ms(lambda q=q: client.search(hash=_hex(q), max_distance=10)) for q in queries]
        top = [_ms(lambda q=q: client.search(hash=_hex(q), k=10)) for q in queries]
    for name, values_ms in (("single add", adds), ("radius 10", radius), ("top-10", top)):
        figures[f"{name} p50 ms"] = float(np.percentile(values_ms, 50))
        figures[f"{name} p99 ms"] = float(np.percentile(values_ms, 99))
    return figures


def served(
    folder: Path,
    settings: dict[str, str],
    codes: np.ndarray,
    queries: list[int],
    corpus: Path | None,
) -> dict[str, float]:
    """`through_server` on a `neardup serve` process with these settings, then `neardup
    build CORPUS --server` into it (images/s, wall), and its stop."""
    folder.mkdir(parents=True)
    server = ServerProcess(folder / "data", settings)
    server.start()
    try:
        figures = through_server(server.address, codes, queries)
        if corpus is not None:
            seconds, line = build_seconds(corpus, "--server", server.address)
            images = sum(1 for p in corpus.rglob("*") if p.is_file())
            print(f"build --server: {line}")
            figures["build --server files/s"] = images / seconds
    finally:
        stopping = time.perf_counter()
        server.stop()
        figures["SIGTERM stop s"] = time.perf_counter() - stopping
    return figures


def compare_servers(
    codes: np.ndarray, queries: list[int], corpus: Path | None
) -> dict[str, dict[str, float]]:
    """The local-engine server, then a Milvus-engine server on the standalone server."""
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="neardup-scaleout-serve-") as tmp:
        results["local server"] = served(Path(tmp) / "local", {}, codes, queries, corpus)
        print("local server: done", flush=True)
        try:
            with standalone_milvus(Path(tmp) / "milvus") as uri:
                settings = {"backend": "milvus", "milvus_uri": uri}
                results["Milvus server"] = served(Path(tmp) / "m", settings, codes, queries, corpus)
        except StandaloneUnavailable as exc:
            print(f"Milvus server: skipped: {exc}")
        print("Milvus server: done", flush=True)
    return results


def print_table(results: dict[str, dict[str, float]], anchor_name: str) -> None:
    names = list(results)
    print("| | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    anchor = results[anchor_name]
    for key in anchor:
        cells = [f"{results[n][key]:,.1f} ({results[n][key] / anchor[key]:.2f}x)" for n in names]
        print(f"| {key} | " + " | ".join(cells) + " |")


def build_seconds(corpus: Path, *target: str) -> tuple[float, str]:
    """Wall seconds of one `neardup build CORPUS TARGET...` run, and its summary line."""
    neardup = Path(sys.executable).parent / "neardup"
    started = time.perf_counter()
    done = subprocess.run(
        [str(neardup), "build", str(corpus), *target],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    return seconds, done.stderr.strip().splitlines()[-1]


def compare_builds(corpus: Path) -> None:
    """A local build and a Dask LocalCluster build of the same folder: images/s and ratio."""
    with tempfile.TemporaryDirectory(prefix="neardup-dask-build-") as tmp:
        local_s, local_line = build_seconds(corpus, "--data-dir", str(Path(tmp) / "local"))
        dask_s, dask_line = build_seconds(
            corpus, "--data-dir", str(Path(tmp) / "dask"), "--dask", "local"
        )
        with Engine(Path(tmp) / "local") as a, Engine(Path(tmp) / "dask") as b:
            same = _hashes(a) == _hashes(b)
            images = len(_hashes(a))
    print(f"\nneardup build of {corpus} ({images} images), wall seconds:")
    print(f"- threads here: {local_s:.1f} s, {images / local_s:.1f} images/s ({local_line})")
    print(f"- --dask local: {dask_s:.1f} s, {images / dask_s:.1f} images/s ({dask_line})")
    print(f"- Dask / threads throughput: {local_s / dask_s:.2f}; same hashes stored: {same}")


def _hashes(engine: Engine) -> dict[str, str]:
    found, after = {}, ""
    while page := engine.list_images("", after, 1000):
        found.update((i.id, i.fingerprint.hex) for i in page)
        after = page[-1].id
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--stream", type=int, default=20_000)
    parser.add_argument("--build-corpus", type=Path, default=DEFAULT_SHARED / "bench")
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    if unknown := sections - set(SECTIONS):
        parser.error(f"--sections takes {','.join(SECTIONS)}; not {','.join(sorted(unknown))}")
    if "build" in sections and args.build_corpus.exists():
        compare_builds(args.build_corpus)
    rng = np.random.default_rng(20261201)
    if "engines" in sections:
        codes = clustered_codes(args.n, rng)
        queries = queries_for(codes, args.queries, rng)
        results: dict[str, dict[str, float]] = {}
        for name, opener in (
            ("local", local),
            ("Milvus Lite", lite),
            ("Milvus standalone", standalone),
        ):
            with tempfile.TemporaryDirectory(prefix="neardup-scaleout-") as tmp:
                try:
                    with opener(Path(tmp)) as engine:
                        results[name] = measure(engine, codes, queries)
                except StandaloneUnavailable as exc:
                    print(f"{name}: skipped: {exc}")
            print(f"{name}: done", flush=True)
        print(f"\nThe engines: {args.n:,} codes, {args.queries} queries; ratio = engine / local\n")
        print_table(results, "local")
    if "service" in sections:
        codes = clustered_codes(args.stream, rng)
        queries = queries_for(codes, args.queries, rng)
        corpus = args.build_corpus if args.build_corpus.exists() else None
        served_results = compare_servers(codes, queries, corpus)
        print(
            f"\nThrough `neardup serve`: AddStream of {args.stream:,} hash adds, then "
            f"{args.queries} of each call; ratio = Milvus / local\n"
        )
        print_table(served_results, "local server")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "The engines side by side: local, Milvus Lite, standalone Milvus",
            "the local engine (SQLite + FAISS) with the same codes and queries",
            main,
        )
    )
