"""`neardup report` over a real built library, offline and through a real server, and its
HTML contact sheet opened in a real headless Chromium."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ...conftest import IMAGES
from ..conftest import RunningServer
from .test_hash import run

GARDEN_GROUP = {
    "mate__Garden.jpg",
    "mate__Garden__png.png",
    "mate__Garden__jpeg30.jpg",
    "mate__Garden__crop05.jpg",
}
# ... and its mirrored and rotated copies, which join it by their orientations
GARDEN_ORIENTED = GARDEN_GROUP | {"mate__Garden__mirror.jpg", "mate__Garden__rot90.jpg"}
# the collection the library is built into, without crop hashes
PLAIN = ("--collection", "plain")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding every fixture image, without crop hashes: the groups below are
    checked pair by pair against the images' own hashes (crop hashes have a test of their
    own)."""
    data = tmp_path_factory.mktemp("report") / "data"
    made = run("build", str(IMAGES), "--data-dir", str(data), *PLAIN, "--no-crop-hashes")
    assert made.returncode == 0, made.stderr
    return data


def report(*args: str) -> dict[str, object]:
    done = run("report", *args)
    assert done.returncode == 0, done.stderr
    assert re.search(r"\d+ groups? of", done.stderr) and "radius searches" in done.stderr
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


def hashes(data: Path) -> dict[str, int]:
    from neardup.index import Engine

    with Engine(data) as engine:
        return {i.id: i.fingerprint.value for i in engine.list_images(PLAIN[1], limit=1000)}


def test_a_group_is_the_best_copy_and_every_image_within_the_radius_of_it_in_any_orientation(
    built: Path,
) -> None:
    result = report("--data-dir", str(built), *PLAIN)
    assert (result["grouping"], result["orientations"]) == ("centred", True)
    groups = result["groups"]
    assert isinstance(groups, list)
    by_rep = {g["representative"]: g for g in groups}
    assert set(by_rep["mate__Garden.jpg"]["ids"]) == GARDEN_ORIENTED
    for group in groups:
        assert all(d <= 10 for d in group["distances"].values())
    placed = [i for g in groups for i in g["ids"]]
    assert len(placed) == len(set(placed))  # an image is in one group


def test_components_are_the_connected_near_images_with_the_largest_as_representative(
    built: Path,
) -> None:
    result = report(
        "--data-dir", str(built), *PLAIN, "--grouping", "components", "--no-orientations"
    )
    groups = result["groups"]
    assert result["radius"] == 10
    assert isinstance(groups, list)
    by_rep = {g["representative"]: g for g in groups}
    assert set(by_rep["mate__Garden.jpg"]["ids"]) == GARDEN_GROUP
    stored = hashes(built)
    grouped = [set(g["ids"]) for g in groups]
    for members in grouped:  # connected within the radius, and maximal
        for image_id in members:
            assert len(members) == 1 or any(
                (stored[image_id] ^ stored[o]).bit_count() <= 10 for o in members - {image_id}
            )
        outside = set(stored) - members
        assert not any((stored[a] ^ stored[b]).bit_count() <= 10 for a in members for b in outside)
    for group in groups:
        rep = stored[group["representative"]]
        assert group["distances"] == {i: (stored[i] ^ rep).bit_count() for i in group["ids"]}


def test_strict_groups_hold_only_pairs_within_the_radius(built: Path) -> None:
    stored = hashes(built)
    for group in report(
        "--data-dir",
        str(built),
        *PLAIN,
        "--grouping",
        "strict",
        "--no-orientations",
        "--radius",
        "3",
    )["groups"]:  # type: ignore[union-attr]
        for a in group["ids"]:
            for b in group["ids"]:
                assert (stored[a] ^ stored[b]).bit_count() <= 3


def test_csv_has_a_row_per_grouped_image(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "groups.csv"
    done = run("report", "--data-dir", str(built), *PLAIN, "--csv", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open()))
    garden = [r for r in rows if r["representative"] == "mate__Garden.jpg"]
    assert {r["id"] for r in garden} == GARDEN_ORIENTED
    assert {r["format"] for r in garden} >= {"JPEG", "PNG"}


def test_a_report_through_a_server_equals_the_offline_one(
    built: Path, server: RunningServer
) -> None:
    into = ["--server", server.target, "--collection", "reported"]
    assert run("build", str(IMAGES), *into, "--no-crop-hashes").returncode == 0
    assert report(*into) == report("--data-dir", str(built), *PLAIN)


