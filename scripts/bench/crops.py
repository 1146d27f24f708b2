"""Which centre crops a `crop_hashes` collection should index: recall of cropped copies
against false pairs and cost, before the feature is built.

A collection with crop hashes would store each image under its plain `phash` and the hashes
of a few centre crops (keeping a share of the width and height), and query with the same
set, so that a cropped upload finds its original and an original its stored crop; an image
matches at the smallest distance between any of its codes and any of the query's. This
measures candidate crop sets on the corpus (../shared/bench by default): per set, the share
of `crop05` / `crop15` variants within r=10 of their original, the same for every other
edit (the extra codes must not cost them), pairs of distinct images within r=10 (the
corpus's originals plus `--distinct` folders and `--controls` blank pictures, as
scripts/bench/quality.py makes them), codes per image (the index grows by that factor), and the
hashing time per image with the crops against without, in the same run.

    python -m scripts.bench.crops [--corpus ../shared/bench] [--distinct DIR ...] [--controls N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from neardup.index import hash_image
from neardup.index.errors import NeardupError
from PIL import Image, ImageOps

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED, corpus_files

KEEPS = (0.95, 0.9, 0.85, 0.8, 0.75)
SETS: tuple[tuple[float, ...], ...] = ((), (0.85,), (0.9, 0.8), (0.9, 0.85, 0.8), KEEPS)
RADIUS = 10


def centre_crop(data: bytes, keep: float) -> bytes:
    """The centre `keep` of the width and height, upright, as a PNG."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        width, height = upright.size
        left, top = round(width * (1 - keep) / 2), round(height * (1 - keep) / 2)
        cropped = upright.crop((left, top, width - left, height - top))
        out = io.BytesIO()
        cropped.save(out, "PNG")
        return out.getvalue()


def codes_of(path: Path) -> tuple[dict[float, int], float, float] | None:
    """The plain hash (key 1.0) and each centre crop's; seconds to hash plain, and with the
    crops (decoded once more per crop here; a built feature would crop the decoded pixels)."""
    data = path.read_bytes()
    try:
        started = time.perf_counter()
        codes = {1.0: hash_image(data).fingerprint.value}
        plain_s = time.perf_counter() - started
        for keep in KEEPS:
            codes[keep] = hash_image(centre_crop(data, keep)).fingerprint.value
        return codes, plain_s, time.perf_counter() - started
    except (NeardupError, OSError, ValueError):
        return None


def best(a: dict[float, int], b: dict[float, int], crops: tuple[float, ...]) -> int:
    """The smallest distance between the two images' code sets (plain + these crops)."""
    keys = (1.0, *crops)
    return min((a[i] ^ b[j]).bit_count() for i in keys for j in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_SHARED / "bench")
    parser.add_argument("--distinct", type=Path, action="append", default=[])
    parser.add_argument("--controls", type=int, default=0)
    args = parser.parse_args()
    rows, extra = corpus_files(args.corpus, args.distinct, args.controls)
    paths = [args.corpus / r["path"] for r in rows] + extra
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        results = list(pool.map(codes_of, paths, chunksize=16))
    coded = {r["path"]: res[0] for r, res in zip(rows, results, strict=False) if res}
    originals = [coded[r["path"]] for r in rows if r["transform"] == "none" and r["path"] in coded]
    distinct = originals + [res[0] for res in results[len(rows) :] if res]
    timed = [res for res in results if res]
    plain_ms = statistics.median(t[1] for t in timed) * 1000
    print(f"{len(coded)} corpus files, {len(distinct)} distinct images; hashing per image, median:")
    print(
        f"plain {plain_ms:.1f} ms; with all {len(KEEPS)} crops (re-encoded here) "
        f"{statistics.median(t[2] for t in timed) * 1000:.1f} ms\n"
    )
    print(f"| crops kept | codes/image | crop05 | crop15 | other edits | false pairs r<={RADIUS} |")
    print("|---|---|---|---|---|---|")
    pairs = [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1 :]]
    for crops in SETS:
        within: dict[str, list[bool]] = defaultdict(list)
        for r in rows:
            if r["transform"] == "none" or r["path"] not in coded or r["original"] not in coded:
                continue
            kind = r["transform"] if r["transform"] in ("crop05", "crop15") else "other"
            within[kind].append(best(coded[r["path"]], coded[r["original"]], crops) <= RADIUS)
        false = sum(best(a, b, crops) <= RADIUS for a, b in pairs)
        print(
            f"| {', '.join(f'{k:.0%}' for k in crops) or 'none'} | {1 + len(crops)} |"
            + "".join(f" {np.mean(within[k]):.2f} |" for k in ("crop05", "crop15", "other"))
            + f" {false} |"
        )


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Which centre crops to index",
            "the plain hash without crops, and ImageHash 4.3.2's `phash`",
            main,
        )
    )
