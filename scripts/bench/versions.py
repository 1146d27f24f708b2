"""Two checkouts of neardup side by side: the same searches and adds through the public
`Engine`, interleaved round by round in one run, so that a change is judged against the
code before it on the same machine at the same moment.

    python -m scripts.bench.versions --before HEAD~1 [--after .] [--n 1000000] [--rounds 6]

Each side runs in its own process (a checkout's `index/`, `service/` and `proto/` folders
mapped onto the `neardup` namespace, as the wheel lays them out; a git revision is checked
out in a temporary worktree). Each loads the same --n codes (70% random, 30% near copies:
`common.clustered_codes`, one seed) into a fresh data dir with `add_batch` and waits until
its index has settled; then, round after round, the parent asks each side in turn (the
order alternating) for: radius-10 searches of --queries codes (half stored codes with 0-10
bits flipped, half random), exact-or-planned top-10 searches of the same codes, and
--adds durable single adds with their duplicate check. Prints each side's p50 per round and
overall, and after / before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from scripts import ROOT, module_command

OPERATIONS = ("radius 10", "top-10", "add")


# -- a side: one checkout's engine, answering the parent's requests -------------------------
def serve_requests(n: int, seed: int, kind: str) -> None:
    """The child: loads the codes, then answers one JSON request a line on stdin."""
    from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams

    from scripts.bench.common import clustered_codes, queries_for

    rng = np.random.default_rng(seed)
    codes = clustered_codes(n, rng)
    queries = [Fingerprint(q, "phash") for q in queries_for(codes, 2000, rng)]
    folder = tempfile.TemporaryDirectory(prefix="neardup-versions-")
    settings = EngineSettings(index=IndexParams(kind=kind), maintenance_interval_seconds=3600)
    engine = Engine(Path(folder.name) / "data", settings)
    started = time.perf_counter()
    for at in range(0, n, 100_000):
        chunk = codes[at : at + 100_000].tolist()
        engine.add_batch(
            "", [(f"i{at + i}", Fingerprint(c, "phash"), {}) for i, c in enumerate(chunk)]
        )
    # checkouts before the inspection API reached the index through Engine.index()
    inspect = getattr(engine, "inspect", None) or engine.index
    inspect("").settle()
    _reply({"loaded_seconds": time.perf_counter() - started})
    adds = 0
    for line in sys.stdin:
        request = json.loads(line)
        count, times, paths, near = request["count"], [], {}, []
        for i in range(count):
            # the first half of the queries are near stored codes, the second half random
            at = (request["round"] * count + i) % len(queries)
            query = queries[at]
            begun = time.perf_counter_ns()
            if request["operation"] in ("radius 10", "top-10"):
                options = {"radius": 10} if request["operation"] == "radius 10" else {"k": 10}
                path = engine.search("", [query], **options).path.name
                paths[path] = paths.get(path, 0) + 1
            else:
                adds += 1
                code = Fingerprint(int(rng.integers(0, 2**63)), "phash")
                engine.add("", f"added-{adds}", code)
            times.append((time.perf_counter_ns() - begun) / 1e6)
            near.append(at < len(queries) // 2)
        _reply({"ms": times, "paths": paths, "near": near})
    engine.close()
    folder.cleanup()


def _reply(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


# -- the parent: two sides, interleaved -----------------------------------------------------
class Side:
    """A checkout's child process."""

    def __init__(self, label: str, checkout: Path, tree: Path, args: argparse.Namespace) -> None:
        self.label, self.checkout = label, checkout
        for name, target in (
            ("index", checkout / "index"),
            ("service", checkout / "service"),
            ("v1", checkout / "proto" / "neardup" / "v1"),
        ):
            (tree / "neardup").mkdir(parents=True, exist_ok=True)
            (tree / "neardup" / name).symlink_to(target)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT)])}
        command = module_command(__spec__.name, "--child", str(args.n), str(args.seed), args.kind)
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=tree
        )

    def ask(self, request: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        if request is not None:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.label} side ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(120)


