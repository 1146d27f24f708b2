"""Writes (or checks) tests/fixtures/phash_pinned.csv: the exact `phash`, `phash-2` and
`phash-1` hash of every fixture image, as this build computes them.

Stored data depends on these bits: a collection of `phash` hashes is only comparable with
new hashes while the algorithm gives the same bits for the same file. The test
tests/index/fingerprint/test_phash_pinned.py fails when any of them moves; rewrite the file
(`--write`) only together with a deliberate, versioned change of the algorithm. History:
the border trim moved no fixture's `phash` (none has a uniform border; a silhouette on a
plain ground is not one); the bits before it live on as `phash-1`, whose column must never
move, and tests/index/fingerprint/test_borders.py holds the bordered cases. The pair rule
(borders come off in opposite pairs) moved none either; the side-by-side rule before it lives
on as `phash-2`.

    python -m scripts.tools.pin_phash          # check, exit 1 on a difference
    python -m scripts.tools.pin_phash --write  # rewrite the pinned values
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from neardup.index.fingerprint import hash_image

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
PINNED = FIXTURES / "phash_pinned.csv"


ALGORITHMS = ("phash-1", "phash-2", "phash")


def current() -> dict[tuple[str, str], str]:
    """(file name, algorithm) -> its hex, for every fixture image and pinned algorithm."""
    return {
        (path.name, algorithm): hash_image(path.read_bytes(), algorithm).fingerprint.hex
        for path in sorted((FIXTURES / "images").iterdir())
        for algorithm in ALGORITHMS
    }


def pinned() -> dict[tuple[str, str], str]:
    """The pinned values."""
    with PINNED.open(newline="") as f:
        return {
            (row["file"], algorithm): row[algorithm]
            for row in csv.DictReader(f)
            for algorithm in ALGORITHMS
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the pinned values")
    args = parser.parse_args()
    values = current()
    if args.write:
        with PINNED.open("w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["file", *ALGORITHMS])
            names = sorted({name for name, _ in values})
            writer.writerows([name, *(values[name, a] for a in ALGORITHMS)] for name in names)
        print(f"wrote {len(values)} pinned hashes to {PINNED}")
        return 0
    moved = {
        name: (old, values.get(name)) for name, old in pinned().items() if values.get(name) != old
    }
    for (name, algorithm), (old, new) in sorted(moved.items()):
        print(f"{name} {algorithm}: pinned {old}, now {new}")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
