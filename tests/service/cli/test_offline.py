"""`neardup build` and `neardup search` on a data dir, run as real subprocesses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ...conftest import IMAGES
from .test_hash import run


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder tree of fixture images, a text file and a broken JPEG, indexed into a data
    dir."""
    root = tmp_path_factory.mktemp("library")
    source = root / "photos"
    (source / "garden").mkdir(parents=True)
    for name in ("mate__Garden.jpg", "mate__Garden__mirror.jpg", "mate__Garden__crop05.jpg"):
        shutil.copy(IMAGES / name, source / "garden" / name)
    shutil.copy(IMAGES / "skimage__horse.png", source / "horse.png")
    (source / "notes.txt").write_text("not an image")
    (source / "broken.jpg").write_bytes((IMAGES / "mate__Garden.jpg").read_bytes()[:300])
    result = run("build", str(source), "--data-dir", str(root / "data"))
    assert result.returncode == 1  # one image failed
    assert "4 added, 0 updated, 0 already stored, 1 not images, 1 failed" in result.stderr
    return root


def search(library: Path, *args: str) -> list[dict[str, object]]:
    result = run("search", "--data-dir", str(library / "data"), "--json", *args)
    assert result.returncode == 0, result.stderr
    rows: list[dict[str, object]] = json.loads(result.stdout)
    return rows


def test_build_names_images_by_their_path_under_the_source(library: Path) -> None:
    rows = search(library, str(IMAGES / "mate__Garden.jpg"), "--radius", "64")
    assert {r["id"] for r in rows} == {
        "garden/mate__Garden.jpg",
        "garden/mate__Garden__mirror.jpg",
        "garden/mate__Garden__crop05.jpg",
        "horse.png",
    }


def test_a_second_build_skips_what_is_stored(library: Path) -> None:
    result = run("build", str(library / "photos"), "--data-dir", str(library / "data"))
    assert "0 added, 0 updated, 4 already stored, 1 not images, 1 failed" in result.stderr


def test_search_prints_matches_nearest_first_as_json(library: Path) -> None:
    rows = search(library, str(IMAGES / "mate__Garden.jpg"))
    assert [r["id"] for r in rows] == ["garden/mate__Garden.jpg", "garden/mate__Garden__crop05.jpg"]
    first = rows[0]
    assert first["distance"] == 0 and first["similarity"] == 1.0
    assert isinstance(first["hash"], str) and len(first["hash"]) == 16


def test_search_by_hash_and_by_id_agree(library: Path) -> None:
    by_id = search(library, "--id", "garden/mate__Garden.jpg", "--k", "2")
    by_hash = search(library, "--hash", str(by_id[0]["hash"]), "--k", "2")
    # the stored image's own file is its digest's: identical to itself; a bare hash has none
    assert by_id[0].pop("identical") is True
    assert by_id == by_hash


def test_orientation_search_finds_the_mirror_and_names_the_orientation(library: Path) -> None:
    rows = search(library, str(IMAGES / "mate__Garden.jpg"), "--orientations", "--radius", "4")
    orientation = {r["id"]: r["orientation"] for r in rows}
    assert orientation["garden/mate__Garden__mirror.jpg"] == "mirror"
    assert orientation["garden/mate__Garden.jpg"] == "identity"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--hash", "xyz"), "16 hex digits"),
        (("--id", "nope.jpg"), "no image 'nope.jpg'"),
        (("--id", "horse.png", "--orientations"), "needs an IMAGE"),
        (("--id", "horse.png", "--k", "5000"), "--k: must be in 1..1000"),
        (("--id", "horse.png", "--collection", "other"), "no collection named 'other'"),
    ],
)
def test_a_refused_search_says_why_and_exits_2(
    library: Path, args: tuple[str, ...], message: str
) -> None:
    result = run("search", "--data-dir", str(library / "data"), *args)
    assert result.returncode == 2
    assert message in result.stderr
