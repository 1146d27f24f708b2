"""Matching quality: near-duplicate recall per edit, and false matches among distinct images,
for each neardup algorithm with ImageHash 4.3.2's `phash` computed in the same run.

The corpus is a folder with a `manifest.csv` (columns path, original, transform: one row per
file, `none` for the originals; default ../shared/bench). Each variant is compared with its
original: plain (the variant's hash) and with orientations (the nearest of the variant's 8
orientation hashes, as a Search with orientations does). Distinct images are the corpus's
originals plus any `--distinct` folders (every image file under them, one per file name and
content): every pair of them within r bits is a false match. ImageHash has no orientations,
so its oriented figures are its plain ones.

`--min-quality Q` applies a collection's quality floor the way the engine does: an image
whose hash scores below Q (`neardup.index.fingerprint.quality`) matches only the same file
(distance 0 and the same content digest; every variant and every distinct image here is
another file, so none).
`--controls N` adds N synthetic blank pictures (solid colours, faint gradients, small sprites)
to the distinct images: the pictures a quality floor is for. The recommended radius, for
the default collection (`phash` with crop hashes) and for `phash` alone, is the widest r of
the grid that keeps every two distinct originals of the corpus apart and has no more false
pairs than ImageHash's at the same r; the default's figures are then checked against what a
default must show (mean recall with orientations, crop15, border05, every edit at least
ImageHash's, false pairs at most ImageHash's at r=10).

    python -m scripts.bench.quality [--corpus ../shared/bench] [--distinct DIR ...]
        [--controls N] [--min-quality Q] [--workers N]
"""

from __future__ import annotations

import argparse
import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import imagehash
import numpy as np
from neardup.index import bounds, hash_image
from neardup.index.errors import NeardupError
from PIL import Image

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED, corpus_files

ALGORITHMS = ("phash", "phash-2", "phash-1", "imagehash-4", "phash-c")
ANCHOR = "ImageHash"
# `phash` in a collection with `crop_hashes`: each image stored and queried under its plain
# hash and its centre crops' hashes; a pair's distance is the nearest of the two sets.
WITH_CROPS = "phash+crop_hashes"
RADII = (4, 6, 8, 10, 12)


@dataclass(frozen=True, slots=True)
class Hashed:
    """One file's hashes, per algorithm: the codes a collection stores for it (the plain
    hash; with crop hashes also its centre crops'), the codes a search with orientations
    sends (8 orientations of each), and the quality score."""

    plain: dict[str, tuple[int, ...]]
    oriented: dict[str, tuple[int, ...]]
    quality: dict[str, int]
    digest: bytes = b""


def hash_file(path: Path) -> Hashed | None:
    """Every algorithm's hashes of one file, and ImageHash's; None when it does not decode."""
    data = path.read_bytes()
    plain, oriented, quality = {}, {}, {}
    try:
        for name in ALGORITHMS:
            hashes = hash_image(data, name, orientations=True)
            plain[name] = (hashes.fingerprint.value,)
            oriented[name] = tuple(f.value for f in hashes.orientations)
            quality[name] = hashes.quality
        hashes = hash_image(data, "phash", orientations=True, crops=True)
        plain[WITH_CROPS] = tuple(f.value for f in (hashes.fingerprint, *hashes.crop_fingerprints))
        oriented[WITH_CROPS] = tuple(
            f.value for f in (*hashes.orientations, *(h for crop in hashes.crops for h in crop))
        )
        quality[WITH_CROPS] = hashes.quality
    except NeardupError:
        return None
    with Image.open(path) as image:
        anchor = int(str(imagehash.phash(image)), 16)
    plain[ANCHOR], oriented[ANCHOR], quality[ANCHOR] = (anchor,), (anchor,), 100
    return Hashed(plain, oriented, quality, hashes.digest)


