"""`phash` hashes what a viewer sees: upright, on white, at full dynamic range, frame 0.

Where ImageHash (`imagehash-4`) hashes the raw file as opened, the canonical algorithm
applies EXIF orientation, composites alpha on white, scales 16-bit samples, and still lands
in ImageHash's hash space (within 2 bits on photos).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from neardup.index import Fingerprint, hash_image
from PIL import Image, ImageOps

from ...conftest import golden_rows, read_image


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def phash(data: bytes) -> Fingerprint:
    return hash_image(data, "phash").fingerprint


@pytest.fixture(scope="module")
def upright() -> Image.Image:
    with Image.open(io.BytesIO(read_image("mate__Garden.jpg"))) as im:
        return im.convert("RGB").resize((640, 400), Image.Resampling.LANCZOS)


# EXIF tag -> the Pillow transpose a viewer applies; we store the inverse so the viewer's
# picture is `upright`.
_DISPLAY_OP = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
}


@pytest.mark.parametrize("tag", sorted(_DISPLAY_OP))
def test_exif_orientation_is_applied_so_a_tagged_file_hashes_like_the_upright_picture(
    upright: Image.Image, tag: int
) -> None:
    op = _DISPLAY_OP[tag]
    stored = upright.transpose(_INVERSE.get(op, op))
    exif = Image.Exif()
    exif[0x0112] = tag
    tagged = encode(stored, "JPEG", quality=95, exif=exif)
    assert ImageOps.exif_transpose(Image.open(io.BytesIO(tagged))).size == upright.size
    reference = phash(encode(upright, "JPEG", quality=95))
    assert phash(tagged) - reference <= 2
    # ImageHash ignores the tag: it hashes the stored pixels, a different picture.
    raw = hash_image(tagged, "imagehash-4").fingerprint.value
    assert Fingerprint(raw, "phash") - reference > 10


def test_alpha_is_composited_on_white_so_hidden_colours_do_not_count(upright: Image.Image) -> None:
    rng = np.random.default_rng(7)
    rgba = np.dstack([np.asarray(upright), np.full(upright.size[::-1], 255, np.uint8)])
    rgba[:, :200, 3] = 0  # the left third transparent...
    rgba[:, :200, :3] = rng.integers(0, 256, (400, 200, 3), dtype=np.uint8)  # ...over noise
    with_alpha = encode(Image.fromarray(rgba, "RGBA"), "PNG")
    flattened = upright.copy()
    flattened.paste((255, 255, 255), (0, 0, 200, 400))
    on_white = encode(flattened, "PNG")
    assert phash(with_alpha) - phash(on_white) <= 1
    assert (
        hash_image(with_alpha, "imagehash-4").fingerprint
        - hash_image(on_white, "imagehash-4").fingerprint
        > 4
    )


def test_sixteen_bit_gray_is_scaled_not_clipped(upright: Image.Image) -> None:
    gray8 = np.asarray(upright.convert("L"))
    gray16 = Image.fromarray(gray8.astype(np.uint16) * 257)
    assert gray16.mode == "I;16"
    sixteen_bit = encode(gray16, "PNG")
    assert Image.open(io.BytesIO(sixteen_bit)).mode == "I;16"
    assert phash(sixteen_bit) == phash(encode(Image.fromarray(gray8), "PNG"))
    # ImageHash clips 16-bit samples at 255: an all-white picture, the flat-image hash.
    assert hash_image(sixteen_bit, "imagehash-4").fingerprint.hex == "8000000000000000"


def test_a_cmyk_jpeg_hashes_like_its_rgb_picture() -> None:
    cmyk = read_image("mate__LadyBird.jpg")
    assert Image.open(io.BytesIO(cmyk)).mode == "CMYK"
    golden = next(r for r in golden_rows() if r["file"] == "mate__LadyBird.jpg")
    assert phash(cmyk) - Fingerprint.from_hex(golden["imagehash_phash"], "phash") <= 2
    rgb = Image.open(io.BytesIO(cmyk)).convert("RGB")
    assert phash(cmyk) - phash(encode(rgb, "PNG")) <= 2


def test_an_animated_gif_is_hashed_by_its_first_frame(upright: Image.Image) -> None:
    first = upright.convert("P", palette=Image.Palette.ADAPTIVE)
    second = upright.transpose(Image.Transpose.ROTATE_180).convert(
        "P", palette=Image.Palette.ADAPTIVE
    )
    animated = encode(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    assert Image.open(io.BytesIO(animated)).n_frames == 2
    assert phash(animated) == phash(encode(first, "GIF"))
    assert phash(animated) - phash(encode(second, "GIF")) > 10


def test_a_one_pixel_image_hashes_as_a_flat_image() -> None:
    # A constant picture has no AC energy: only the DC bit is above the median.
    for mode, colour in (("RGB", (10, 200, 30)), ("L", 128), ("RGBA", (0, 0, 0, 0))):
        assert phash(encode(Image.new(mode, (1, 1), colour), "PNG")).hex == "8000000000000000"


# Opaque originals: ImageHash ignores alpha, so it sees another picture where there is some;
# debian__joy is the corpus's near-tie image (half its coefficients sit at the median).
OPAQUE_ORIGINALS = [
    r
    for r in golden_rows()
    if r["transform"] == "none"
    and r["mode"] not in ("RGBA", "P")
    and r["file"] != "debian__joy.jpg"
]


@pytest.mark.parametrize("row", OPAQUE_ORIGINALS, ids=lambda r: r["file"])
def test_phash_stays_within_two_bits_of_imagehash_on_opaque_photos(row: dict[str, str]) -> None:
    data = read_image(row["file"])
    assert phash(data) - Fingerprint.from_hex(row["imagehash_phash"], "phash") <= 2


def test_the_canonical_hash_lives_in_imagehash_s_space_so_edits_stay_close(
    garden_jpeg: bytes,
) -> None:
    base = phash(garden_jpeg)
    for edit in ("png", "jpeg30"):
        assert (
            phash(read_image(f"mate__Garden__{edit}.{'png' if edit == 'png' else 'jpg'}")) - base
            <= 2
        )
    assert phash(read_image("mate__Garden__mirror.jpg")) - base > 20


@pytest.mark.parametrize(("mode", "scale"), [("I", 257.0), ("F", 1 / 255.0)])
def test_wide_sample_formats_hash_like_their_eight_bit_picture(
    upright: Image.Image, mode: str, scale: float
) -> None:
    # 32-bit integer TIFFs holding 16-bit data, and float TIFFs in 0..1, as scanners write them.
    gray8 = np.asarray(upright.convert("L"))
    dtype = np.int32 if mode == "I" else np.float32
    wide = Image.fromarray((gray8.astype(np.float64) * scale).astype(dtype), mode)
    data = encode(wide, "TIFF")
    assert Image.open(io.BytesIO(data)).mode == mode
    assert phash(data) - phash(encode(Image.fromarray(gray8), "PNG")) <= 1
