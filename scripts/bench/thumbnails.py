"""What keeping thumbnails costs an add: making the preview beside hashing the same image,
and the preview's bytes beside what the store keeps of an image without it.

Every picture of the folders (default: the originals of the bench corpus,
`../shared/bench`) is hashed (`hash_image`, the anchor: what every add does) and made a
preview of (`make_thumbnail`, what an add to a collection that keeps thumbnails does too),
each timed on one thread, best of three; the store's bytes an image come from two real
data dirs of the same images, with and without thumbnails.

    python -m scripts.bench.thumbnails [FOLDER...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from neardup.index import Engine, EngineSettings
from neardup.index.fingerprint import hash_image, make_thumbnail

from scripts.bench.common import published
from scripts.bench.corpus import DEFAULT_SHARED, IMAGE_SUFFIXES


def best_of_three(work: object, data: bytes) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work(data)  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def store_bytes(pictures: list[bytes], thumbnails: bool) -> int:
    """The store file's size after adding the pictures (with previews, or without)."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        with Engine(data, EngineSettings(maintenance_interval_seconds=3600)) as engine:
            engine.create_collection("c", thumbnails=thumbnails)
            items = [
                (
                    f"image-{i:05d}.jpg",
                    (hashed := hash_image(p)).fingerprint,
                    {"path": f"/photos/2026/image-{i:05d}.jpg", "width": str(hashed.width)},
                    hashed.quality,
                    (),
                    make_thumbnail(p) if thumbnails else None,
                )
                for i, p in enumerate(pictures)
            ]
            engine.add_batch("c", items)
        return sum(f.stat().st_size for f in data.glob("neardup.sqlite*"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="*")
    args = parser.parse_args()
    folders = args.folders or [DEFAULT_SHARED / "bench" / "originals"]
    files = sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    pictures = [p.read_bytes() for p in files]
    hashing = np.array([best_of_three(hash_image, p) for p in pictures]) * 1e3
    previews = np.array([best_of_three(make_thumbnail, p) for p in pictures]) * 1e3
    sizes = np.array([len(make_thumbnail(p)) for p in pictures])
    plain, kept = store_bytes(pictures, False), store_bytes(pictures, True)
    print(f"{len(pictures)} pictures, median {np.median([len(p) for p in pictures]) / 1024:.0f} KB")
    print("\n| per image | hash (anchor) | preview | preview / hash |\n|---|---|---|---|")
    for name, q in (("median", 50), ("p90", 90)):
        h, t = np.percentile(hashing, q), np.percentile(previews, q)
        print(f"| {name} ms | {h:.2f} | {t:.2f} | {t / h:.2f}x |")
    print(
        f"\npreview bytes: median {np.median(sizes):.0f}, max {sizes.max()}; store bytes an "
        f"image: {plain / len(pictures):.0f} without previews, {kept / len(pictures):.0f} "
        f"with ({kept / plain:.2f}x)"
    )


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "What keeping thumbnails costs an add",
            "hashing the same image (what every add does), and the store without previews",
            main,
        )
    )
