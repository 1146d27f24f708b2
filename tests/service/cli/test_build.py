"""`neardup build` over real folders, list files and stdin, as a real subprocess: what it
indexes, what it skips quietly, what it reports, and how a re-run resumes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from neardup.index import Engine
from neardup.v1 import neardup_pb2 as pb

from ...conftest import IMAGES
from ..conftest import RunningServer
from .test_hash import run

GARDEN = IMAGES / "mate__Garden.jpg"
HORSE = IMAGES / "skimage__horse.png"


def stored(data: Path) -> dict[str, str]:
    """id -> hash hex of the default collection."""
    with Engine(data) as engine:
        return {i.id: i.fingerprint.hex for i in engine.list_images("", limit=1000)}


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    source = tmp_path / "photos"
    (source / "trip").mkdir(parents=True)
    shutil.copy(GARDEN, source / "trip" / "garden.jpg")
    shutil.copy(HORSE, source / "horse.png")
    return source


def test_files_that_are_not_images_are_counted_and_skipped_quietly(
    photos: Path, tmp_path: Path
) -> None:
    (photos / "README.md").write_text("# my photos\n")
    (photos / "manifest.csv").write_text("file,licence\nhorse.png,CC0\n")
    (photos / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(200))
    (photos / "trip" / "garden.xmp").write_text('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>')
    result = run("build", str(photos), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "2 added, 0 updated, 0 already stored, 4 not images, 0 failed" in result.stderr
    assert "README" not in result.stderr
    assert set(stored(tmp_path / "data")) == {"trip/garden.jpg", "horse.png"}


def test_a_broken_image_is_recorded_with_its_reason_and_the_others_are_indexed(
    photos: Path, tmp_path: Path
) -> None:
    (photos / "torn.jpg").write_bytes(GARDEN.read_bytes()[:2000])
    errors = tmp_path / "errors.tsv"
    result = run(
        "build", str(photos), "--data-dir", str(tmp_path / "data"), "--errors", str(errors)
    )
    assert result.returncode == 1
    assert f"failures listed in {errors}" in result.stderr
    [line] = errors.read_text().splitlines()
    path, reason = line.split("\t")
    assert path.endswith("torn.jpg") and "ends early" in reason
    assert set(stored(tmp_path / "data")) == {"trip/garden.jpg", "horse.png"}


def test_symlinked_folders_are_followed_and_a_link_back_up_does_not_loop(
    photos: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(IMAGES / "skimage__color.png", elsewhere / "color.png")
    (photos / "linked").symlink_to(elsewhere, target_is_directory=True)
    (photos / "trip" / "loop").symlink_to(photos, target_is_directory=True)
    result = run("build", str(photos), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert set(stored(tmp_path / "data")) == {"trip/garden.jpg", "horse.png", "linked/color.png"}


def test_two_sources_in_one_call_kept_apart_by_their_prefix(photos: Path, tmp_path: Path) -> None:
    other = tmp_path / "scans"
    other.mkdir()
    shutil.copy(GARDEN, other / "garden.jpg")
    data = str(tmp_path / "data")
    assert run("build", str(photos), str(other), "--data-dir", data).returncode == 0
    assert set(stored(tmp_path / "data")) == {"trip/garden.jpg", "horse.png", "garden.jpg"}
    result = run("build", str(other), "--id-prefix", "scans/", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert "scans/garden.jpg" in stored(tmp_path / "data")


def test_a_list_on_stdin_gives_paths_or_ids_and_paths(tmp_path: Path) -> None:
    listing = f"{GARDEN}\nhorse-id\t{HORSE}\n\n"
    result = run("build", "-", "--data-dir", str(tmp_path / "data"), stdin=listing)
    assert result.returncode == 0, result.stderr
    assert set(stored(tmp_path / "data")) == {str(GARDEN), "horse-id"}


def test_a_list_file_s_relative_paths_are_relative_to_it(photos: Path, tmp_path: Path) -> None:
    (photos / "list.txt").write_text("trip/garden.jpg\nmy-horse\thorse.png\n")
    result = run("build", str(photos / "list.txt"), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert set(stored(tmp_path / "data")) == {"trip/garden.jpg", "my-horse"}


def test_a_re_run_skips_stored_ids_without_reading_their_files(
    photos: Path, tmp_path: Path
) -> None:
    data = str(tmp_path / "data")
    assert run("build", str(photos), "--data-dir", data).returncode == 0
    before = stored(tmp_path / "data")
    # Were a stored file read again, this would now be a failure.
    (photos / "horse.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = run("build", str(photos), "--data-dir", data)
    assert result.returncode == 0, result.stderr
    assert "0 added, 0 updated, 2 already stored, 0 not images, 0 failed" in result.stderr
    assert stored(tmp_path / "data") == before


def test_a_source_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = run("build", str(tmp_path / "nowhere"), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "no such folder or list file" in result.stderr


def test_without_a_terminal_progress_comes_as_log_lines_and_a_summary(
    photos: Path, tmp_path: Path
) -> None:
    result = run("build", str(photos), "--data-dir", str(tmp_path / "data"))
    assert "\r" not in result.stderr  # no bar drawn into a log
    assert result.stderr.strip().splitlines()[-1].startswith("neardup: 'default': 2 added")


@pytest.mark.slow
def test_a_build_killed_at_random_moments_and_re_run_ends_as_an_uninterrupted_one(
    tmp_path: Path,
) -> None:
    import random
    import signal
    import subprocess
    import time

    from .test_hash import NEARDUP

    library = tmp_path / "library"
    for i in range(12):  # ~260 files: a build takes a second or two here
        folder = library / f"part{i:02d}"
        folder.mkdir(parents=True)
        for image in IMAGES.iterdir():
            shutil.copy(image, folder / image.name)
    reference = tmp_path / "reference"
    assert run("build", str(library), "--data-dir", str(reference)).returncode == 0

    data = tmp_path / "data"
    rng = random.Random(20261201)
    kills = 0
    for _ in range(30):
        build = subprocess.Popen(
            [NEARDUP, "build", str(library), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.0, 1.5))
        if build.poll() is None and kills < 8:
            build.send_signal(signal.SIGKILL)
            kills += 1
        _, stderr = build.communicate(timeout=120)
        if build.returncode == 0:
            break
        assert build.returncode == -signal.SIGKILL, stderr
    assert build.returncode == 0, "the re-runs never completed the build"
    assert kills >= 1
    assert stored(data) == stored(reference)


def test_update_re_hashes_only_the_files_that_changed(photos: Path, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run("build", str(photos), "--data-dir", data).returncode == 0
    before = stored(tmp_path / "data")
    shutil.copy(IMAGES / "skimage__color.png", photos / "horse.png")  # a new picture
    plain = run("build", str(photos), "--data-dir", data)
    assert "0 added, 0 updated, 2 already stored" in plain.stderr  # resume trusts the store
    updated = run("build", str(photos), "--data-dir", data, "--update")
    assert updated.returncode == 0, updated.stderr
    assert "0 added, 1 updated, 1 already stored" in updated.stderr
    after = stored(tmp_path / "data")
    assert after["trip/garden.jpg"] == before["trip/garden.jpg"]
    assert after["horse.png"] != before["horse.png"]


def test_each_image_records_where_it_came_from_and_its_size_and_format(
    photos: Path, tmp_path: Path
) -> None:
    assert run("build", str(photos), "--data-dir", str(tmp_path / "data")).returncode == 0
    with Engine(tmp_path / "data") as engine:
        garden = engine.get("", "trip/garden.jpg").metadata
    assert garden["path"] == str((photos / "trip" / "garden.jpg").absolute())
    assert (garden["width"], garden["height"], garden["format"]) == ("1600", "1000", "JPEG")
    assert garden["bytes"] == str((photos / "trip" / "garden.jpg").stat().st_size)


def test_a_build_into_a_running_server_resumes_and_matches_an_offline_build(
    server: RunningServer, photos: Path, tmp_path: Path
) -> None:
    from neardup.service.client import Client

    (photos / "README.md").write_text("not an image")
    (photos / "torn.jpg").write_bytes(GARDEN.read_bytes()[:2000])
    errors = tmp_path / "errors.tsv"
    online = ["build", str(photos), "--server", server.target, "--collection", "online"]
    first = run(*online, "--errors", str(errors))
    assert first.returncode == 1, first.stderr
    assert "2 added, 0 updated, 0 already stored, 1 not images, 1 failed" in first.stderr
    assert "torn.jpg" in errors.read_text()
    (photos / "torn.jpg").unlink()
    (photos / "horse.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")  # stored: not read again
    again = run(*online, "--errors", str(errors))
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 updated, 2 already stored" in again.stderr

    offline = tmp_path / "offline"
    shutil.copy(HORSE, photos / "horse.png")
    assert run("build", str(photos), "--data-dir", str(offline)).returncode == 0
    with Client(server.target) as client:
        listed = client.call("List", pb.ListRequest(collection="online", include_metadata=True))
    assert {i.id: i.hash.hex for i in listed.images} == stored(offline)
    assert {i.metadata["format"] for i in listed.images} == {"JPEG", "PNG"}


@pytest.mark.slow
def test_a_build_hashed_on_a_dask_local_cluster_stores_what_a_local_build_stores(
    tmp_path: Path,
) -> None:
    pytest.importorskip("distributed", reason="Dask's distributed is not installed")
    on_dask, here = tmp_path / "dask", tmp_path / "here"
    (tmp_path / "lib").mkdir()
    for image in sorted(IMAGES.iterdir())[:12]:
        shutil.copy(image, tmp_path / "lib" / image.name)
    (tmp_path / "lib" / "notes.txt").write_text("not an image")
    (tmp_path / "lib" / "torn.jpg").write_bytes(GARDEN.read_bytes()[:3000])
    built = run("build", str(tmp_path / "lib"), "--data-dir", str(on_dask), "--dask", "local")
    assert built.returncode == 1, built.stderr  # torn.jpg
    assert "12 added, 0 updated, 0 already stored, 1 not images, 1 failed" in built.stderr
    assert run("build", str(tmp_path / "lib"), "--data-dir", str(here)).returncode == 1
    assert stored(on_dask) == stored(here)
    with Engine(on_dask) as a, Engine(here) as b:
        assert {i.id: i.metadata for i in a.list_images("", limit=100)} == {
            i.id: i.metadata for i in b.list_images("", limit=100)
        }
    again = run("build", str(tmp_path / "lib"), "--data-dir", str(on_dask), "--dask", "local")
    assert "0 added, 0 updated, 12 already stored" in again.stderr  # resumes


def test_index_kind_is_set_when_the_build_creates_the_collection_and_checked_after(
    server: RunningServer, photos: Path, tmp_path: Path
) -> None:
    from neardup.service.client import Client

    data = str(tmp_path / "data")
    made = run(
        "build", str(photos), "--data-dir", data, "--collection", "c", "--index-kind", "tables"
    )
    assert made.returncode == 0, made.stderr
    with Engine(tmp_path / "data") as engine:
        assert engine.collection("c").params.kind == "tables"
    other = run(
        "build", str(photos), "--data-dir", data, "--collection", "c", "--index-kind", "hnsw"
    )
    assert other.returncode == 2
    assert "has index kind 'tables', not 'hnsw'" in other.stderr
    remote = ["build", str(photos), "--server", server.target, "--collection", "compact"]
    assert run(*remote, "--index-kind", "tables").returncode == 0
    with Client(server.target) as client:
        assert client.stats("compact").collection.index.kind == "tables"
