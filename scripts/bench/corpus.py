"""The image corpora the benchmarks read: the bench corpus in ../shared (its command-line
options, its manifest, its originals by size), folders of distinct images, and blank
control pictures."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from neardup.index.fingerprint import imagehash_math
from PIL import Image, ImageDraw

DEFAULT_SHARED = Path(__file__).resolve().parents[3] / "shared"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp"}


def corpus_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with --shared and the --draft-min-side experiment knob."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument(
        "--draft-min-side",
        type=int,
        default=imagehash_math.DRAFT_MIN_SIDE,
        help="experiment: the side phash's JPEG draft keeps (reproduces the README's trade-off)",
    )
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parses the command line and applies the experiment knob."""
    args = parser.parse_args()
    imagehash_math.DRAFT_MIN_SIDE = args.draft_min_side
    return args


def load_sets(originals: Path) -> dict[str, list[bytes]]:
    sets: dict[str, list[bytes]] = {"1024px": [], "1600px": [], "8MP+": []}
    for path in sorted(originals.glob("*.jpg")):
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height >= 8_000_000:
                sets["8MP+"].append(data)
            elif max(width, height) == 1600:
                sets["1600px"].append(data)
                typical = image.convert("RGB")
                typical.thumbnail((1024, 1024), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                typical.save(out, "JPEG", quality=95)
                sets["1024px"].append(out.getvalue())
    return sets


def distinct_files(folders: Iterable[Path]) -> list[Path]:
    """Image files under the folders, one per file name and per content."""
    seen_names: set[str] = set()
    seen_content: set[bytes] = set()
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
                continue
            digest = hashlib.sha1(path.read_bytes()).digest()
            if path.stem in seen_names or digest in seen_content:
                continue
            seen_names.add(path.stem)
            seen_content.add(digest)
            found.append(path)
    return found


def blank_controls(count: int, folder: Path) -> list[Path]:
    """Synthetic pictures with almost no structure, written as JPEGs (q90): a third solid
    colours, a third faint gradients (a few grey levels across), a third a small sprite
    (3-6% of the side) on a flat ground. Seeded, so every run makes the same ones."""
    rng = np.random.default_rng(20261201)
    paths = []
    for i in range(count):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        image = Image.new("RGB", (int(rng.integers(200, 900)), int(rng.integers(200, 900))), colour)
        kind = i % 3
        if kind == 1:
            ramp = np.linspace(0, float(rng.uniform(2, 8)), image.width)[None, :, None]
            pixels = np.clip(np.asarray(image, dtype=np.float64) + ramp, 0, 255)
            image = Image.fromarray(pixels.astype(np.uint8))
        elif kind == 2:
            side = int(min(image.size) * rng.uniform(0.03, 0.06))
            x, y = (int(rng.integers(0, s - side)) for s in image.size)
            sprite = tuple(int(c) for c in rng.integers(0, 256, 3))
            ImageDraw.Draw(image).ellipse((x, y, x + side, y + side), fill=sprite)
        path = folder / f"blank-{i:04d}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def corpus_files(
    corpus: Path, distinct: Iterable[Path], controls: int
) -> tuple[list[dict[str, str]], list[Path]]:
    """The corpus manifest's rows, and the distinct images beside it: the `distinct`
    folders' files and `controls` blank pictures (written to a temporary folder)."""
    with (corpus / "manifest.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    extra = distinct_files(distinct)
    if controls:
        extra += blank_controls(controls, Path(tempfile.mkdtemp(prefix="neardup-blank-")))
    return rows, extra