@pytest.fixture(scope="module")
def cropped_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two photos and a 15% centre crop of one of them."""
    import io

    from neardup.index.fingerprint.crops import centre_box
    from PIL import Image

    folder = tmp_path_factory.mktemp("cropped")
    for name in ("mate__LadyBird.jpg", "debian__futureprototype.jpg"):
        with Image.open(io.BytesIO((IMAGES / name).read_bytes())) as image:
            photo = image.convert("RGB").resize((640, 400), Image.Resampling.LANCZOS)
        photo.save(folder / name, "JPEG", quality=90)
        if name.startswith("mate"):
            photo.crop(centre_box(640, 400, 0.85)).save(folder / "crop.jpg", "JPEG", quality=90)
    return folder


def test_with_crop_hashes_a_crop_joins_its_originals_group_offline_and_through_a_server(
    cropped_library: Path, tmp_path: Path, server: RunningServer
) -> None:
    plain, cropping = tmp_path / "plain", tmp_path / "cropping"
    without = ["--data-dir", str(plain), *PLAIN]
    made = run("build", str(cropped_library), *without, "--no-crop-hashes")
    assert made.returncode == 0, made.stderr
    assert report(*without)["groups"] == []
    offline = ["--data-dir", str(cropping), "--collection", "cropped"]
    built = run("build", str(cropped_library), *offline)  # crop hashes: the default
    assert built.returncode == 0, built.stderr
    [group] = report(*offline)["groups"]  # type: ignore[misc]
    assert group["ids"] == ["mate__LadyBird.jpg", "crop.jpg"]
    assert 0 < group["distances"]["crop.jpg"] <= 10
    into = ["--server", server.target, "--collection", "cropped"]
    assert run("build", str(cropped_library), *into).returncode == 0
    assert report(*into) == report(*offline)
    refused = run("build", str(cropped_library), "--data-dir", str(plain), "--no-crop-hashes")
    assert refused.returncode == 2 and "'default' exists with crop hashes" in refused.stderr


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _open_in_chromium(page: Path, profile: Path) -> tuple[str, set[str]]:
    """The DOM Chromium renders of a local page, and the network URLs (without their
    query) requested while it did."""
    netlog = profile.with_suffix(".netlog.json")
    dumped = subprocess.run(
        [
            _chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--log-net-log={netlog}",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    text = netlog.read_text().rstrip()
    if not text.endswith("}"):  # the log of a browser cut off at exit
        text = text.rstrip(",") + "]}"
    urls = {
        e["params"]["url"].split("?", 1)[0]
        for e in json.loads(text)["events"]
        if isinstance(e.get("params"), dict) and isinstance(e["params"].get("url"), str)
    }
    return dumped.stdout, {u for u in urls if u.split(":", 1)[0] not in ("file", "data")}


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no chromium (make test installs Debian's)")
def test_the_html_report_renders_its_groups_in_a_real_browser_without_the_network(
    built: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    assert run("report", "--data-dir", str(built), *PLAIN, "--html", str(page)).returncode == 0
    dom, requested = _open_in_chromium(page, tmp_path / "report-profile")
    assert dom.count('class="group"') == 2  # both groups rendered by the page's script
    assert dom.count('src="report_files/t/') >= len(GARDEN_ORIENTED)
    assert "mate__Garden__crop05.jpg · d=2" in dom
    # The browser phones its own services (time, updates) whatever it opens: what an empty
    # page requests is the baseline; the report may request nothing beyond it.
    empty = tmp_path / "empty.html"
    empty.write_text("<!doctype html><title>empty</title>")
    _, baseline = _open_in_chromium(empty, tmp_path / "empty-profile")
    assert requested <= baseline, requested - baseline


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no chromium (make test installs Debian's)")
def test_a_report_through_a_server_shows_the_thumbnails_kept_of_images_added_by_the_api(
    server: RunningServer, tmp_path: Path
) -> None:
    from neardup.service.client import Client

    with Client(server.target) as client:
        client.create_collection("kept", thumbnails=True)
        for name in sorted(GARDEN_GROUP):  # by the API: no file path in their metadata
            client.add((IMAGES / name).read_bytes(), id=name, collection="kept")
        kept = client.get("mate__Garden.jpg", collection="kept").thumbnail
    assert kept.startswith(b"\xff\xd8\xff") and len(kept) < 16 * 1024  # a JPEG preview
    page = tmp_path / "report.html"
    made = run("report", "--server", server.target, "--collection", "kept", "--html", str(page))
    assert made.returncode == 0, made.stderr
    dom, _ = _open_in_chromium(page, tmp_path / "kept-profile")
    assert dom.count('class="group"') == 1
    assert dom.count('src="report_files/t/') == len(GARDEN_GROUP)
    assert "no preview</div>" not in dom
