"""The 8 orientation hashes: derived from one DCT, equal to hashing the transformed pixels,
and they find mirrored and rotated copies that the plain hash misses."""

from __future__ import annotations

import io

import numpy as np
import pytest
from neardup.index import Orientation, hash_image
from neardup.index.fingerprint.orientations import orient_dct, orient_pixels
from PIL import Image
from scipy import fftpack

from ...conftest import read_image

ALGORITHMS = ["phash", "imagehash-4", "phash-c"]

# What each orientation is, in Pillow's terms (mirror first, then rotate counter-clockwise).
PILLOW = {
    Orientation.IDENTITY: [],
    Orientation.ROTATE_90: [Image.Transpose.ROTATE_90],
    Orientation.ROTATE_180: [Image.Transpose.ROTATE_180],
    Orientation.ROTATE_270: [Image.Transpose.ROTATE_270],
    Orientation.MIRROR: [Image.Transpose.FLIP_LEFT_RIGHT],
    Orientation.MIRROR_ROTATE_90: [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_90],
    Orientation.MIRROR_ROTATE_180: [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_180],
    Orientation.MIRROR_ROTATE_270: [Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.ROTATE_270],
}


def pillow_orient(image: Image.Image, orientation: Orientation) -> Image.Image:
    for op in PILLOW[orientation]:
        image = image.transpose(op)
    return image


@pytest.mark.parametrize("orientation", list(Orientation))
def test_orient_pixels_matches_pillow_s_transposes(orientation: Orientation) -> None:
    square = np.arange(36, dtype=np.uint8).reshape(6, 6)
    expected = np.asarray(pillow_orient(Image.fromarray(square), orientation))
    assert np.array_equal(orient_pixels(square, orientation), expected)


@pytest.mark.parametrize("orientation", list(Orientation))
def test_the_dct_of_oriented_pixels_is_the_oriented_dct(orientation: Orientation) -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (32, 32)).astype(np.float64)
    dct = fftpack.dct(fftpack.dct(pixels, axis=0), axis=1)
    oriented = np.ascontiguousarray(orient_pixels(pixels, orientation))
    direct = fftpack.dct(fftpack.dct(oriented, axis=0), axis=1)
    assert np.allclose(orient_dct(dct, orientation), direct, atol=1e-8)


@pytest.mark.parametrize("algorithm", ["phash", "imagehash-4"])
def test_orientation_hashes_are_the_hashes_of_transformed_photos_within_resize_rounding(
    algorithm: str,
) -> None:
    # Exact up to Pillow's two resize passes rounding in the other order for transposes.
    for name in ("mate__Garden.jpg", "sklearn__china.bmp"):
        square = _square(name)
        derived = hash_image(_png(square), algorithm, orientations=True).orientations
        assert len(derived) == 8
        for orientation in Orientation:
            direct = hash_image(_png(pillow_orient(square, orientation)), algorithm).fingerprint
            assert derived[orientation] - direct <= 2, (name, orientation.name)


def test_phash_c_orientation_hashes_are_exactly_the_c_hashes_of_transformed_images() -> None:
    for name in ("mate__Garden.jpg", "sklearn__china.bmp"):
        image = _square(name).resize((300, 200))  # not square: rotations swap the grid too
        derived = hash_image(_png(image), "phash-c", orientations=True).orientations
        for orientation in Orientation:
            direct = hash_image(_png(pillow_orient(image, orientation)), "phash-c").fingerprint
            assert derived[orientation] == direct, (name, orientation.name)


def test_element_zero_is_the_plain_hash(garden_jpeg: bytes) -> None:
    result = hash_image(garden_jpeg, orientations=True)
    assert result.orientations[Orientation.IDENTITY] == result.fingerprint


def test_no_orientation_hashes_unless_asked(garden_jpeg: bytes) -> None:
    assert hash_image(garden_jpeg).orientations == ()


@pytest.mark.parametrize(
    ("variant", "orientation"), [("mirror", Orientation.MIRROR), ("rot90", Orientation.ROTATE_90)]
)
def test_a_mirrored_or_rotated_copy_is_found_by_the_matching_orientation(
    garden_jpeg: bytes, variant: str, orientation: Orientation
) -> None:
    hashes = hash_image(garden_jpeg, orientations=True)
    copy = hash_image(read_image(f"mate__Garden__{variant}.jpg")).fingerprint
    assert hashes.fingerprint - copy > 20  # the plain hash does not survive it
    distances = [h - copy for h in hashes.orientations]
    assert distances[orientation] <= 2
    assert min(distances) == distances[orientation]


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _square(name: str) -> Image.Image:
    with Image.open(io.BytesIO(read_image(name))) as im:
        return im.convert("RGB").resize((256, 256), Image.Resampling.LANCZOS)
