"""Borders that merge into the picture's ground: letterbox bars and frames in black, in
white, and in the picture's own ground colour, on dark-sky photographs, on drawings on a
light ground, and on ordinary photographs, beside ImageHash in the same run.

The pictures come from the distinct set (`python -m scripts.tools.distinct_set DIR`, whose
manifest says what each file is): astronomy photographs (Stellarium's nebulae: a bright
object on a black sky), clip-art drawings (openclipart, flattened onto white), and
wallpapers. Each is edited four ways, saved as PNG, and compared with its original as the
default collection compares them (`phash` with crop hashes: the nearest of the variant's
codes to the original's, every pair; the quality floor's rule applied) and as ImageHash's
`phash` does (plain): the share within the default radius (ours) and within 10 bits
(ImageHash's usual threshold).

    python -m scripts.bench.borders --distinct DIR [--per-set 150]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
import numpy as np
from neardup.index import bounds, hash_image
from neardup.index.errors import NeardupError
from PIL import Image

from scripts.bench.common import published

# The sets, by what the distinct set's manifest says of a file: (package, path part).
SETS = {
    "dark-sky photos": ("stellarium-data", "/nebulae/"),
    "drawings on white": ("openclipart-png", ""),
    "photos": ("plasma-workspace-wallpapers", ""),
}
LETTERBOX = 0.125  # of the height, top and bottom: a 4:3 picture in a 16:9 frame
FRAME = 0.05  # of each side, all round


def flattened(path: Path) -> Image.Image:
    """The picture in RGB, transparency composited onto white (how a drawing is shown)."""
    with Image.open(path) as image:
        image.seek(0)
        rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def ground(picture: Image.Image) -> tuple[int, int, int]:
    """The colour of the picture's edge: the median of its outermost 2-pixel ring."""
    pixels = np.asarray(picture)
    ring = np.concatenate(
        [
            pixels[:2].reshape(-1, 3),
            pixels[-2:].reshape(-1, 3),
            pixels[:, :2].reshape(-1, 3),
            pixels[:, -2:].reshape(-1, 3),
        ]
    )
    r, g, b = np.median(ring, axis=0).astype(int).tolist()
    return r, g, b


def padded(picture: Image.Image, top: int, side: int, colour: tuple[int, int, int]) -> Image.Image:
    out = Image.new("RGB", (picture.width + 2 * side, picture.height + 2 * top), colour)
    out.paste(picture, (side, top))
    return out


def letterbox(colour: Callable[[Image.Image], tuple[int, int, int]]) -> Callable:
    return lambda p: padded(p, round(p.height * LETTERBOX), 0, colour(p))


def frame(colour: Callable[[Image.Image], tuple[int, int, int]]) -> Callable:
    return lambda p: padded(p, round(p.height * FRAME), round(p.width * FRAME), colour(p))


BLACK = lambda _: (0, 0, 0)  # noqa: E731
WHITE = lambda _: (255, 255, 255)  # noqa: E731
EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "letterbox black": letterbox(BLACK),
    "letterbox ground": letterbox(ground),
    "frame white": frame(WHITE),
    "frame ground": frame(ground),
}


def png(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def codes(data: bytes) -> tuple[tuple[int, ...], int, int]:
    """The default collection's codes of a picture (its hash and crop hashes), its quality,
    and ImageHash's phash."""
    hashes = hash_image(data, crops=True)
    ours = (hashes.fingerprint.value, *(f.value for f in hashes.crop_fingerprints))
    with Image.open(io.BytesIO(data)) as image:
        theirs = int(str(imagehash.phash(image)), 16)
    return ours, hashes.quality, theirs


def measure(path: Path) -> dict[str, tuple[int, int]] | None:
    """Per edit: the default collection's distance and ImageHash's, variant to original."""
    try:
        picture = flattened(path)
        original = codes(png(picture))
        found = {}
        for name, edit in EDITS.items():
            variant = codes(png(edit(picture)))
            ours = min((a ^ b).bit_count() for a in original[0] for b in variant[0])
            if min(original[1], variant[1]) < bounds.DEFAULT_MIN_QUALITY:
                ours = 64  # below the floor only the same file matches
            found[name] = (ours, (original[2] ^ variant[2]).bit_count())
        return found
    except (NeardupError, OSError, ValueError):
        return None


def chosen(distinct: Path, per_set: int) -> dict[str, list[Path]]:
    """Up to `per_set` files of each set, by a hash of their path (the same every run)."""
    with (distinct / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    picked = {}
    for name, (package, part) in SETS.items():
        files = [r["path"] for r in rows if r["package"] == package and part in r["file"]]
        files.sort(key=lambda p: hashlib.sha256(p.encode()).digest())
        picked[name] = [distinct / p for p in files[:per_set]]
    return picked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distinct", type=Path, required=True)
    parser.add_argument("--per-set", type=int, default=150)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not (args.distinct / "manifest.csv").is_file():
        print(
            f"borders: no distinct set at {args.distinct} (make one with "
            f"`python -m scripts.tools.distinct_set {args.distinct}`)",
            file=sys.stderr,
        )
        return 2
    radius = bounds.DEFAULT_CROP_RADIUS
    print(
        f"share of variants within r of their original: ours (phash with crop hashes, the "
        f"default collection) at r={radius} / ImageHash phash at r=10\n"
    )
    print("| set | n | " + " | ".join(EDITS) + " |")
    print("|---|---|" + "---|" * len(EDITS))
    with ProcessPoolExecutor(args.workers) as pool:
        for name, paths in chosen(args.distinct, args.per_set).items():
            results = [r for r in pool.map(measure, paths, chunksize=4) if r is not None]
            cells = []
            for edit in EDITS:
                ours = np.array([r[edit][0] for r in results])
                theirs = np.array([r[edit][1] for r in results])
                cells.append(f"{(ours <= radius).mean():.2f} / {(theirs <= 10).mean():.2f}")
            print(f"| {name} | {len(results)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Borders that merge into the ground",
            "ImageHash 4.3.2's `phash` on the same pictures and edits",
            main,
        )
    )