def popcount_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between every code of a (rows) and of b (columns)."""
    return np.bitwise_count(a[:, None] ^ b[None, :]).astype(np.int16)


def floor_applies(
    distance: np.ndarray,
    quality_a: np.ndarray,
    quality_b: np.ndarray,
    min_quality: int,
    same_file: np.ndarray,
) -> np.ndarray:
    """The distances as the engine sees them: a pair with a hash below the quality floor
    matches only as the same file (distance 0, equal content digests); the others are set
    out of reach."""
    low = (quality_a < min_quality) | (quality_b < min_quality)
    return np.where(low & ~((distance == 0) & same_file), 64, distance)


def searched_codes(
    hashed: Hashed, algorithm: str, min_quality: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The codes stored for an image and the codes a search with orientations sends, as the
    engine has them: an image below the quality floor gets no crop codes (a blank picture's
    crops are as noisy as its hash). Crop codes are replaced by the plain ones, which keeps
    every image's tuples one length."""
    stored, queries = hashed.plain[algorithm], hashed.oriented[algorithm]
    if len(stored) > 1 and hashed.quality[algorithm] < min_quality:
        stored = (stored[0],) * len(stored)
        queries = queries[: len(queries) // len(stored)] * len(stored)
    return stored, queries


def variant_distances(
    rows: list[dict[str, str]], hashed: dict[str, Hashed], algorithm: str, min_quality: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per edit: each variant's distance to its original, plain and with orientations."""
    per_edit: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        variant, original = hashed.get(row["path"]), hashed.get(row["original"])
        if row["transform"] == "none" or variant is None or original is None:
            continue
        stored, _ = searched_codes(original, algorithm, min_quality)
        sent, oriented_sent = searched_codes(variant, algorithm, min_quality)
        plain = min((h ^ s).bit_count() for h in sent for s in stored)
        oriented = min((h ^ s).bit_count() for h in oriented_sent for s in stored)
        low = min(variant.quality[algorithm], original.quality[algorithm]) < min_quality
        if low and variant.digest != original.digest:  # below the floor: the same file only
            plain = oriented = 64
        per_edit[row["transform"]].append((plain, oriented))
    return {
        edit: (np.array([p for p, _ in pairs]), np.array([o for _, o in pairs]))
        for edit, pairs in sorted(per_edit.items())
    }


def distinct_distances(
    files: list[Hashed], algorithm: str, min_quality: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distances of every unordered pair of distinct images: plain (the nearest of their
    stored codes), and with orientations (the nearest query code of either image to the
    other's stored codes)."""
    codes = [searched_codes(f, algorithm, min_quality) for f in files]
    stored = np.array([c[0] for c in codes], dtype=np.uint64)
    queries = np.array([c[1] for c in codes], dtype=np.uint64)
    quality = np.array([f.quality[algorithm] for f in files])
    upper = np.triu_indices(len(files), k=1)
    plain_d = np.full((len(files), len(files)), 64, dtype=np.int16)
    for i in range(stored.shape[1]):
        for j in range(stored.shape[1]):
            plain_d = np.minimum(plain_d, popcount_matrix(stored[:, i], stored[:, j]))
    oriented_d = plain_d.copy()
    for o in range(queries.shape[1]):
        for j in range(stored.shape[1]):
            d = popcount_matrix(queries[:, o], stored[:, j])
            oriented_d = np.minimum(oriented_d, np.minimum(d, d.T))
    qa, qb = quality[upper[0]], quality[upper[1]]
    _, file_ids = np.unique(np.array([f.digest for f in files], dtype=object), return_inverse=True)
    same = file_ids[upper[0]] == file_ids[upper[1]]
    return (
        floor_applies(plain_d[upper], qa, qb, min_quality, same),
        floor_applies(oriented_d[upper], qa, qb, min_quality, same),
    )


def share_within(distances: np.ndarray, radius: int) -> float:
    return float((distances <= radius).mean()) if len(distances) else float("nan")


def print_recall(algorithm: str, per_edit: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """One algorithm's per-edit table: share within r, plain / with orientations."""
    print(f"\n## {algorithm}: share of variants within r of their original (plain/oriented)\n")
    print("| edit | n | " + " | ".join(f"r={r}" for r in RADII) + " |")
    print("|" + "---|" * (2 + len(RADII)))
    for edit, (plain, oriented) in per_edit.items():
        cells = [f"{share_within(plain, r):.2f}/{share_within(oriented, r):.2f}" for r in RADII]
        print(f"| {edit} | {len(plain)} | " + " | ".join(cells) + " |")
    cells = [
        f"{mean_recall(per_edit, r, False):.3f}/{mean_recall(per_edit, r, True):.3f}" for r in RADII
    ]
    print("| **mean** | | " + " | ".join(cells) + " |")


def mean_recall(
    per_edit: dict[str, tuple[np.ndarray, np.ndarray]], r: int, oriented: bool
) -> float:
    """Mean over the edits of the share within r (each edit weighs the same)."""
    return float(np.mean([share_within(pair[oriented], r) for pair in per_edit.values()]))


def print_false_pairs(
    per_algorithm: dict[str, tuple[np.ndarray, np.ndarray]], sets: dict[str, int]
) -> None:
    """Pairs of distinct images within r, plain / with orientations, and at distance 0 (the
    pairs a quality floor alone lets through as exact matches)."""
    pairs = len(next(iter(per_algorithm.values()))[0])
    described = ", ".join(f"{name}: {count}" for name, count in sets.items())
    print(f"\n## False matches: pairs of distinct images within r ({pairs} pairs; {described})\n")
    print("| algorithm | r=0 | " + " | ".join(f"r={r}" for r in RADII) + " |")
    print("|" + "---|" * (2 + len(RADII)))
    for name, (plain, oriented) in per_algorithm.items():
        cells = [f"{int((plain <= r).sum())}/{int((oriented <= r).sum())}" for r in (0, *RADII)]
        print(f"| {name} | " + " | ".join(cells) + " |")


def recommend(
    ours: dict[str, tuple[np.ndarray, np.ndarray]],
    anchor: dict[str, tuple[np.ndarray, np.ndarray]],
    false_ours: np.ndarray,
    false_anchor: np.ndarray,
    closest_originals: int,
) -> int:
    """Prints the curve over r and returns the widest radius of the grid that keeps every
    two distinct originals of the corpus apart and has no more false pairs (with
    orientations) than ImageHash's at that radius."""
    print("\n## The curve over r: phash with orientations beside ImageHash\n")
    print("| r | mean recall | ImageHash mean recall | false pairs | ImageHash false pairs |")
    print("|---|---|---|---|---|")
    best = RADII[0]
    for r in range(0, 17):
        mine, theirs = int((false_ours <= r).sum()), int((false_anchor <= r).sum())
        print(
            f"| {r} | {mean_recall(ours, r, True):.3f} | {mean_recall(anchor, r, False):.3f}"
            f" | {mine} | {theirs} |"
        )
        if r in RADII and r < closest_originals and mine <= theirs:
            best = r
    return best


def check_default(
    ours: dict[str, tuple[np.ndarray, np.ndarray]],
    anchor: dict[str, tuple[np.ndarray, np.ndarray]],
    false_ours: np.ndarray,
    false_anchor: np.ndarray,
    radius: int,
) -> None:
    """Prints what the default collection shows at its radius (`bounds.DEFAULT_CROP_RADIUS`)
    against what a default must: mean recall with orientations >= 0.97, crop15 >= 0.90,
    border05 >= 0.95, every edit at least ImageHash's at r=10, false pairs at most
    ImageHash's at r=10."""
    default = bounds.DEFAULT_CROP_RADIUS
    print(f"\nrecommended radius with crop hashes: {radius}; the default is {default}\n")
    checks = [
        ("mean recall, with orientations", mean_recall(ours, default, True), ">=", 0.97),
    ]
    for edit, floor in (("crop15", 0.90), ("border05", 0.95)):
        if edit in ours:
            checks.append((f"{edit} recall", share_within(ours[edit][1], default), ">=", floor))
    for edit, (_, oriented) in ours.items():
        theirs = share_within(anchor[edit][0], 10)
        checks.append(
            (f"{edit} recall vs ImageHash r=10", share_within(oriented, default), ">=", theirs)
        )
    checks.append(
        (
            "false pairs vs ImageHash's at r=10",
            float((false_ours <= default).sum()),
            "<=",
            float((false_anchor <= 10).sum()),
        )
    )
    print(f"| at r={default} | ours | bound | |")
    print("|---|---|---|---|")
    for name, value, sense, bound in checks:
        met = value >= bound if sense == ">=" else value <= bound
        print(f"| {name} | {value:.3f} | {sense} {bound:.3f} | {'met' if met else 'NOT met'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_SHARED / "bench")
    parser.add_argument("--distinct", type=Path, action="append", default=[])
    parser.add_argument("--min-quality", type=int, default=0)
    parser.add_argument(
        "--controls",
        type=int,
        default=0,
        help="add this many synthetic blank pictures (solid colours, faint gradients, small "
        "sprites on flat grounds, JPEG-encoded) to the distinct images: the quality floor's case",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    rows, extra = corpus_files(args.corpus, args.distinct, args.controls)
    paths = [args.corpus / row["path"] for row in rows] + extra
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(hash_file, paths, chunksize=16))
    hashed = {row["path"]: h for row, h in zip(rows, results, strict=False) if h is not None}
    extra_hashed = [h for h in results[len(rows) :] if h is not None]
    originals = [
        hashed[r["path"]] for r in rows if r["transform"] == "none" and r["path"] in hashed
    ]
    failed = sum(h is None for h in results)
    print(f"{len(rows)} corpus files, {len(extra)} distinct extra files, {failed} did not decode;")
    print(f"min_quality {args.min_quality}")
    names = (*ALGORITHMS, WITH_CROPS, ANCHOR)
    recall = {a: variant_distances(rows, hashed, a, args.min_quality) for a in names}
    for name, per_edit in recall.items():
        print_recall(name, per_edit)
    distinct = originals + extra_hashed
    false = {a: distinct_distances(distinct, a, args.min_quality) for a in names}
    print_false_pairs(false, {"corpus originals": len(originals), "extra": len(extra_hashed)})
    for name in ("phash", WITH_CROPS):
        plain_only, oriented_only = distinct_distances(originals, name, args.min_quality)
        print(
            f"\nclosest two distinct originals of the corpus ({name}): "
            f"{int(plain_only.min())} plain, {int(oriented_only.min())} with orientations"
        )
    plain_only, oriented_only = distinct_distances(originals, "phash", args.min_quality)
    closest = int(oriented_only.min())
    radius = recommend(
        recall["phash"], recall[ANCHOR], false["phash"][1], false[ANCHOR][0], closest
    )
    plain_radius = max(
        (
            r
            for r in RADII
            if r < int(plain_only.min())
            and (false["phash"][0] <= r).sum() <= (false[ANCHOR][0] <= r).sum()
        ),
        default=RADII[0],
    )
    print(f"\nrecommended default radius: {plain_radius} plain, {radius} with orientations")
    _, cropped_closest = distinct_distances(originals, WITH_CROPS, args.min_quality)
    print("\n## The default collection (phash with crop hashes) beside ImageHash\n")
    default_radius = recommend(
        recall[WITH_CROPS],
        recall[ANCHOR],
        false[WITH_CROPS][1],
        false[ANCHOR][0],
        int(cropped_closest.min()),
    )
    check_default(
        recall[WITH_CROPS], recall[ANCHOR], false[WITH_CROPS][1], false[ANCHOR][0], default_radius
    )


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Matching quality",
            "ImageHash 4.3.2's `phash` on the same images",
            main,
        )
    )
