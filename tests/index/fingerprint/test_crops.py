"""Crop hashes: `hash_image(..., crops=True)` also hashes centre crops of the picture, from
the same decode, so that a cropped copy lands near one of its original's crop hashes; the
plain hash is unchanged, the crops' orientation hashes follow from their DCTs, and the
bit-exact algorithms, whose references have no crops, refuse."""

from __future__ import annotations

import io

import pytest
from neardup.index import hash_image
from neardup.index.errors import InvalidArgument
from neardup.index.fingerprint import Orientation
from neardup.index.fingerprint.crops import CROP_KEEPS, centre_box
from PIL import Image

from ...conftest import read_image


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    names = ("mate__Garden.jpg", "mate__LadyBird.jpg", "debian__futureprototype.jpg")
    found = []
    for name in names:
        with Image.open(io.BytesIO(read_image(name))) as image:
            found.append(image.convert("RGB").resize((640, 400), Image.Resampling.LANCZOS))
    return found


def cropped(image: Image.Image, keep: float) -> Image.Image:
    return image.crop(centre_box(image.width, image.height, keep))


def test_the_plain_hash_is_the_same_with_crops_or_without(garden_jpeg: bytes) -> None:
    with_crops = hash_image(garden_jpeg, crops=True)
    assert with_crops.fingerprint == hash_image(garden_jpeg).fingerprint
    assert len(with_crops.crops) == len(CROP_KEEPS)
    assert all(len(oriented) == 1 for oriented in with_crops.crops)
    assert hash_image(garden_jpeg).crops == ()


@pytest.mark.parametrize("keep", [0.85, 0.75])
def test_a_cropped_copy_is_near_one_of_its_originals_crop_hashes(
    photos: list[Image.Image], keep: float
) -> None:
    for photo in photos:
        original = hash_image(jpeg(photo), crops=True)
        copy = hash_image(jpeg(cropped(photo, keep))).fingerprint
        nearest_crop = min(copy.distance(c) for c in original.crop_fingerprints)
        assert nearest_crop <= 10
        assert nearest_crop < copy.distance(original.fingerprint)


def test_an_originals_crop_hash_is_near_a_stored_crops_plain_hash(
    photos: list[Image.Image],
) -> None:
    photo = photos[0]
    stored_crop = hash_image(jpeg(cropped(photo, 0.8))).fingerprint
    query = hash_image(jpeg(photo), crops=True)
    assert min(stored_crop.distance(c) for c in query.crop_fingerprints) <= 6


def test_the_crops_orientation_hashes_are_the_hashes_of_the_turned_pictures_crops(
    photos: list[Image.Image],
) -> None:
    photo = photos[1]
    upright = hash_image(jpeg(photo), orientations=True, crops=True)
    turned = hash_image(jpeg(photo.transpose(Image.Transpose.ROTATE_90)), crops=True)
    for oriented, crop in zip(upright.crops, turned.crop_fingerprints, strict=True):
        assert len(oriented) == len(Orientation)
        assert oriented[Orientation.ROTATE_90].distance(crop) <= 4


@pytest.mark.parametrize("algorithm", ["imagehash-4", "phash-c"])
def test_bit_exact_algorithms_have_no_crop_hashes(garden_jpeg: bytes, algorithm: str) -> None:
    with pytest.raises(InvalidArgument, match="no crop hashes") as raised:
        hash_image(garden_jpeg, algorithm, crops=True)
    assert raised.value.field == "algorithm"


def test_a_one_pixel_image_has_crops_of_one_pixel() -> None:
    assert centre_box(1, 1, 0.8) == (0, 0, 1, 1)
    assert centre_box(3, 2, 0.5) == (1, 0, 2, 2)
    tiny = io.BytesIO()
    Image.new("RGB", (1, 1), "red").save(tiny, "PNG")
    assert len(hash_image(tiny.getvalue(), crops=True).crops) == len(CROP_KEEPS)
