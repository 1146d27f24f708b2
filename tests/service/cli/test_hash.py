"""`neardup hash`: one line per readable file, errors on stderr, exit status says if any failed.

Run as a real subprocess through the installed console script.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from neardup.index import Orientation, hash_image

from ...conftest import IMAGES

NEARDUP = shutil.which("neardup", path=str(Path(sys.executable).parent)) or "neardup"


def run(
    *args: str, cwd: Path | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The `neardup` command of this venv, run as a subprocess."""
    return subprocess.run(
        [NEARDUP, *args], capture_output=True, text=True, cwd=cwd, input=stdin, timeout=120
    )


def test_prints_sixteen_hex_digits_a_tab_and_the_path_as_given() -> None:
    result = run(
        "hash", "images/mate__Garden.jpg", "./images/skimage__horse.png", cwd=IMAGES.parent
    )
    assert result.returncode == 0, result.stderr
    garden = hash_image((IMAGES / "mate__Garden.jpg").read_bytes()).fingerprint.hex
    horse = hash_image((IMAGES / "skimage__horse.png").read_bytes()).fingerprint.hex
    assert result.stdout.splitlines() == [
        f"{garden}\timages/mate__Garden.jpg",
        f"{horse}\t./images/skimage__horse.png",
    ]
    assert result.stderr == ""


@pytest.mark.parametrize("algorithm", ["phash", "imagehash-4", "phash-c"])
def test_the_algorithm_option_selects_the_algorithm(algorithm: str) -> None:
    path = IMAGES / "sklearn__china.bmp"
    result = run("hash", "--algorithm", algorithm, str(path))
    assert result.returncode == 0
    assert result.stdout == f"{hash_image(path.read_bytes(), algorithm).fingerprint.hex}\t{path}\n"


def test_crops_prints_the_centre_crops_hashes_after_the_hash() -> None:
    path = IMAGES / "mate__Garden.jpg"
    hashes = hash_image(path.read_bytes(), crops=True)
    result = run("hash", "--crops", str(path))
    assert result.returncode == 0, result.stderr
    crops = [f.hex for f in hashes.crop_fingerprints]
    assert result.stdout == "\t".join([hashes.fingerprint.hex, *crops, str(path)]) + "\n"
    refused = run("hash", "--crops", "--algorithm", "phash-c", str(path))
    assert refused.returncode == 1 and "no crop hashes" in refused.stderr


def test_unreadable_files_go_to_stderr_the_others_are_printed_and_the_exit_status_is_1(
    tmp_path: Path,
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    good = IMAGES / "mate__Garden.jpg"
    result = run("hash", str(text), str(good), str(tmp_path / "missing.png"), str(empty))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{hash_image(good.read_bytes()).fingerprint.hex}\t{good}"
    ]
    errors = result.stderr.splitlines()
    supported = "JPEG, PNG, GIF, WebP, TIFF, BMP, AVIF or HEIC/HEIF"
    assert errors[0] == f"neardup: {text}: not an image in a supported format; send {supported}"
    assert errors[1] == f"neardup: {tmp_path / 'missing.png'}: No such file or directory"
    assert errors[2] == f"neardup: {empty}: the image is empty (0 bytes)"


def test_quality_prints_each_hash_s_score_before_the_path() -> None:
    path = IMAGES / "mate__Garden.jpg"
    result = run("hash", "--quality", str(path))
    hashes = hash_image(path.read_bytes())
    assert result.stdout == f"{hashes.fingerprint.hex}\t{hashes.quality}\t{path}\n"


def test_orientations_prints_eight_hashes_in_enum_order_then_the_path() -> None:
    path = IMAGES / "mate__Garden.jpg"
    result = run("hash", "--orientations", str(path))
    fields = result.stdout.rstrip("\n").split("\t")
    assert len(fields) == 9 and fields[-1] == str(path)
    assert all(re.fullmatch("[0-9a-f]{16}", f) for f in fields[:8])
    expected = hash_image(path.read_bytes(), orientations=True).orientations
    assert fields[:8] == [expected[o].hex for o in Orientation]


def test_the_help_documents_the_orientation_order() -> None:
    assert "identity, rotate_90, rotate_180, rotate_270, mirror" in " ".join(
        run("hash", "--help").stdout.split()
    )


def test_an_unknown_algorithm_is_a_usage_error() -> None:
    result = run("hash", "--algorithm", "dhash", str(IMAGES / "mate__Garden.jpg"))
    assert result.returncode == 2 and "invalid choice: 'dhash'" in result.stderr
