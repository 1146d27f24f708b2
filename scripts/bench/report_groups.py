"""How the report groups a real library: recall and false merges of each grouping.

Every file of the bench corpus (`../shared/bench`: originals and their edited variants, the
manifest naming each variant's original) is hashed as `neardup build` hashes it (`phash`,
with the metadata the build records), then grouped by `neardup report`'s own function at
the collection's radius, with every exact edge found by a brute-force scan. For each
grouping, with and without orientations:
- recall: the share of (variant, original) pairs put in one group, overall and per edit;
- false merges: pairs of images of different originals put in one group, and the groups
  holding more than one original's images;
- the representative: the share of groups holding an original whose representative is it.
The anchor is connected components without orientations (the report's earlier default),
computed in the same run.

    python -m scripts.bench.report_groups [--shared ../shared] [--radius 10]
"""

from __future__ import annotations

import argparse
import csv
import os
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from neardup.service.cli.build_hashing import FileHash, hash_file
from neardup.service.cli.groups import GROUPINGS, Group, ReportImage, duplicate_groups
from neardup.service.cli.report import with_orientations

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED


def hashed(path: str) -> FileHash | None:
    outcome = hash_file(path, "phash", False)
    return outcome if isinstance(outcome, FileHash) else None


def brute_force_near(codes: np.ndarray, radius: int):  # type: ignore[no-untyped-def]
    """The exact radius search of these stored codes (a scan)."""
    stored = np.unique(codes)

    def near(batch):  # type: ignore[no-untyped-def]
        queries = np.array(batch, dtype=np.uint64)
        xor = np.bitwise_xor(queries[:, None], stored[None, :])
        distances = np.bitwise_count(xor)
        return [
            sorted(
                ((int(stored[j]), int(row[j])) for j in np.flatnonzero(row <= radius)),
                key=lambda cd: (cd[1], cd[0]),
            )
            for row in distances
        ]

    return near


def measure(
    groups: list[Group], source: dict[str, str], edit: dict[str, str]
) -> tuple[dict[str, float], int, int, float]:
    group_of = {image_id: n for n, g in enumerate(groups) for image_id in g.ids}
    found: dict[str, list[bool]] = defaultdict(list)
    for image_id, original in source.items():
        if image_id != original:
            together = image_id in group_of and group_of[image_id] == group_of.get(original)
            found[edit[image_id]].append(together)
    recall = {e: float(np.mean(v)) for e, v in sorted(found.items())}
    recall["all"] = float(np.mean([x for v in found.values() for x in v]))
    false_pairs, mixed, rep_hits, rep_groups = 0, 0, 0, 0
    for group in groups:
        by_source = Counter(source[i] for i in group.ids)
        pairs = len(group.ids) * (len(group.ids) - 1) // 2
        false_pairs += pairs - sum(n * (n - 1) // 2 for n in by_source.values())
        mixed += len(by_source) > 1
        originals = [i for i in group.ids if source[i] == i]
        if originals:
            rep_groups += 1
            rep_hits += group.representative.id in originals
    return recall, false_pairs, mixed, rep_hits / max(rep_groups, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--radius", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    bench = args.shared / "bench"
    with (bench / "manifest.csv").open() as f:
        rows = list(csv.DictReader(f))
    paths = [str(bench / r["path"]) for r in rows]
    with ProcessPoolExecutor(args.workers) as pool:
        hashes = list(pool.map(hashed, paths, chunksize=8))
    images, source, edit = [], {}, {}
    for row, outcome in zip(rows, hashes, strict=True):
        if outcome is None:
            continue
        images.append(
            ReportImage(row["path"], int(outcome.hex, 16), outcome.metadata, outcome.quality)
        )
        source[row["path"]] = row["original"]
        edit[row["path"]] = row["transform"]
    near = brute_force_near(np.array([i.code for i in images], dtype=np.uint64), args.radius)
    oriented = with_orientations(images)
    print(
        f"{len(images)} images ({sum(1 for i, s in source.items() if i == s)} originals), "
        f"radius {args.radius}, phash as neardup build hashes them; min_quality 5\n"
    )
    results = {}
    for grouping in GROUPINGS:
        for turned, pictures in ((False, images), (True, oriented)):
            groups = duplicate_groups(pictures, near, grouping, min_quality=5)
            results[(grouping, turned)] = measure(groups, source, edit)
    edits = [e for e in results[("components", False)][0] if e != "all"]
    print(
        "| grouping | orientations | recall | false pairs | mixed groups | rep. is the original |"
    )
    print("|---|---|---|---|---|---|")
    for (grouping, turned), (recall, false_pairs, mixed, rep) in results.items():
        anchor = " (anchor)" if (grouping, turned) == ("components", False) else ""
        print(
            f"| {grouping}{anchor} | {'yes' if turned else 'no'} | {recall['all']:.3f} | "
            f"{false_pairs} | {mixed} | {rep:.3f} |"
        )
    print("\nrecall per edit:\n")
    print("| edit | " + " | ".join(f"{g}{'+o' if t else ''}" for g, t in results) + " |")
    print("|---|" + "---|" * len(results))
    for e in edits:
        print(f"| {e} | " + " | ".join(f"{r[0][e]:.3f}" for r in results.values()) + " |")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "How the report groups a real library",
            "connected components without orientations (the earlier default), in the same run",
            main,
        )
    )
