"""ImageHash's pHash maths, and the two pixel paths that feed it.

Both `phash` and `imagehash-4` reduce an image to 32x32 gray pixels, take the unnormalised
2-D DCT-II and set one bit per coefficient of the low 8x8 block (DC included) that lies
strictly above the block's median, first coefficient most significant
(shared/golden/README.md, "Algorithm 1"). They differ only in how the 32x32 pixels are made:

- `imagehash-4`: the image as opened (frame 0, no EXIF orientation, alpha ignored, 16-bit
  clipped by Pillow's `convert("L")`), Lanczos from full size: bit-exact with ImageHash 4.3.x.
- `phash` (canonical): EXIF orientation applied, alpha composited on white, 16-bit scaled
  rather than clipped, and JPEGs decoded in the DCT domain at 1/2..1/8 scale (Pillow
  `draft`, keeping >= DRAFT_MIN_SIDE px a side) before the Lanczos: several times faster
  than ImageHash on typical uploads (scripts/bench/hash.py), within 2 bits of it on photos
  (scripts/tools/check_golden.py).
  Uniform borders (letterbox bars, frames, padding) are trimmed before the Lanczos.
- `phash-2` and `phash-1`: the same with the border trim's first rule (`borders.Trim`) and
  without a trim: `phash` as collections of data-dir schemas 2-3 and 1 computed it, kept
  so that collections hashed before go on comparing like with like.

The DCT is scipy's FFT-based `fftpack.dct`, as in ImageHash: a matrix-product DCT leaves
1e-12 noise where symmetric images have exact zeros, and flips those bits.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import fftpack

from .borders import Trim, picture_box
from .crops import centre_box
from .decode import load
from .orientations import EXIF_ORIENTATION, Orientation, orient_pixels
from .reduction import Reduction

__all__ = [
    "canonical_crop_reductions",
    "canonical_reduction",
    "imagehash_bits",
    "imagehash_reduction",
]

SIDE = 32  # ImageHash: hash_size 8 x highfreq_factor 4
BLOCK = 8  # hash_size
# Measured on 1024 px uploads (scripts/bench/hash.py): keeping 128 px decodes them at 1/4
# scale, 1.55x the 1/8-scale decode floor; keeping 64 px decodes at 1/8, 1.3x the floor. The
# price: on the JPEG originals of bench/, 95.7% (not 97.8%) within 2 bits of ImageHash.
DRAFT_MIN_SIDE = 64
_EXIF_ORIENTATION_TAG = 0x0112
_HIGH_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")


def _reduction(small: npt.NDArray[np.generic]) -> Reduction:
    gray = np.ascontiguousarray(small, dtype=np.float64)
    return Reduction(gray, _dct2(np.ascontiguousarray(small)))


def _dct2(pixels: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    result: npt.NDArray[np.float64] = fftpack.dct(fftpack.dct(pixels, axis=0), axis=1)
    return result


def imagehash_bits(coefficients: npt.NDArray[np.float64]) -> int:
    """The 64-bit hash of a 32x32 DCT: low 8x8 block > its median, row-major, MSB first."""
    low = coefficients[:BLOCK, :BLOCK]
    ranked = np.sort(low, axis=None)
    median = (ranked[31] + ranked[32]) / 2  # np.median's value, at a tenth of its overhead
    above = (low > median).ravel()
    return int.from_bytes(np.packbits(above).tobytes(), "big")


def imagehash_reduction(image: Image.Image) -> Reduction:
    """The 32x32 pixels and DCT of the image exactly as ImageHash 4.3.x `phash` makes them."""
    load(image)
    small = image.convert("L").resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    return _reduction(np.asarray(small))


def _exif_orientation(image: Image.Image) -> Orientation:
    try:
        tag = image.getexif().get(_EXIF_ORIENTATION_TAG, 1)
    except Exception:  # a broken EXIF block must not fail the hash: it is only metadata
        return Orientation.IDENTITY
    return EXIF_ORIENTATION.get(tag, Orientation.IDENTITY)


def _canonical_gray(image: Image.Image) -> Image.Image:
    """Any mode to 8-bit gray: alpha on white, high bit depths scaled, not clipped."""
    if image.mode in _HIGH_DEPTH_MODES:
        # 16-bit samples to 8 bits: x / 257 maps 0..65535 onto 0..255.
        wide = np.asarray(image, dtype=np.float64)
        return Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8))
    if image.mode == "F":
        # Float samples are conventionally 0..1 (scanners, HDR tools); anything else is
        # stretched from its own range, the only scale such a file states.
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        if low >= 0.0 and high <= 1.0:
            low, high = 0.0, 1.0
        span = (high - low) or 1.0
        scaled = np.rint((values - low) * (255.0 / span))
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
    if image.has_transparency_data:
        with_alpha = image.convert("RGBA").convert("LA")
        white = Image.new("L", image.size, 255)
        white.paste(with_alpha.getchannel("L"), mask=with_alpha.getchannel("A"))
        return white
    if image.mode == "L":
        return image
    try:
        return image.convert("L")
    except ValueError:  # modes without a direct conversion (LAB, HSV)
        return image.convert("RGB").convert("L")


def _canonical_picture(
    image: Image.Image, trim: Trim
) -> tuple[Image.Image, Orientation, tuple[float, float]]:
    """The gray picture `phash` sees (decoded, borders trimmed), its EXIF orientation, and
    the shares of the decoded width and height it keeps."""
    orientation = _exif_orientation(image)
    if image.format in ("JPEG", "MPO"):
        image.draft("L", (DRAFT_MIN_SIDE, DRAFT_MIN_SIDE))
    load(image)
    gray = _canonical_gray(image)
    width, height = gray.size
    box = picture_box(gray, trim)
    if box != (0, 0, width, height):
        gray = gray.crop(box)
    return gray, orientation, (gray.width / width, gray.height / height)


def _reduced(
    gray: Image.Image, orientation: Orientation, kept: tuple[float, float] = (1.0, 1.0)
) -> Reduction:
    small = gray.resize((SIDE, SIDE), Image.Resampling.LANCZOS)
    reduction = _reduction(orient_pixels(np.asarray(small), orientation))
    return Reduction(reduction.gray, reduction.dct, kept)


def canonical_reduction(image: Image.Image, trim: Trim = Trim.OPPOSITE_SIDES) -> Reduction:
    """The 32x32 pixels and DCT of the image on neardup's canonical, fast decode: `phash`
    (uniform borders trimmed first, `borders.py`), `phash-2` or `phash-1` (`trim`)."""
    return _reduced(*_canonical_picture(image, trim))


def canonical_crop_reductions(
    image: Image.Image, keeps: tuple[float, ...], trim: Trim = Trim.OPPOSITE_SIDES
) -> tuple[Reduction, tuple[Reduction, ...]]:
    """`canonical_reduction`, and the reductions of the picture's centre crops (`crops.py`),
    from one decode."""
    gray, orientation, kept = _canonical_picture(image, trim)
    crops = tuple(
        _reduced(gray.crop(centre_box(gray.width, gray.height, keep)), orientation)
        for keep in keeps
    )
    return _reduced(gray, orientation, kept), crops
