"""The default algorithm's exact bits are pinned: stored `phash` data depends on them, so a
change must be deliberate and versioned (scripts/tools/pin_phash.py), never a side effect. The
bits before the border trim (`phash-1`) and of its first rule (`phash-2`) are pinned too:
collections made before go on hashing exactly as they did."""

from __future__ import annotations

import csv

import pytest
from neardup.index import hash_image

from ...conftest import FIXTURES, read_image

ALGORITHMS = ("phash", "phash-2", "phash-1")
with (FIXTURES / "phash_pinned.csv").open(newline="") as _f:
    ROWS = list(csv.DictReader(_f))
PINNED = [(row["file"], algorithm, row[algorithm]) for row in ROWS for algorithm in ALGORITHMS]


def test_every_fixture_image_has_a_pinned_hash() -> None:
    assert sorted(row["file"] for row in ROWS) == sorted(
        p.name for p in (FIXTURES / "images").iterdir()
    )


@pytest.mark.parametrize(("name", "algorithm", "pinned"), PINNED)
def test_phash_gives_exactly_the_pinned_bits(name: str, algorithm: str, pinned: str) -> None:
    assert hash_image(read_image(name), algorithm).fingerprint.hex == pinned, (
        f"{algorithm} of {name} moved: stored collections depend on these bits. If the change "
        "is deliberate, version the algorithm and re-pin with scripts/tools/pin_phash.py --write"
    )


def test_phash_and_its_older_versions_agree_on_every_fixture_without_a_border() -> None:
    # No fixture has a uniform border (test_borders.py makes them), so no trim moves one.
    assert [
        row["file"] for row in ROWS if not row["phash"] == row["phash-2"] == row["phash-1"]
    ] == []
