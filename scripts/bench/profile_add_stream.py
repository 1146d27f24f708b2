"""Where an AddStream's time goes, per add, beside hashing alone (the anchor), in one run.

    python -m scripts.bench.profile_add_stream [--n 1000000] [--seconds 10] [--data-cache DIR]
                                         [--in-process]

A `neardup serve` process on N clustered hashes (scripts/bench/service.py's data dir, reused from
--data-cache) whose servicer, engine and store are wrapped with timers (this script's
--timed-server mode: it patches private methods, so it follows their names), and one
AddStream of the typical 1024 px JPEGs from ../shared/bench (after a warm-up stream).
Prints, per add: the pool threads' CPU for decoding and hashing (against the same hashing
alone on one thread of this process) and for the add's validation and duplicate search;
the store writer's groups (size, wall time) and an operation's wall and CPU time; an add's
wall time on a pool thread and its wait for the writer; and, over the measured stream, the
share of a core each kind of thread used (the pool's threads summed), the server's CPU per
add and the machine's idle share (/proc). The timed server hashes on its pool's threads
(hash_processes=0), where its timers can count it; scripts/bench/server_profile.py profiles
a plain server, its hashing workers included.

With --in-process, no server: `Engine.submit_add` (the add's validation and duplicate
search) on a copy of the same data dir in this process, its CPU on the calling thread per
add, the writer keeping up (16 adds in flight), right after the open and once settled,
beside decoding and hashing alone, and right after the open of a copy whose snapshot lacks
the substring tables (their rebuild in the background, as before snapshots kept them): what the
server's figure holds without its other threads competing for the GIL and the cores, which
on this 2-core machine move it by more than a change to it.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scripts import module_command
from scripts.bench.common import clustered_codes, prepare_data_dir, published, start_server
from scripts.bench.corpus import DEFAULT_SHARED, load_sets

WARM_UP_SECONDS = 4.0


# -- the timed server (a child process) ---------------------------------------------------
def timed_server(stats_file: Path, argv: list[str]) -> int:
    """Runs `neardup serve` with timers around the add path; SIGUSR1 starts the samples
    afresh (after the warm-up); writes them at exit."""
    from neardup.index import engine, store
    from neardup.service import cli, servicer

    samples: dict[str, list[float]] = defaultdict(list)
    roles: dict[int, str] = {threading.get_native_id(): "event loop"}

    def timed(owner: Any, name: str, record: Callable[[float, float, Any], None]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            result = original(*args, **kwargs)
            record(time.perf_counter() - wall, time.thread_time() - cpu, result)
            return result

        setattr(owner, name, wrapper)

    def pool(key: str) -> Callable[[float, float, Any], None]:
        def record(wall: float, cpu: float, result: Any) -> None:
            roles[threading.get_native_id()] = "pool threads"
            samples[key].append(cpu)

        return record

    def submitted(wall: float, cpu: float, future: Any) -> None:
        samples["add on a pool thread, wall"].append(wall)
        handed = time.perf_counter()
        future.add_done_callback(
            lambda _: samples["waited for the writer, wall"].append(time.perf_counter() - handed)
        )

    def group(wall: float, cpu: float, result: Any) -> None:
        roles[threading.get_native_id()] = "store writer"
        samples["writer group, wall"].append(wall)

    timed(servicer.NeardupServicer, "_hash", pool("decode and hash, CPU"))
    timed(engine.Engine, "submit_add", pool("validation and duplicate search, CPU"))
    timed(servicer.NeardupServicer, "_add", submitted)
    original_commit = store.Store._commit

    def commit(self: Any, jobs: list[Any]) -> None:
        samples["writer group, adds"].append(len(jobs))
        original_commit(self, jobs)

    store.Store._commit = commit  # type: ignore[method-assign]
    timed(store.Store, "_commit", group)

    original_submit = store.Store.submit

    def submit(self: Any, op: Callable[[Any], Any], *, exclusive: bool = False) -> Any:
        def timed_op(txn: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return op(txn)
            finally:
                samples["writer operation, wall"].append(time.perf_counter() - wall)
                samples["writer operation, CPU"].append(time.thread_time() - cpu)

        return original_submit(self, timed_op, exclusive=exclusive)

    store.Store.submit = submit  # type: ignore[method-assign]

    def dump() -> None:
        stats_file.write_text(
            json.dumps({"samples": samples, "roles": {str(t): r for t, r in roles.items()}})
        )

    atexit.register(dump)
    signal.signal(signal.SIGUSR1, lambda *_: samples.clear())
    return cli.main(argv)


# -- the client and the report ------------------------------------------------------------
def thread_ticks(pid: int) -> dict[int, int]:
    ticks = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        ticks[int(task.name)] = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks


def machine_ticks() -> tuple[int, int]:
    """(idle, total) clock ticks of all cores so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return values[3] + values[4], sum(values[:8])


async def stream(target: str, jpegs: list[bytes], seconds: float, tag: str) -> int:
    from neardup.service.client import AsyncClient, add_request

    async def requests() -> Any:
        stop = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < stop:
            yield add_request(jpegs[n % len(jpegs)], id=f"{tag}/{n}")
            n += 1

    done = 0
    async with AsyncClient(target, timeout=600) as client:
        async for answer in client.add_stream(requests()):
            assert answer.HasField("added"), answer
            done += 1
    return done


