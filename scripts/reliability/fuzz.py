"""Fuzzing with atheris (libFuzzer, coverage-guided): the decoder and the RPC surface.

    python -m scripts.reliability.fuzz --target decode --minutes 10
    python -m scripts.reliability.fuzz --target rpc --minutes 10
    python -m scripts.reliability.fuzz --target decode --runs 300   # a smoke run, as tests do

decode: `hash_image` (decode + every algorithm's fingerprint) over arbitrary bytes, seeded
    with the test images, their truncations and bit flips. A finding: any error but the
    engine's InvalidImage / ImageTooLarge.
rpc: a real server on 127.0.0.1 (port 0) in this process, so that its code's coverage guides
    the fuzzer; each input becomes one valid `neardup.v1` request with hostile field values
    (scripts/reliability/hostile_messages.py) to one method. A finding: a status of UNKNOWN,
    INTERNAL or DATA_LOSS, or a call that misses its deadline (a hang).
Both: a crash, a call slower than --hang-seconds or memory past --rss-mb stops libFuzzer
with its artifact in the findings folder. Python-level findings are written there too
(`<target>-<sha1>.bin`; for rpc the method name, a newline, then the serialised request)
and the run goes on. Prints executions, exec/s and findings; exits 1 if any.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scripts import ROOT, module_command

SEED_IMAGES = ROOT / "tests" / "fixtures" / "images"
SEED_MAX_BYTES = 128 * 1024
FINDINGS = ROOT / "scripts" / "fuzz-findings"


def seed_corpus(folder: Path, rng: random.Random) -> int:
    """Writes the seeds (small test images, their truncations, bit flips); the longest."""
    folder.mkdir(parents=True, exist_ok=True)
    longest = 0
    for path in sorted(SEED_IMAGES.iterdir()):
        data = path.read_bytes()
        if len(data) > SEED_MAX_BYTES:
            continue
        flipped = bytearray(data)
        for _ in range(8):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        variants = {"": data, "half": data[: len(data) // 2], "head": data[:64], "flip": flipped}
        for name, variant in variants.items():
            (folder / f"{path.stem}.{name or 'whole'}").write_bytes(bytes(variant))
        longest = max(longest, len(data))
    return longest


def run(args: argparse.Namespace) -> int:
    """Runs the worker under libFuzzer, then prints what it did and found."""
    findings = args.findings / args.target
    findings.mkdir(parents=True, exist_ok=True)
    before = set(findings.iterdir())
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "corpus"
        longest = seed_corpus(corpus, random.Random(1))
        limits = [f"-max_total_time={int(args.minutes * 60)}"] if args.minutes else []
        limits += [f"-runs={args.runs}"] if args.runs else []
        command = [
            *module_command(__spec__.name),
            "--worker",
            args.target,
            "--findings",
            str(args.findings),
            str(corpus),
            *limits,
            f"-max_len={longest}",
            f"-timeout={args.hang_seconds}",
            f"-rss_limit_mb={args.rss_mb}",
            f"-artifact_prefix={findings}/",
            "-print_final_stats=1",
        ]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.monotonic() - started
    log = done.stderr
    (findings.parent / f"{args.target}.log").write_text(log)
    executed = _stat(log, "number_of_executed_units")
    new = sorted(set(findings.iterdir()) - before)
    print(
        f"fuzz {args.target}: {executed} executions in {seconds:.0f} s "
        f"({executed / seconds:.0f}/s), exit {done.returncode}, "
        f"{len(new)} new findings in {findings}"
    )
    for path in new:
        print(f"  {path.name}")
    if done.returncode not in (0,) and not new:
        print(log[-3000:], file=sys.stderr)
    return 1 if new or done.returncode else 0


def _stat(log: str, name: str) -> int:
    found = re.search(rf"stat::{name}:\s*(\d+)", log)
    return int(found.group(1)) if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("decode", "rpc"), required=False)
    parser.add_argument("--minutes", type=float, default=0)
    parser.add_argument("--runs", type=int, default=0)
    parser.add_argument("--hang-seconds", type=int, default=20)
    parser.add_argument("--rss-mb", type=int, default=3072)
    parser.add_argument("--findings", type=Path, default=FINDINGS)
    parser.add_argument("--worker", choices=("decode", "rpc"), help=argparse.SUPPRESS)
    args, libfuzzer = parser.parse_known_args()
    if args.worker:
        from scripts.reliability.fuzz_targets import fuzz

        return fuzz(args.worker, args.findings, [sys.argv[0], *libfuzzer])
    if not args.target or not (args.minutes or args.runs):
        parser.error("--target and one of --minutes, --runs are required")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
