"""HEIC/HEIF and AVIF pictures are hashed like the same picture as a JPEG: within a few bits,
with their rotation honoured once, refused precisely when broken, and held to the same
limits (checked from the header). The files are made at test time from a fixture photo: AVIF
by Pillow, HEIC by pillow-heif (a test dependency only: its wheels bundle the x265
encoder; the service decodes with pi-heif, which has no encoder)."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from neardup.index import hash_image
from neardup.index.errors import CorruptImage, ImageTooLarge, TruncatedImage
from neardup.index.fingerprint import DecodeLimits
from PIL import Image

from ...conftest import IMAGES

# A JPEG, AVIF and HEIC of one picture at ordinary quality differ by lossy coding only: the
# script scripts/bench/formats.py prints the distances over a whole corpus.
FEW_BITS = 4
_ORIENTATION_TAG = 0x0112


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    return Image.open(IMAGES / "mate__Garden.jpg").convert("RGB")


def encoded(picture: Image.Image, fmt: str, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[_ORIENTATION_TAG] = orientation
    out = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(picture).save(out, quality=80, exif=exif.tobytes())
    else:
        picture.save(out, fmt, quality=80, exif=exif.tobytes())
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_an_avif_or_heic_hashes_within_a_few_bits_of_the_same_picture_as_jpeg(
    picture: Image.Image, fmt: str
) -> None:
    jpeg = hash_image(encoded(picture, "JPEG")).fingerprint
    other = hash_image(encoded(picture, fmt)).fingerprint
    assert jpeg.distance(other) <= FEW_BITS


def test_an_avif_s_exif_orientation_is_applied_as_a_jpeg_s_is(picture: Image.Image) -> None:
    jpeg = hash_image(encoded(picture, "JPEG", orientation=6)).fingerprint
    avif = hash_image(encoded(picture, "AVIF", orientation=6)).fingerprint
    upright = hash_image(encoded(picture, "AVIF")).fingerprint
    assert avif.distance(jpeg) <= FEW_BITS
    assert avif.distance(upright) > 16  # rotated: another picture to pHash


def test_a_heic_s_rotation_is_applied_once(picture: Image.Image) -> None:
    """pillow-heif writes the EXIF orientation as the file's own transform (irot), which
    libheif applies on decoding and then resets the EXIF tag: no second rotation."""
    rotated_file = encoded(picture, "HEIF", orientation=6)
    shown = Image.open(io.BytesIO(rotated_file))
    assert shown.getexif().get(_ORIENTATION_TAG, 1) == 1
    expected = hash_image(encoded(shown.convert("RGB"), "JPEG")).fingerprint
    assert hash_image(rotated_file).fingerprint.distance(expected) <= FEW_BITS


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_a_truncated_or_damaged_file_is_refused_as_such(picture: Image.Image, fmt: str) -> None:
    data = encoded(picture, fmt)
    with pytest.raises((TruncatedImage, CorruptImage)):
        hash_image(data[: len(data) // 2])
    damaged = bytearray(data)
    damaged[len(data) // 3 : len(data) // 3 + 4096] = bytes(4096)
    with pytest.raises(CorruptImage):
        hash_image(bytes(damaged[:40]) + bytes(64))


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_the_pixel_limit_is_checked_from_the_header(picture: Image.Image, fmt: str) -> None:
    with pytest.raises(ImageTooLarge, match="1600x1000 = 1600000 pixels"):
        hash_image(encoded(picture, fmt), limits=DecodeLimits(max_pixels=1_000_000))
