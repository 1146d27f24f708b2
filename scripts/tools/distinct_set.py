"""A set of distinct real images, none of them in ../shared/bench, for `quality.py
--distinct`: photographs (wallpapers, astronomy), icons and sprites with transparency,
sprite sheets, textures and clip-art drawings, taken from Debian packages whose licences
allow it, with each file's package, version and licence recorded in `manifest.csv`.

Each package is fetched with `apt-get download` (pinned to the version named here when the
archive still has it), unpacked with `dpkg-deb -x`, and its image files kept one per picture:
the same picture at several sizes (an icon theme's 16x16 ... 256x256 folders, a wallpaper's
resolutions) is one image, kept at its largest. At most `cap` pictures a package, chosen by
a hash of their path (the same files every run). Files that do not decode, or under 24 px a
side, are left out.

    python -m scripts.tools.distinct_set OUT [--cache DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from neardup.index.fingerprint import DEFAULT_LIMITS
from PIL import Image

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff"}
MIN_SIDE = 24
# what neardup decodes (`DecodeLimits.max_pixels`): larger files are refused, not hashed
MAX_PIXELS = DEFAULT_LIMITS.max_pixels
_SIZE = re.compile(r"^\d+x\d+$|^\d+x\d+[@-]\d+x?$|^scalable$")


@dataclass(frozen=True)
class Package:
    """A Debian package of pictures: what they are, and how many to keep."""

    name: str
    kind: str
    cap: int
    under: str = "usr/share"
    # the licence as read in a copyright file that is not machine-readable (else parsed)
    licence: str = ""


PACKAGES = (
    Package("plasma-workspace-wallpapers", "photo (wallpaper)", 200),
    Package(
        "gnome-backgrounds",
        "photo (wallpaper)",
        200,
        licence="CC-BY-SA-3.0, CC-BY-SA-2.0 or CC-BY-2.0, per file (its copyright file)",
    ),
    Package("desktop-base", "drawing and photo (wallpaper, login screen)", 100),
    Package("stellarium-data", "photo (astronomy: nebulae, galaxies on dark sky; landscapes)", 500),
    Package("oxygen-icon-theme", "icon with transparency", 700),
    Package(
        "openclipart-png",
        "drawing (clip art on transparency or white)",
        700,
        licence="public-domain (Creative Commons Public Domain Dedication)",
    ),
    Package("supertux-data", "sprite, sprite sheet, tile, background", 500),
    Package("hedgewars-data", "sprite, sprite sheet, map, background", 400),
    Package("frozen-bubble-data", "sprite and background", 150),
    Package("pingus-data", "sprite sheet and ground texture", 200, licence="GPL-2+"),
    Package("minetest-data", "texture", 250),
)


def fetch(package: Package, cache: Path) -> tuple[Path, str]:
    """The package unpacked under `cache` (downloaded once), and its version."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    found = sorted(debs.glob(f"{package.name}_*.deb"))
    if not found:
        _run(["apt-get", "download", package.name], debs)
        found = sorted(debs.glob(f"{package.name}_*.deb"))
    deb = found[-1]
    version = unquote(deb.name.split("_")[1])
    root = cache / "unpacked" / package.name
    if not root.exists():
        root.parent.mkdir(parents=True, exist_ok=True)
        _run(["dpkg-deb", "-x", str(deb), str(root)], cache)
    return root, version


def _run(command: list[str], folder: Path) -> None:
    """Runs a packaging command; SystemExit with one line saying which failed and why."""
    try:
        subprocess.run(command, cwd=folder, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit(f"distinct_set: {command[0]} not found: run it on Debian") from None
    except subprocess.CalledProcessError as exc:
        last = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise SystemExit(f"distinct_set: {' '.join(command)} failed: {last[0]}") from None


def licence(root: Path, package: str) -> str:
    """The licence of the package's files (`Files: *` of its machine-readable copyright file;
    else the file's first licence line)."""
    copyright_file = root / "usr" / "share" / "doc" / package / "copyright"
    if not copyright_file.exists():
        return "see the package's copyright file"
    text = copyright_file.read_text(errors="replace")
    for stanza in text.split("\n\n"):
        if re.search(r"^Files:\s*\*\s*$", stanza, re.M):
            match = re.search(r"^License:\s*(.+)$", stanza, re.M)
            if match:
                return match.group(1).strip()
    match = re.search(r"^License:\s*(.+)$", text, re.M)
    return match.group(1).strip() if match else "see the package's copyright file"


def picture_key(path: Path) -> str:
    """The picture a file is, whatever its size: its path with size folders and size-named
    stems left out."""
    parts = [p for p in path.parent.parts if not _SIZE.match(p)]
    stem = "" if _SIZE.match(path.stem) else path.stem
    return "/".join([*parts, stem])


def pictures(root: Path, under: str) -> dict[str, Path]:
    """One file per picture under `root/under`, the largest, that decodes, is at least
    `MIN_SIDE` px a side and at most `MAX_PIXELS`."""
    kept: dict[str, tuple[int, Path]] = {}
    for path in sorted((root / under).rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file() or path.is_symlink():
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a large size is checked below
                with Image.open(path) as image:
                    width, height = image.size
        except Exception:  # not an image Pillow reads: left out
            continue
        if min(width, height) < MIN_SIDE or width * height > MAX_PIXELS:
            continue
        key = picture_key(path.relative_to(root))
        if key not in kept or width * height > kept[key][0]:
            kept[key] = (width * height, path)
    return {key: path for key, (_, path) in kept.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/neardup-distinct-cache"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    seen: set[bytes] = set()
    for package in PACKAGES:
        root, version = fetch(package, args.cache)
        terms = package.licence or licence(root, package.name)
        found = pictures(root, package.under)
        chosen = sorted(found, key=lambda k: hashlib.sha256(k.encode()).digest())
        kept = 0
        for key in chosen:
            if kept == package.cap:
                break
            source = found[key]
            data = source.read_bytes()
            digest = hashlib.sha256(data).digest()
            if digest in seen:
                continue
            seen.add(digest)
            name = f"{package.name}__{hashlib.sha256(key.encode()).hexdigest()[:12]}"
            target = args.out / package.name / f"{name}{source.suffix.lower()}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            rows.append(
                {
                    "path": str(target.relative_to(args.out)),
                    "package": package.name,
                    "version": version,
                    "file": str(source.relative_to(root)),
                    "kind": package.kind,
                    "license": terms,
                }
            )
            kept += 1
        print(f"{package.name} {version}: {kept} of {len(found)} pictures ({terms})")
    with (args.out / "manifest.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} distinct images in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
