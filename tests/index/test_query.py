"""A `Query` is built in one place, and each of its codes says what it is: which
orientation, which crop. A search's matches say the same, read from the code that matched."""

from __future__ import annotations

from pathlib import Path

import pytest
from neardup.index import (
    CollectionDefinition,
    Engine,
    Fingerprint,
    IndexParams,
    InvalidArgument,
    Orientation,
    Query,
    QueryCode,
    hash_image,
    query_of,
)

from ..conftest import read_image

GARDEN = read_image("mate__Garden.jpg")
MIRRORED = read_image("mate__Garden__mirror.jpg")
PLAIN = CollectionDefinition("default", "phash", 10, IndexParams())
CROPPING = CollectionDefinition("crops", "phash", 10, IndexParams(), crop_hashes=True)


def test_an_image_query_sends_its_orientations_then_each_crop_in_the_same_orientations() -> None:
    query = query_of(CROPPING, image=GARDEN, orientations=True)
    hashes = hash_image(GARDEN, orientations=True, crops=True)
    assert [(c.orientation, c.crop) for c in query.picture] == [(o, 0) for o in Orientation]
    crops = len(hashes.crops)
    assert crops >= 1
    assert [(c.orientation, c.crop) for c in query.crops] == [
        (o, crop) for crop in range(1, crops + 1) for o in Orientation
    ]
    assert query.fingerprint == hashes.fingerprint and query.quality == hashes.quality


def test_a_plain_collection_hashes_no_crops_and_a_plain_query_one_orientation() -> None:
    query = query_of(PLAIN, image=GARDEN)
    assert query.codes == (QueryCode(hash_image(GARDEN).fingerprint),)


def test_the_positional_form_reads_as_it_always_did() -> None:
    hashes = hash_image(GARDEN, orientations=True, crops=True)
    flat = [f for oriented in hashes.crops for f in oriented]
    from_image = Query.of_image(hashes, orientations=True)
    assert from_image.digest == hashes.digest  # the positional form has no digest to carry
    assert Query.of_layout(hashes.orientations, flat, hashes.quality) == from_image._replace(
        digest=None
    )


def test_a_hash_query_carries_its_quality_and_upright_crops() -> None:
    picture, crop = Fingerprint(1, "phash"), Fingerprint(2, "phash")
    query = query_of(PLAIN, fingerprint=picture, quality=40, crops=[crop])
    assert query.codes == (QueryCode(picture), QueryCode(crop, crop=1))
    assert query.quality == 40


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({}, "query"),
        ({"image": GARDEN, "image_id": "a"}, "query"),
        ({"image_id": "a", "orientations": True}, "orientations"),
    ],
)
def test_a_query_needs_exactly_one_source_and_orientations_need_an_image(
    given: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        query_of(PLAIN, **given)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_match_names_the_orientation_of_the_code_that_matched(tmp_path: Path) -> None:
    with Engine(tmp_path / "data") as engine:
        upright = hash_image(GARDEN).fingerprint
        engine.add("", "garden", upright)
        found = engine.search("", query_of(PLAIN, image=MIRRORED, orientations=True), radius=8)
        assert [(m.image.id, m.orientation) for m in found.matches] == [
            ("garden", Orientation.MIRROR)
        ]
        by_id = engine.search("", Query.of_id("garden"), radius=0)
        assert [m.image.id for m in by_id.matches] == ["garden"]
