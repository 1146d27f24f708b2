"""One picture as JPEG, AVIF and HEIC: how far apart their hashes are.

Every picture of the folders (default: the originals of the bench corpus, `../shared/bench`)
is saved as JPEG, AVIF (Pillow) and HEIC (pillow-heif, a development dependency: its wheels
carry the x265 encoder) at the same quality, decoded back through neardup's one decoder
(HEIC by pi-heif), and hashed; each format's hash is compared with the JPEG's. ImageHash
4.3.2's `phash` of the same files, decoded by Pillow with the same plugins, runs beside it.

    python -m scripts.bench.formats [FOLDER...] [--quality 80]
"""

from __future__ import annotations

import argparse
import io
import os
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import imagehash
import numpy as np
import pillow_heif
from neardup.index import hash_image
from PIL import Image

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED, IMAGE_SUFFIXES

FORMATS = ("AVIF", "HEIF")
ANCHOR = "ImageHash"
RADII = (0, 2, 4, 6, 10)


def encoded(picture: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(picture).save(out, quality=quality)
    else:
        picture.save(out, fmt, quality=quality)
    return out.getvalue()


def hashes(data: bytes) -> tuple[int, int]:
    """neardup's phash and ImageHash's, of encoded bytes."""
    ours = hash_image(data).fingerprint.value
    bits = imagehash.phash(Image.open(io.BytesIO(data))).hash.flatten()
    return ours, int("".join("1" if bit else "0" for bit in bits), 2)


def distances(path: Path, quality: int) -> dict[str, tuple[int, int, int]] | None:
    """Per format: (neardup's distance from the JPEG, ImageHash's, the file's bytes)."""
    try:
        with Image.open(path) as image:
            picture = image.convert("RGB")
    except (OSError, ValueError):
        return None
    jpeg = encoded(picture, "JPEG", quality)
    ours_jpeg, anchor_jpeg = hashes(jpeg)
    found = {"JPEG": (0, 0, len(jpeg))}
    for fmt in FORMATS:
        data = encoded(picture, fmt, quality)
        ours, anchor = hashes(data)
        found[fmt] = ((ours ^ ours_jpeg).bit_count(), (anchor ^ anchor_jpeg).bit_count(), len(data))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="*")
    parser.add_argument("--quality", type=int, default=80)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    folders = args.folders or [DEFAULT_SHARED / "bench" / "originals"]
    files = sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    with ProcessPoolExecutor(args.workers) as pool:
        work = partial(distances, quality=args.quality)
        results = [r for r in pool.map(work, files, chunksize=2) if r is not None]
    print(f"{len(results)} pictures; each saved at quality {args.quality} as JPEG, AVIF, HEIC")
    print("distance in bits from the same picture's JPEG hash\n")
    print(
        "| format | hash | median | p95 | max | "
        + " | ".join(f"<= {r}" for r in RADII)
        + " | median KB |"
    )
    print("|---|---|---|---|---|" + "---|" * len(RADII) + "---|")
    for fmt in FORMATS:
        size = np.median([r[fmt][2] for r in results]) / 1024
        for column, name in ((0, "neardup phash"), (1, ANCHOR)):
            d = np.array([r[fmt][column] for r in results])
            shares = " | ".join(f"{(d <= r).mean():.3f}" for r in RADII)
            print(
                f"| {fmt} | {name} | {np.median(d):.0f} | {np.percentile(d, 95):.0f} | "
                f"{d.max()} | {shares} | {size:.0f} |"
            )
    jpeg_kb = np.median([r["JPEG"][2] for r in results]) / 1024
    print("| JPEG | (the reference) | 0 | 0 | 0 |" + " |" * len(RADII) + f" {jpeg_kb:.0f} |")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "One picture as JPEG, AVIF and HEIC",
            "ImageHash 4.3.2's `phash` of the same files, decoded by Pillow with the same plugins",
            main,
        )
    )
