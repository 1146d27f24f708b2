"""The default algorithm's exact bits are pinned: stored `phash` data depends on them, so a
change must be deliberate and versioned (scripts/pin_phash.py), never a side effect."""

from __future__ import annotations

import csv

import pytest
from neardup.index import hash_image

from ...conftest import FIXTURES, read_image

with (FIXTURES / "phash_pinned.csv").open(newline="") as _f:
    PINNED = [(row["file"], row["phash"]) for row in csv.DictReader(_f)]


def test_every_fixture_image_has_a_pinned_hash() -> None:
    assert sorted(name for name, _ in PINNED) == sorted(
        p.name for p in (FIXTURES / "images").iterdir()
    )


@pytest.mark.parametrize(("name", "pinned"), PINNED)
def test_phash_gives_exactly_the_pinned_bits(name: str, pinned: str) -> None:
    assert hash_image(read_image(name), "phash").fingerprint.hex == pinned, (
        f"phash of {name} moved: stored collections depend on these bits. If the change is "
        "deliberate, version the algorithm and re-pin with scripts/pin_phash.py --write"
    )
