"""Where a server's CPU goes under AddStream: a sampling profile of the whole `neardup serve`
process (py-spy, every thread, native frames off), beside decoding and hashing alone (the
anchor), in one run.

    python -m scripts.bench.server_profile [--n 1000000] [--seconds 15] [--rate 200]
                                           [--data-cache DIR] [--raw FILE]

A plain `neardup serve` (nothing patched) on N clustered hashes (scripts/bench/service.py's
data dir, reused from --data-cache), one warm-up AddStream of the typical 1024 px JPEGs
from ../shared/bench, then py-spy samples the process while a second stream runs. Each
sample of a running thread is charged to the thread's role (the event loop, the pool's
threads, the store's writer, the index's background threads) and to the first part of the
add it is in, read from its stack (`PARTS`, the innermost match wins). Prints, per add:
CPU ms by role and by part, the server's CPU per add (from /proc, not from the samples),
and decoding and hashing alone on one thread of this process, as the default collection's
add hashes (orientations and crops, and the file's digest).

--raw keeps py-spy's collapsed stacks (one line per stack: frames and sample count), for
`flamegraph.pl` or speedscope.
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
from pathlib import Path

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
    ("servicer: messages", ("(service/messages.py", "(service/servicer.py")),
    ("admission and metrics", ("(service/admission.py", "(service/metrics.py")),
    ("gRPC and protobuf", ("grpc/", "google/protobuf")),
    ("asyncio and thread hand-over", ("(asyncio/", "(concurrent/futures", "(threading.py")),
)
# Samples of a thread that waits rather than runs, by the innermost frame: py-spy's
# sampling without pausing the process (--nonblocking) does not tell every wait apart. The
# COMMIT waits on the disk (fsync). None of these count as CPU.
WAITS = (
    ("waiting: the event loop's epoll", ("EpollSelector.select",)),
    ("waiting: a queue or a lock", ("Condition.wait", "Event.wait", "Queue.get", "lock.acquire")),
    ("waiting: the store's COMMIT (fsync)", ("Store._commit (index/store/database.py:396)",)),
)


def role_of(thread: str) -> str:
    """A thread's role from the name py-spy prints (`thread (123): name`)."""
    name = thread.split("): ", 1)[-1].strip()
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
        part = part_of(frames)
        parts[part] += int(count)
        if not part.startswith("waiting"):
            roles[role_of(thread)] += int(count)
    return roles, parts


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
    with tempfile.TemporaryDirectory(dir=".") as folder:
        data = Path(folder) / "data"
        raw = args.raw or Path(folder) / "stacks.txt"
        prepare_data_dir(
            data, clustered_codes(args.n, np.random.default_rng(20261125)), args.data_cache
        )
        serve, target = start_server(NEARDUP, data)
        try:
            asyncio.run(stream(target, jpegs, WARM_UP_SECONDS, "warm"))
            record = ["record", "--pid", str(serve.pid), "--threads", "--rate", str(args.rate)]
            spying = subprocess.Popen(
                [spy, *record, "--format", "raw", "--output", str(raw), "--nonblocking"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            time.sleep(1.0)  # py-spy attached
            threads0, (idle0, total0) = thread_ticks(serve.pid), machine_ticks()
            wall = time.perf_counter()
            added = asyncio.run(stream(target, jpegs, args.seconds, "measured"))
            wall = time.perf_counter() - wall
            threads1, (idle1, total1) = thread_ticks(serve.pid), machine_ticks()
            spying.send_signal(signal.SIGINT)
            _, spy_errors = spying.communicate(timeout=60)
        finally:
            serve.terminate()
            serve.wait(120)
        if not raw.exists():
            print(f"py-spy wrote no profile: {spy_errors.strip()[-300:]}", file=sys.stderr)
            return 1
        roles, parts = parse_collapsed(raw.read_text())

    rate = added / wall
    hz = os.sysconf("SC_CLK_TCK")
    cpu_s = sum(t - threads0.get(tid, 0) for tid, t in threads1.items()) / hz
    per_add = cpu_s / added * 1e3
    sampled = sum(roles.values())  # running samples: waits left out
    # the running samples spread the measured CPU (from /proc) over roles and parts
    scale = per_add / sampled if sampled else 0.0
    print(f"AddStream into {args.n:,} stored: {rate:,.0f} images/s over {wall:.1f} s")
    print(
        f"  server CPU per add: {per_add:.2f} ms (/proc); decode and hash alone, one thread "
        f"here (anchor): {hashing:.2f} ms; ratio {per_add / hashing:.2f}x (bound 1.3x); "
        f"machine idle {(idle1 - idle0) / max(total1 - total0, 1):.0%}"
    )
    print(f"  py-spy samples of running threads: {sampled:,} at {args.rate}/s")
    print("  CPU per add by thread role (ms):")
    for role, count in sorted(roles.items(), key=lambda kv: -kv[1]):
        print(f"    {role:<38} {count * scale:6.3f}  ({count / sampled:.0%})")
    print("  CPU per add by part of the add (ms):")
    running = {k: v for k, v in parts.items() if not k.startswith("waiting")}
    for part, count in sorted(running.items(), key=lambda kv: -kv[1]):
        print(f"    {part:<38} {count * scale:6.3f}  ({count / sampled:.0%})")
    print("  samples in waits (not CPU), per add at the same scale (ms):")
    for part, count in sorted(parts.items(), key=lambda kv: -kv[1]):
        if part.startswith("waiting"):
            print(f"    {part:<38} {count * scale:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Where a server's CPU goes under AddStream",
            "decoding and hashing alone on the same images, one thread",
            main,
        )
    )
