"""Plain resizes of any folder of images: the share of copies each algorithm keeps within r.

A held-out check for the border rule: every image (flattened on white, as a site would) is
resized to six sizes and saved as JPEG q80 and PNG; each copy is compared with the image
itself under `phash`, `phash-2` (the side-by-side border rule), `phash-1` (no trim) and
ImageHash 4.3.2's `phash()` in the same run. A trim that cuts a drawing's white sides at
some sizes only shows up here as copies far from their image.

    python -m scripts.bench.resizes /usr/share/icons/Adwaita/512x512 \\
        /root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html
"""

from __future__ import annotations

import argparse
import io
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import imagehash
import numpy as np
from neardup.index import hash_image
from PIL import Image

from scripts.bench.common import published

ALGORITHMS = ("phash", "phash-2", "phash-1")
ANCHOR = "ImageHash"
SIDES = (400, 256, 200, 150, 110, 90)
RADII = (4, 6, 8, 10, 12)
MIN_BYTES = 15_000  # smaller files are mostly tiny icons and bullets, not pictures
MIN_SIDE = 200


def image_files(folders: list[Path]) -> list[Path]:
    """Every PNG or JPEG of at least MIN_BYTES under the folders (recursively)."""
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.suffix.lower() in (".png", ".jpg", ".jpeg") and path.stat().st_size >= MIN_BYTES
    )


def on_white(path: Path) -> Image.Image | None:
    """The image flattened on white, or None when unreadable or under MIN_SIDE px."""
    try:
        with Image.open(path) as image:
            picture = image.convert("RGBA")
    except (OSError, ValueError):
        return None
    if max(picture.size) < MIN_SIDE:
        return None
    ground = Image.new("RGBA", picture.size, "white")
    ground.alpha_composite(picture)
    return ground.convert("RGB")


def encoded(picture: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return out.getvalue()


def hashes(data: bytes) -> dict[str, int]:
    values = {a: hash_image(data, a).fingerprint.value for a in ALGORITHMS}
    anchor = imagehash.phash(Image.open(io.BytesIO(data))).hash.flatten()
    values[ANCHOR] = int("".join("1" if bit else "0" for bit in anchor), 2)
    return values


def copy_distances(path: Path) -> dict[str, list[int]] | None:
    """For each algorithm, the distance of each resized copy from the image."""
    picture = on_white(path)
    if picture is None:
        return None
    original = hashes(encoded(picture, "PNG"))
    distances: dict[str, list[int]] = {a: [] for a in original}
    for side in SIDES:
        copy = picture.copy()
        copy.thumbnail((side, side), Image.Resampling.LANCZOS)
        for fmt in ("JPEG", "PNG"):
            for algorithm, value in hashes(encoded(copy, fmt)).items():
                distances[algorithm].append((value ^ original[algorithm]).bit_count())
    return distances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    files = image_files(args.folders)
    with ProcessPoolExecutor(args.workers) as pool:
        results = [r for r in pool.map(copy_distances, files, chunksize=4) if r is not None]
    copies = len(results) * len(SIDES) * 2
    print(f"{len(results)} images of {len(files)} files, {copies} copies", end=" ")
    print(f"(sizes {SIDES}, JPEG q80 and PNG)")
    print(
        "\n| algorithm | "
        + " | ".join(f"within {r}" for r in RADII)
        + " | beyond 10 | mean distance |"
    )
    print("|---|" + "---|" * (len(RADII) + 2))
    for algorithm in (*ALGORITHMS, ANCHOR):
        d = np.array([x for r in results for x in r[algorithm]])
        shares = " | ".join(f"{(d <= r).mean():.3f}" for r in RADII)
        print(f"| {algorithm} | {shares} | {(d > 10).sum()} | {d.mean():.2f} |")


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Plain resizes of any folder of images",
            "ImageHash 4.3.2's `phash` on the same copies",
            main,
        )
    )
