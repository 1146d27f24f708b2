"""A data dir the previous release wrote (`fixtures/release-5.tar.gz`, made by
`fixtures/make_release_data_dir.py` at that release) opens in this one with every
collection's settings, images, hashes and crop hashes unchanged and searchable, while a
collection created now gets today's defaults."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint

FIXTURES = Path(__file__).parent / "fixtures"
QUIET = EngineSettings(maintenance_interval_seconds=3600)


@pytest.fixture
def release_data_dir(tmp_path: Path) -> tuple[Path, dict]:
    with tarfile.open(FIXTURES / "release-5.tar.gz") as archive:
        archive.extractall(tmp_path / "data", filter="data")
    expected = json.loads((tmp_path / "data" / "expected.json").read_text())
    return tmp_path / "data", expected


def test_every_collection_of_the_previous_release_keeps_its_settings_and_images(
    release_data_dir: tuple[Path, dict],
) -> None:
    data_dir, expected = release_data_dir
    for _ in range(2):  # the upgrade, then a start from what it left
        with Engine(data_dir, QUIET) as engine:
            infos = {info.name: info for info in engine.collections()}
            assert set(infos) == set(expected)
            for name, want in expected.items():
                info = infos[name]
                got = {
                    "radius": info.default_radius,
                    "crop_hashes": info.crop_hashes,
                    "thumbnails": info.thumbnails,
                    "orientations": info.orientations,
                    "min_quality": info.min_quality,
                    "kind": info.params.kind,
                    "count": info.image_count,
                }
                assert got == {k: v for k, v in want.items() if k != "images"}, name
                stored = [
                    [
                        i.id,
                        f"{i.fingerprint.value:016x}",
                        [f"{c.value:016x}" for c in i.crops],
                        i.quality,
                        dict(i.metadata),
                    ]
                    for i in engine.list_images(name, limit=1000)
                ]
                assert stored == want["images"], name
                for image_id, code, crops, _, _ in want["images"]:
                    for searched in [code, *crops]:
                        found = engine.search(
                            name, [Fingerprint(int(searched, 16), info.algorithm)], radius=0
                        )
                        assert image_id in [m.image.id for m in found.matches], (name, searched)


def test_a_collection_created_after_the_upgrade_gets_todays_defaults(
    release_data_dir: tuple[Path, dict], tmp_path: Path
) -> None:
    data_dir, _ = release_data_dir
    with Engine(tmp_path / "fresh", QUIET) as fresh:
        today = fresh.create_collection("new")
    with Engine(data_dir, QUIET) as engine:
        created = engine.create_collection("new")
    for field in ("algorithm", "default_radius", "crop_hashes", "orientations", "thumbnails"):
        assert getattr(created, field) == getattr(today, field), field
    assert created.min_quality == today.min_quality
