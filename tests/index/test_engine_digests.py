"""Blank pictures match nothing but themselves: every image keeps its file's content digest
(SHA-256 of the bytes), and below the quality floor a match needs the same digest, not
only the same hash (different blank pictures round to the same noise). A match whose
digests are equal says it is identical, whatever its quality. Where a digest is unknown
(images stored before digests were kept, hashes added without one), distance 0 decides as
before."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings, Fingerprint, Query
from neardup.index.errors import InvalidArgument
from neardup.index.fingerprint import content_digest, hash_image
from PIL import Image

QUIET = EngineSettings(maintenance_interval_seconds=3600)


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


WHITE_SQUARE = png((100, 100), (255, 255, 255))
WHITE_BANNER = png((120, 80), (255, 255, 255))  # another blank picture, the same noise hash
PALE_SQUARE = png((100, 100), (250, 250, 250))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine(tmp_path / "data", QUIET) as opened:
        yield opened


def add_file(engine: Engine, image_id: str, data: bytes) -> list[tuple[str, int, bool]]:
    hashes = hash_image(data, "phash", crops=True)
    result = engine.add(
        "",
        image_id,
        hashes.fingerprint,
        quality=hashes.quality,
        crops=hashes.crop_fingerprints,
        digest=hashes.digest,
    )
    return [(m.image.id, m.distance, m.identical) for m in result.duplicates]


def test_different_blank_pictures_with_the_same_hash_are_not_duplicates(engine: Engine) -> None:
    square, banner = hash_image(WHITE_SQUARE), hash_image(WHITE_BANNER)
    assert square.fingerprint == banner.fingerprint and square.quality < 5
    assert add_file(engine, "square", WHITE_SQUARE) == []
    assert add_file(engine, "banner", WHITE_BANNER) == []
    assert add_file(engine, "pale", PALE_SQUARE) == []
    searched = engine.search("", Query.of_image(banner), radius=10)
    assert [m.image.id for m in searched.matches] == ["banner"]


def test_the_same_blank_file_again_is_an_identical_duplicate(engine: Engine) -> None:
    add_file(engine, "square", WHITE_SQUARE)
    assert add_file(engine, "again", WHITE_SQUARE) == [("square", 0, True)]


def test_a_blank_hash_without_its_digest_matches_at_distance_0_as_before(engine: Engine) -> None:
    add_file(engine, "square", WHITE_SQUARE)
    blank = hash_image(WHITE_BANNER)
    result = engine.add("", "by-hash", blank.fingerprint, quality=blank.quality)
    assert [(m.image.id, m.distance, m.identical) for m in result.duplicates] == [
        ("square", 0, False)
    ]


def test_a_match_of_the_same_file_says_identical_and_a_near_copy_does_not(
    engine: Engine,
) -> None:
    picture = Image.effect_mandelbrot((160, 120), (-2.0, -1.2, 1.0, 1.2), 60).convert("RGB")
    original, resaved = io.BytesIO(), io.BytesIO()
    picture.save(original, "PNG")
    picture.save(resaved, "JPEG", quality=95)
    assert hash_image(original.getvalue()).quality >= 5
    add_file(engine, "original", original.getvalue())
    assert add_file(engine, "same", original.getvalue()) == [("original", 0, True)]
    [(found, _, identical)] = add_file(engine, "resaved", resaved.getvalue())[:1]
    assert (found, identical) == ("original", False)


def test_digests_are_kept_through_a_restart_and_checked(tmp_path: Path) -> None:
    with Engine(tmp_path / "data", QUIET) as first:
        add_file(first, "square", WHITE_SQUARE)
        with pytest.raises(InvalidArgument) as refused:
            first.add("", "bad", Fingerprint(1, "phash"), digest=b"short")
        assert refused.value.field == "digest"
        first.add_batch("", [("batched", Fingerprint(2, "phash"), {}, 80, (), None, b"\1" * 32)])
    with Engine(tmp_path / "data", QUIET) as again:
        assert again.get("", "square").digest == content_digest(WHITE_SQUARE)
        assert again.get("", "batched").digest == b"\1" * 32
        assert add_file(again, "again", WHITE_SQUARE) == [("square", 0, True)]