def checkout_of(revision: str, scratch: Path) -> Path:
    """The folder of a checkout: `.` (this one), a folder, or a git revision (a worktree)."""
    if revision == ".":
        return ROOT
    if Path(revision).is_dir():
        return Path(revision).resolve()
    folder = scratch / f"worktree-{revision.replace('/', '_')}"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(folder), revision],
        check=True,
        capture_output=True,
    )
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", required=True, help="a git revision or a checkout folder")
    parser.add_argument("--after", default=".", help="a git revision or folder (default: this)")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--adds", type=int, default=100)
    parser.add_argument("--kind", choices=("hnsw", "tables"), default="hnsw")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tolerance", type=float, default=0.10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neardup-versions-") as folder:
        scratch = Path(folder)
        checkouts = {
            "before": checkout_of(args.before, scratch),
            "after": checkout_of(args.after, scratch),
        }
        try:
            return compare(args, scratch, checkouts)
        finally:
            for checkout in checkouts.values():
                if checkout.is_relative_to(scratch):
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(checkout)],
                        check=False,
                        capture_output=True,
                    )


def compare(args: argparse.Namespace, scratch: Path, checkouts: dict[str, Path]) -> int:
    print(
        f"n={args.n:,} kind={args.kind} rounds={args.rounds} queries={args.queries} "
        f"adds={args.adds}"
    )
    for label, checkout in checkouts.items():
        revision = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = " (with uncommitted changes)" if checkout == ROOT and _dirty() else ""
        print(f"{label}: {checkout} at {revision}{dirty}")
    sides = []
    for label, checkout in checkouts.items():  # one at a time: each load has every core
        side = Side(label, checkout, scratch / f"tree-{label}", args)
        print(f"{label}: loaded and settled in {side.ask()['loaded_seconds']:.1f} s", flush=True)
        sides.append(side)
    times: dict[tuple[str, str], list[float]] = {}
    paths: dict[tuple[str, str], dict[str, int]] = {}
    try:
        for round_ in range(args.rounds):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for operation in OPERATIONS:
                count = args.adds if operation == "add" else args.queries
                for side in order:
                    answer = side.ask({"operation": operation, "count": count, "round": round_})
                    times.setdefault((side.label, operation), []).extend(answer["ms"])
                    for ms, is_near in zip(answer["ms"], answer.get("near", []), strict=False):
                        kind = "near" if is_near else "random"
                        times.setdefault((side.label, f"{operation}, {kind}"), []).append(ms)
                    counted = paths.setdefault((side.label, operation), {})
                    for path, n in answer.get("paths", {}).items():
                        counted[path] = counted.get(path, 0) + n
            line = "  ".join(
                f"{op} {statistics.median(times[(s.label, op)]):.3f}/"
                f"{statistics.median(times[(sides[1].label, op)]):.3f}"
                for op in OPERATIONS
                for s in sides[:1]
            )
            print(f"round {round_ + 1}: p50 ms before/after so far: {line}", flush=True)
    finally:
        for side in sides:
            side.close()
    print(
        f"\n{'operation':<20}{'before p50 ms':>15}{'after p50 ms':>15}{'after/before':>14}  "
        f"{'p99 before':>11}{'p99 after':>11}"
    )
    worst = 0.0
    # each kind of query apart too: near and random queries cost differently, and the
    # median of their mix can fall between the two
    kinds = [f"{op}, {kind}" for op in OPERATIONS[:2] for kind in ("near", "random")]
    for operation in [*OPERATIONS, *(k for k in kinds if ("before", k) in times)]:
        before, after = times[("before", operation)], times[("after", operation)]
        ratio = statistics.median(after) / statistics.median(before)
        worst = max(worst, ratio)
        print(
            f"{operation:<20}{statistics.median(before):>15.3f}{statistics.median(after):>15.3f}"
            f"{ratio:>13.2f}x  {np.percentile(before, 99):>11.3f}"
            f"{np.percentile(after, 99):>11.3f}"
        )
    print("\nwhich path answered (each side plans with the costs it measured at its start):")
    for (label, operation), counted in sorted(paths.items()):
        if counted:
            shares = ", ".join(f"{path} {n}" for path, n in sorted(counted.items()))
            print(f"  {label:<7}{operation:<12}{shares}")
    verdict = "within" if worst <= 1 + args.tolerance else "NOT within"
    print(f"\nworst after/before {worst:.2f}x: {verdict} {args.tolerance:.0%} of before")
    return 0


def _dirty() -> bool:
    status = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(status.stdout.strip())


if __name__ == "__main__":
    if "--child" in sys.argv:  # a side (the process the parent starts per checkout)
        n, seed, kind = sys.argv[2], sys.argv[3], sys.argv[4]
        serve_requests(int(n), int(seed), kind)
        raise SystemExit(0)
    from scripts.bench.common import published

    raise SystemExit(
        published(
            __spec__.name,
            "Two checkouts side by side",
            "the code before the change (--before), interleaved round by round in the same run",
            main,
        )
    )
