"""Checks the three algorithms against the golden vectors of the whole bench corpus.

Needs ../shared (the corpus and shared/golden); the tests hold a subset copied into tests/.
Prints, and exits non-zero when a "Must show" bound of the foundation issue fails:

1. `imagehash-4` == golden `imagehash_phash` on every row not flagged fragile;
2. `phash-c` == golden `phash_c_dct` on every non-fragile row where given, and
   `phash_c_dct_via_png` for the WebP/GIF rows;
3. `phash` within 2 bits of ImageHash on >= 95% of the opaque photos of bench/originals;
4. orientations: mean over opaque originals of min over the 8 orientation hashes of the
   distance to the `mirror` and `rot90` variants <= 1.5 bits (and the plain hash ~31 bits off),
   next to the plain hash's distance to the `png` variant.

    python -m scripts.tools.check_golden [--shared ../shared] [--draft-min-side 64]
"""

from __future__ import annotations

import csv
import statistics
import sys
from collections import Counter
from pathlib import Path

from neardup.index import Fingerprint, hash_image
from neardup.index.errors import NeardupError

from scripts.bench.corpus import corpus_parser, parse


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def check_compat(bench: Path, golden: Path) -> bool:
    """Sections 1 and 2: bit-exact compatibility counts."""
    margins = {r["path"]: r for r in _rows(golden / "phash_golden_margins.csv")}
    via_png = {
        r["path"]: r["phash_c_dct_via_png"] for r in _rows(golden / "phash_c_dct_via_png.csv")
    }
    counts: Counter[str] = Counter()
    misses: list[str] = []
    for row in _rows(golden / "phash_golden.csv"):
        path = row["path"]
        data = (bench / path).read_bytes()
        ours = hash_image(data, "imagehash-4").fingerprint.hex
        fragile = margins[path]["imagehash_fragile"] == "1"
        key = "fragile" if fragile else "checked"
        counts[f"imagehash-4 {key}"] += 1
        if ours == row["imagehash_phash"]:
            counts[f"imagehash-4 {key} equal"] += 1
        elif not fragile:
            misses.append(f"imagehash-4 {path}: ours {ours} golden {row['imagehash_phash']}")
        expected = row["phash_c_dct"] or via_png.get(path, "")
        if not expected:
            continue
        ours_c = hash_image(data, "phash-c").fingerprint.hex
        fragile_c = margins[path]["phash_c_fragile"] == "1"
        key = ("fragile" if fragile_c else "checked") + (
            " via png" if not row["phash_c_dct"] else ""
        )
        counts[f"phash-c {key}"] += 1
        if ours_c == expected:
            counts[f"phash-c {key} equal"] += 1
        elif not fragile_c:
            misses.append(f"phash-c {path}: ours {ours_c} golden {expected}")
    for name in sorted(k for k in counts if not k.endswith("equal")):
        print(f"  {name:<32} {counts[name + ' equal']:>5} / {counts[name]:<5} equal")
    for line in misses:
        print("  MISS", line)
    return not misses


def _opaque_originals(bench: Path) -> list[str]:
    """Originals whose pixels are all opaque (the fair view of golden/README.md)."""
    from PIL import Image

    opaque = []
    for row in _rows(bench / "manifest.csv"):
        if row["transform"] != "none":
            continue
        with Image.open(bench / row["path"]) as im:
            if im.has_transparency_data:
                alpha = im.convert("RGBA").getchannel("A")
                if alpha.getextrema()[0] < 255:
                    continue
        opaque.append(row["path"])
    return opaque


def check_quality(bench: Path, golden: Path) -> bool:
    """Sections 3 and 4: canonical `phash` against ImageHash, and orientation recovery."""
    imagehash_of = {r["path"]: r["imagehash_phash"] for r in _rows(golden / "phash_golden.csv")}
    opaque = _opaque_originals(bench)
    gaps = []
    for path in opaque:
        ours = hash_image((bench / path).read_bytes(), "phash").fingerprint
        gaps.append(ours - Fingerprint.from_hex(imagehash_of[path], "phash"))
    within = sum(g <= 2 for g in gaps) / len(gaps)
    print(
        f"  phash vs ImageHash on {len(gaps)} opaque originals: within 2 bits {within:.3f}, "
        f"mean {statistics.mean(gaps):.2f} bits, max {max(gaps)}"
    )
    variants_of: dict[str, dict[str, str]] = {}
    for row in _rows(bench / "manifest.csv"):
        variants_of.setdefault(row["original"], {})[row["transform"]] = row["path"]
    best: dict[str, list[int]] = {"mirror": [], "rot90": []}
    plain: dict[str, list[int]] = {"mirror": [], "rot90": [], "png": []}
    for path in opaque:
        variants = variants_of.get(path, {})
        if "mirror" not in variants:
            continue
        hashes = hash_image((bench / path).read_bytes(), "phash", orientations=True)
        for transform in ("mirror", "rot90", "png"):
            other = hash_image((bench / variants[transform]).read_bytes(), "phash").fingerprint
            plain[transform].append(hashes.fingerprint - other)
            if transform in best:
                best[transform].append(min(h - other for h in hashes.orientations))
    for transform in ("mirror", "rot90"):
        print(
            f"  {transform:<6} n={len(best[transform])}: best of 8 orientations mean "
            f"{statistics.mean(best[transform]):.2f} bits; plain hash mean "
            f"{statistics.mean(plain[transform]):.2f} bits"
        )
    print(
        f"  png    n={len(plain['png'])}: plain hash mean {statistics.mean(plain['png']):.2f} bits"
    )
    return within >= 0.95 and all(statistics.mean(best[t]) <= 1.5 for t in best)


def main() -> int:
    parser = corpus_parser(__doc__)
    args = parse(parser)
    bench, golden = args.shared / "bench", args.shared / "golden"
    if not (golden / "phash_golden.csv").exists():
        print(f"no golden vectors under {args.shared}: nothing to check", file=sys.stderr)
        return 2
    try:
        print("compatibility (bit-exact):")
        compat_ok = check_compat(bench, golden)
        print("canonical phash and orientations (opaque originals):")
        quality_ok = check_quality(bench, golden)
    except NeardupError as exc:
        print(f"hashing failed: {exc}", file=sys.stderr)
        return 1
    print("OK" if compat_ok and quality_ok else "FAILED")
    return 0 if compat_ok and quality_ok else 1


if __name__ == "__main__":
    sys.exit(main())
