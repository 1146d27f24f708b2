"""The default algorithm's exact bits are pinned: stored `phash` data depends on them, so a
change must be deliberate and versioned (scripts/pin_phash.py), never a side effect. The
bits before the border trim are pinned too, as `phash-1`: collections made before it go on
hashing exactly as they did."""

from __future__ import annotations

import csv

import pytest
from neardup.index import hash_image

from ...conftest import FIXTURES, read_image

ALGORITHMS = ("phash", "phash-1")
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
        "is deliberate, version the algorithm and re-pin with scripts/pin_phash.py --write"
    )


def test_phash_and_phash_1_agree_on_every_fixture_without_a_border() -> None:
    # No fixture has a uniform border (test_borders.py makes them), so the trim moves none.
    assert [row["file"] for row in ROWS if row["phash"] != row["phash-1"]] == []
