"""`phash` trims uniform borders before the DCT: a bordered, letterboxed or padded copy
hashes like its picture, while `phash-1` (the bits before the trim) and the bit-exact modes
hash the whole frame as they always did."""

from __future__ import annotations

import io

import numpy as np
import pytest
from neardup.index import hash_image
from neardup.index.fingerprint.borders import content_box
from PIL import Image, ImageOps

from ...conftest import read_image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture(scope="module")
def picture() -> Image.Image:
    """A 512 px photo, as the bench corpus makes its variants from."""
    with Image.open(io.BytesIO(read_image("mate__Garden.jpg"))) as image:
        return image.convert("RGB").resize((512, 320), Image.Resampling.LANCZOS)


def distance(a: bytes, b: bytes, algorithm: str = "phash") -> int:
    return hash_image(a, algorithm).fingerprint.distance(hash_image(b, algorithm).fingerprint)


def letterboxed(picture: Image.Image, bar_share: float, colour: str) -> Image.Image:
    """The picture scaled into a taller canvas with bars above and below."""
    bar = int(picture.height * bar_share)
    canvas = Image.new("RGB", (picture.width, picture.height + 2 * bar), colour)
    canvas.paste(picture, (0, bar))
    return canvas


@pytest.mark.parametrize("colour", ["white", "black", "#3a6ea5"])
def test_a_uniform_frame_around_a_picture_is_trimmed(picture: Image.Image, colour: str) -> None:
    framed = ImageOps.expand(picture, border=(26, 16), fill=colour)
    assert distance(jpeg(picture), jpeg(framed)) <= 4
    assert distance(jpeg(picture), jpeg(framed), "phash-1") >= 12


@pytest.mark.parametrize("bar_share", [0.06, 0.15])
def test_letterbox_bars_are_trimmed(picture: Image.Image, bar_share: float) -> None:
    boxed = letterboxed(picture, bar_share, "black")
    assert distance(jpeg(picture), jpeg(boxed)) <= 4


def test_pillarbox_bars_survive_heavy_jpeg_noise(picture: Image.Image) -> None:
    boxed = letterboxed(picture.transpose(Image.Transpose.ROTATE_90), 0.12, "black")
    upright = boxed.transpose(Image.Transpose.ROTATE_270)
    assert distance(jpeg(picture), jpeg(upright, quality=30)) <= 6


def test_the_bit_exact_modes_hash_the_whole_frame(picture: Image.Image) -> None:
    framed = jpeg(ImageOps.expand(picture, border=26, fill="white"))
    for algorithm in ("imagehash-4", "phash-c"):
        assert distance(jpeg(picture), framed, algorithm) >= 8


def test_a_blank_image_keeps_its_whole_frame() -> None:
    blank = np.full((120, 200), 200, dtype=np.uint8)
    assert content_box(blank) == (0, 0, 200, 120)


def test_a_smooth_gradient_such_as_a_sky_is_not_trimmed() -> None:
    rows = np.linspace(40, 220, 300)
    sky = np.repeat(rows[:, None], 400, axis=1).astype(np.uint8)
    sky[200:, :] = (np.arange(400) % 7 * 30)[None, :]  # a textured ground below it
    assert content_box(sky) == (0, 0, 400, 300)


def test_a_frame_comes_off_with_the_pictures_own_margin_of_the_same_colour() -> None:
    picture = (np.arange(100 * 160).reshape(100, 160) % 251).astype(np.uint8)
    on_white = np.pad(picture, 8, constant_values=255)
    framed = np.pad(on_white, 10, constant_values=255)
    # each side also loses the line where border and picture blend
    assert content_box(framed) == (19, 19, 177, 117)
    assert content_box(on_white) == (9, 9, 167, 107)
