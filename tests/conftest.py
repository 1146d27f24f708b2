"""Shared test helpers: the fixture images copied from the bench corpus, and their golden hashes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
IMAGES = FIXTURES / "images"


def read_image(name: str) -> bytes:
    """Bytes of a fixture image (see fixtures/LICENSES.md)."""
    return (IMAGES / name).read_bytes()


def golden_rows() -> list[dict[str, str]]:
    """fixtures/golden.csv: the reference hashes of every fixture image."""
    with (FIXTURES / "golden.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="session")
def garden_jpeg() -> bytes:
    """A 1600x1000 RGB JPEG photo (mate-backgrounds, GPL-2+)."""
    return read_image("mate__Garden.jpg")