def submit_add_cpu(data: Path, jpegs: list[bytes], adds: int) -> tuple[list[float], list[float]]:
    """The calling thread's CPU seconds in `Engine.submit_add`, per add, into the data dir,
    16 adds in flight: the first 1,000 from the moment it is open (the substring tables
    rebuilt in the background meanwhile, what a server's first adds meet after a restart),
    and `adds` more once that work has settled."""
    from neardup.index import Engine, EngineSettings, hash_image

    hashes = [hash_image(jpeg, "phash") for jpeg in jpegs]
    with Engine(data, EngineSettings(maintenance_interval_seconds=3600)) as engine:

        def timed(count: int, tag: str) -> list[float]:
            cpu: list[float] = []
            in_flight: list[Any] = []
            for n in range(count):
                image = hashes[n % len(hashes)]
                started = time.thread_time()
                in_flight.append(
                    engine.submit_add(
                        "", f"{tag}/{n}", image.fingerprint, {}, quality=image.quality
                    )
                )
                cpu.append(time.thread_time() - started)
                if len(in_flight) == 16:
                    for future in in_flight:
                        future.result()
                    in_flight.clear()
            for future in in_flight:
                future.result()
            return cpu

        opened = timed(1000, "opened")
        engine.inspect("").settle()
        return opened, timed(adds, "settled")


def strip_snapshot_tables(data: Path) -> None:
    """Rewrites the data dir's snapshots without the substring tables beside their graphs,
    as snapshots were before they kept them: a start then rebuilds them in the background."""
    from neardup.index.persistence.snapshot import read_snapshot, write_snapshot

    for path in (data / "snapshots").glob("*.snap"):
        _, image = read_snapshot(path)
        write_snapshot(path.parent, path.stem, image._replace(tables=image.tables[:0]))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--data-cache", type=Path)
    parser.add_argument("--in-process", action="store_true", help="Engine.submit_add alone")
    parser.add_argument("--timed-server", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.timed_server:
        return timed_server(args.timed_server, rest)

    import numpy as np
    from neardup.index import hash_image

    jpegs = load_sets(args.shared / "bench" / "originals")["1024px"]
    started = time.thread_time()
    for jpeg in jpegs * 3:
        hash_image(jpeg, "phash")
    hash_alone = (time.thread_time() - started) / (3 * len(jpegs))

    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        stats_file = Path(folder) / "stats.json"
        prepare_data_dir(
            data, clustered_codes(args.n, np.random.default_rng(20261125)), args.data_cache
        )
        if args.in_process:
            bare = Path(folder) / "bare"
            shutil.copytree(data, bare)
            strip_snapshot_tables(bare)
            opened_bare, _ = submit_add_cpu(bare, jpegs, 0)
            opened, settled = submit_add_cpu(data, jpegs, 3000)
            print(f"Engine.submit_add into {args.n:,} stored, in this process:")
            print(f"  decode and hash alone, one thread (anchor): {hash_alone * 1e3:.3f} ms CPU")
            for label, cpu in (
                ("first 1,000 after the open, snapshot without its tables (anchor)", opened_bare),
                ("first 1,000 after the open", opened),
                ("3,000 settled", settled),
            ):
                print(
                    f"  validation and duplicate search, CPU, {label}: mean "
                    f"{statistics.fmean(cpu) * 1e3:.3f} ms, p50 {statistics.median(cpu) * 1e3:.3f}"
                    " ms (bound 0.15)"
                )
            return 0
        serve, target = start_server(
            module_command(__spec__.name, "--timed-server", str(stats_file)),
            data,
            {"NEARDUP_HASH_PROCESSES": "0"},  # the timers count this process's threads' CPU
        )
        try:
            asyncio.run(stream(target, jpegs, WARM_UP_SECONDS, "warm"))
            serve.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            threads0, (idle0, total0) = thread_ticks(serve.pid), machine_ticks()
            wall = time.perf_counter()
            added = asyncio.run(stream(target, jpegs, args.seconds, "measured"))
            wall = time.perf_counter() - wall
            threads1, (idle1, total1) = thread_ticks(serve.pid), machine_ticks()
        finally:
            serve.terminate()
            serve.wait(120)
        stats = json.loads(stats_file.read_text())

    samples: dict[str, list[float]] = stats["samples"]

    def ms(key: str) -> str:
        mean, p50 = statistics.fmean(samples[key]), statistics.median(samples[key])
        return f"mean {mean * 1e3:.3f} ms, p50 {p50 * 1e3:.3f} ms"

    print(f"AddStream into {args.n:,} stored: {added / wall:,.0f} images/s over {wall:.1f} s")
    print(f"  decode and hash alone, on one thread here (anchor): {hash_alone * 1e3:.3f} ms CPU")
    for key in (
        "decode and hash, CPU",
        "validation and duplicate search, CPU",
        "add on a pool thread, wall",
        "waited for the writer, wall",
        "writer operation, wall",
        "writer operation, CPU",
        "writer group, wall",
    ):
        print(f"  {key}: {ms(key)}")
    print(f"  writer group, adds: mean {statistics.fmean(samples['writer group, adds']):.1f}")
    hz = os.sysconf("SC_CLK_TCK")
    shares: dict[str, float] = defaultdict(float)
    for tid, ticks in threads1.items():
        role = stats["roles"].get(str(tid), "other threads")
        shares[role] += (ticks - threads0.get(tid, 0)) / hz / wall
    print("  share of a core: " + ", ".join(f"{r} {s:.0%}" for r, s in sorted(shares.items())))
    busy_cores = sum(shares.values())
    print(
        f"  server CPU per add: {busy_cores / (added / wall) * 1e3:.2f} ms; machine idle "
        f"{(idle1 - idle0) / max(total1 - total0, 1):.0%}"
    )
    return 0


if __name__ == "__main__":
    if "--timed-server" in sys.argv:  # the child process this benchmark starts
        raise SystemExit(main())
    raise SystemExit(
        published(
            __spec__.name,
            "Where an AddStream's time goes",
            "hashing alone on the same images",
            main,
        )
    )
