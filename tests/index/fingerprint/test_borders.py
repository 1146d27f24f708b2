"""`phash` trims uniform borders before the DCT: a bordered, letterboxed or padded copy
hashes like its picture, while `phash-1` (the bits before the trim) and the bit-exact modes
hash the whole frame as they always did. Borders come off in opposite pairs, so a drawing on
a white ground (an icon) is not cut at some sizes and not others, as `phash-2`'s side-by-side
rule did. Borders are judged in grey: a coloured frame whose grey the picture's edge shares
over a good part of its length keeps those bars."""

from __future__ import annotations

import io

import numpy as np
import pytest
from neardup.index import hash_image
from neardup.index.fingerprint.borders import Trim, content_box
from PIL import Image, ImageOps

from ...conftest import FIXTURES, read_image


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


@pytest.mark.parametrize("colour", ["white", "black", "#f0e0a0"])
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


TEXTURE = (np.arange(100 * 160).reshape(100, 160) % 251).astype(np.uint8)


def test_a_frame_comes_off_with_the_line_where_it_blends_into_the_picture() -> None:
    framed = np.pad(TEXTURE, 10, constant_values=255)
    assert content_box(framed) == (11, 11, 169, 109)


def test_a_frame_around_a_picture_on_a_ground_of_its_colour_is_kept_whole() -> None:
    # The frame and the picture's own white margin are one ground: as for an object on
    # white, there is no telling where a border would end, so nothing comes off.
    on_white = np.pad(np.pad(TEXTURE, 8, constant_values=255), 10, constant_values=255)
    assert content_box(on_white) == (0, 0, 196, 136)
    assert content_box(on_white, Trim.EACH_SIDE) == (19, 19, 177, 117)  # phash-2 cut it


def resized_jpeg(data: bytes, side: int) -> bytes:
    """The picture on white, scaled to `side` px and saved as a JPEG, as a site would."""
    with Image.open(io.BytesIO(data)) as image:
        picture = image.convert("RGBA")
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    on_white = Image.new("RGBA", picture.size, "white")
    on_white.alpha_composite(picture)
    return jpeg(on_white, quality=80)


@pytest.mark.parametrize(
    "name", ["adwaita__text-x-generic.png", "adwaita__x-office-spreadsheet.png"]
)
def test_a_drawing_on_a_white_ground_hashes_alike_at_every_size(name: str) -> None:
    icon = (FIXTURES / "icons" / name).read_bytes()
    sizes = (400, 256, 150, 90)
    assert max(distance(icon, resized_jpeg(icon, side)) for side in sizes) <= 4
    # the rule it replaces cut the page's white sides at some sizes only
    assert max(distance(icon, resized_jpeg(icon, side), "phash-2") for side in sizes) >= 16
