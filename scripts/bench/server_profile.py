"""Where a server's CPU goes under AddStream: a sampling profile of the whole `neardup serve`
process (py-spy, every thread, native frames off), beside decoding and hashing alone (the
anchor), in one run.

    python -m scripts.bench.server_profile [--n 1000000] [--seconds 15] [--rate 200]
                                           [--data-cache DIR] [--raw FILE]

A plain `neardup serve` (nothing patched) on N clustered hashes (scripts/bench/service.py's
data dir, reused from --data-cache), one warm-up AddStream of the typical 1024 px JPEGs
from ../shared/bench, then py-spy samples the process and its hashing workers while a
second stream runs. Twice: hashing on the pool's threads (hash_processes=0), and in the
default number of worker processes (service/hashing.py). Each
sample of a running thread is charged to the thread's role (the event loop, the pool's
threads, the store's writer, the index's background threads) and to the first part of the
add it is in, read from its stack (`PARTS`, the innermost match wins). Prints, per add:
CPU ms by role and by part, the server's CPU per add (from /proc, not from the samples),
and decoding and hashing alone on one thread of this process, as the default collection's
add hashes (orientations and crops, and the file's digest).

--raw keeps py-spy's collapsed stacks (one line per stack: frames and sample count), for
`flamegraph.pl` or speedscope: FILE.0.txt and FILE.<processes>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from neardup.service.config import ServerConfig

from scripts.bench.common import clustered_codes, prepare_data_dir, published, start_server
from scripts.bench.corpus import DEFAULT_SHARED, load_sets
from scripts.bench.profile_add_stream import WARM_UP_SECONDS, machine_ticks, stream, thread_ticks

NEARDUP = [str(Path(sys.executable).with_name("neardup"))]

# The parts of an add, each named by a frame its samples carry (a function, or a module by
# its path as py-spy prints it, relative to the package): the innermost frame that names
# one decides. Order only breaks ties within one frame.
PARTS = (
    ("decode and hash", ("(index/fingerprint/", "(PIL/", "pillow_heif")),
    ("duplicate search (code index)", ("(index/hamming/",)),
    ("duplicate search (store lookup)", ("(index/duplicates.py", "(index/matches.py")),
    ("writer: SQL of the add", ("(index/store/queries.py", "submit_add.<locals>.op")),
    ("writer: group and savepoints", ("(index/store/",)),
    ("add: validation and query", ("(index/",)),
    ("hashing pipe: pickling and copies", ("(service/hashing.py", "(multiprocessing/")),
    ("servicer: messages", ("(service/messages.py", "(service/servicer.py")),
    ("admission and metrics", ("(service/admission.py", "(service/metrics.py")),
    ("gRPC and protobuf", ("grpc/", "google/protobuf")),
    ("asyncio and thread hand-over", ("(asyncio/", "(concurrent/futures", "(threading.py")),
)


def _commit_frame() -> str:
    """The frame py-spy prints for the store writer's COMMIT (its line read from the
    source, so that an edit above it does not move the mark)."""
    import inspect

    from neardup.index.store.database import Store

    lines, first = inspect.getsourcelines(Store._commit)
    line = first + next(i for i, text in enumerate(lines) if 'execute("COMMIT")' in text)
    return f"Store._commit (index/store/database.py:{line})"


# Samples of a thread that waits rather than runs, by the innermost frame: py-spy's
# sampling without pausing the process (--nonblocking) does not tell every wait apart. The
# COMMIT waits on the disk (fsync); a hashing pipe's reads and writes wait for the other
# process (a worker's answer, the server's next job, an image larger than the pipe's
# buffer). None of these count as CPU.
WAITS = (
    ("waiting: the event loop's epoll", ("EpollSelector.select",)),
    ("waiting: a queue or a lock", ("Condition.wait", "Event.wait", "Queue.get", "lock.acquire")),
    ("waiting: the store's COMMIT (fsync)", (_commit_frame(),)),
    ("waiting: the other end of a hashing pipe", ("Connection._recv (", "Connection._send (")),
    ("waiting: a free hashing worker", ("Hashing.run (",)),  # its queue's get, in C
)


def role_of(thread: str, frames: list[str]) -> str:
    """A thread's role from the name py-spy prints (`thread (123): name`) and its stack."""
    name = thread.split("): ", 1)[-1].strip()
    if any("_serve_jobs (service/hashing.py" in frame for frame in frames):
        return "hashing worker processes"
    if name == "MainThread":
        return "event loop"
    if name.startswith(("neardup-work", "ThreadPoolExecutor", "asyncio_")):
        return "pool threads"
    if name == "store-writer":
        return "store writer"
    if name.startswith("hamming"):
        return "index background"
    return "other threads"


def part_of(frames: list[str]) -> str:
    """The part of an add a stack is in (or the wait it is in): the innermost frame that
    names one."""
    if frames:
        for wait, marks in WAITS:
            if any(mark in frames[-1] for mark in marks):
                return wait
    for frame in reversed(frames):
        for part, marks in PARTS:
            if any(mark in frame for mark in marks):
                return part
    return "other"


def parse_collapsed(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """Running samples by thread role, and samples by part (waits apart), from py-spy's
    collapsed stacks with --threads."""
    roles: dict[str, int] = defaultdict(int)
    parts: dict[str, int] = defaultdict(int)
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        thread, *frames = stack.split(";")
        if thread.startswith("process "):  # --subprocesses: the process comes first
            thread, *frames = frames
        part = part_of(frames)
        parts[part] += int(count)
        if not part.startswith("waiting"):
            roles[role_of(thread, frames)] += int(count)
    return roles, parts


def process_ticks(pid: int) -> dict[int, int]:
    """CPU clock ticks so far of the server's threads and of its children's (the hashing
    workers), by thread id."""
    ticks = thread_ticks(pid)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:  # its parent is the server
                ticks.update(thread_ticks(int(stat.parent.name)))
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
    return ticks


def hash_alone_ms(jpegs: list[bytes]) -> float:
    """CPU ms per image of decoding and hashing as the default collection's add does."""
    from neardup.index import hash_image

    started = time.thread_time()
    for jpeg in jpegs * 3:
        hash_image(jpeg, "phash", orientations=True, crops=True)
    return (time.thread_time() - started) / (3 * len(jpegs)) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples a second")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--data-cache", type=Path)
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    args = parser.parse_args()
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        print("py-spy is not installed: make venv (it is a dev dependency)", file=sys.stderr)
        return 2
    originals = args.shared / "bench" / "originals"
    if not originals.is_dir():
        print(f"no corpus at {originals}", file=sys.stderr)
        return 2
    import numpy as np

    jpegs = load_sets(originals)["1024px"]
    hashing = hash_alone_ms(jpegs)
    codes = clustered_codes(args.n, np.random.default_rng(20261125))
    print(
        f"decode and hash alone, one thread here (anchor): {hashing:.2f} ms CPU per image, "
        "as the default collection's add hashes"
    )
    for processes in (0, ServerConfig().hash_processes):
        with tempfile.TemporaryDirectory(dir=".") as folder:
            data = Path(folder) / "data"
            prepare_data_dir(data, codes, args.data_cache)
            raw = args.raw.with_suffix(f".{processes}.txt") if args.raw else Path(folder) / "raw"
            env = {"NEARDUP_HASH_PROCESSES": str(processes)}
            measured = profile_stream(args, spy, data, env, jpegs, raw)
        if measured is None:
            return 1
        where = f"{processes} hashing processes" if processes else "hashing on the pool's threads"
        print_profile(f"hash_processes={processes} ({where})", measured, hashing, args)
    return 0


@dataclass
class Profile:
    added: int
    wall: float
    cpu_s: float  # the server's and its workers' CPU over the stream (/proc)
    idle: float  # the machine's idle share meanwhile
    roles: dict[str, int]
    parts: dict[str, int]


def profile_stream(
    args: argparse.Namespace,
    spy: str,
    data: Path,
    env: dict[str, str],
    jpegs: list[bytes],
    raw: Path,
) -> Profile | None:
    """One server, a warm-up stream, then the measured stream under py-spy."""
    serve, target = start_server(NEARDUP, data, env)
    try:
        asyncio.run(stream(target, jpegs, WARM_UP_SECONDS, "warm"))
        record = ["record", "--pid", str(serve.pid), "--threads", "--subprocesses"]
        record += ["--rate", str(args.rate), "--format", "raw", "--output", str(raw)]
        spying = subprocess.Popen(
            [spy, *record, "--nonblocking"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.0)  # py-spy attached
        ticks0, (idle0, total0) = process_ticks(serve.pid), machine_ticks()
        wall = time.perf_counter()
        added = asyncio.run(stream(target, jpegs, args.seconds, "measured"))
        wall = time.perf_counter() - wall
        ticks1, (idle1, total1) = process_ticks(serve.pid), machine_ticks()
        spying.send_signal(signal.SIGINT)
        _, spy_errors = spying.communicate(timeout=60)
    finally:
        serve.terminate()
        serve.wait(120)
    if not raw.exists():
        print(f"py-spy wrote no profile: {spy_errors.strip()[-300:]}", file=sys.stderr)
        return None
    roles, parts = parse_collapsed(raw.read_text())
    hz = os.sysconf("SC_CLK_TCK")
    cpu_s = sum(t - ticks0.get(tid, 0) for tid, t in ticks1.items()) / hz
    idle = (idle1 - idle0) / max(total1 - total0, 1)
    return Profile(added, wall, cpu_s, idle, roles, parts)


def print_profile(label: str, got: Profile, hashing: float, args: argparse.Namespace) -> None:
    per_add = got.cpu_s / got.added * 1e3
    sampled = sum(got.roles.values())  # running samples: waits left out
    # the running samples spread the measured CPU (from /proc) over roles and parts
    scale = per_add / sampled if sampled else 0.0
    print(
        f"\n{label}: AddStream into {args.n:,} stored, {got.added / got.wall:,.0f} images/s "
        f"over {got.wall:.1f} s"
    )
    print(
        f"  server CPU per add, its hashing workers' included: {per_add:.2f} ms (/proc), "
        f"{per_add / hashing:.2f}x decoding and hashing alone (bound 1.3x); machine idle "
        f"{got.idle:.0%}; py-spy samples of running threads: {sampled:,} at {args.rate}/s"
    )
    print("  CPU per add by thread role (ms):")
    for role, count in sorted(got.roles.items(), key=lambda kv: -kv[1]):
        print(f"    {role:<38} {count * scale:6.3f}  ({count / sampled:.0%})")
    print("  CPU per add by part of the add (ms):")
    running = {k: v for k, v in got.parts.items() if not k.startswith("waiting")}
    for part, count in sorted(running.items(), key=lambda kv: -kv[1]):
        print(f"    {part:<38} {count * scale:6.3f}  ({count / sampled:.0%})")
    print("  samples in waits (not CPU), per add at the same scale (ms):")
    for part, count in sorted(got.parts.items(), key=lambda kv: -kv[1]):
        if part.startswith("waiting"):
            print(f"    {part:<38} {count * scale:6.3f}")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Where a server's CPU goes under AddStream",
            "decoding and hashing alone on the same images, one thread",
            main,
        )
    )
