"""The pHash C library's `ph_dct_imagehash` (0.9.x behaviour, commit dea9ffc), bit for bit.

shared/golden/README.md ("Algorithm 2") states it step by step: 8-bit samples as CImg loads
them (no EXIF orientation, 4th channel dropped, 16-bit PNG reduced to its low byte), BT.601
studio-range luma, a 7x7 box sum with clamped borders, nearest-neighbour sampling to 32x32,
an orthonormal DCT, and one bit per coefficient of frequencies 1..8 above their median. The
first coefficient falls off the top of the word, so bit 0 is always 0.

The box sum is needed only at the 32x32 sampled points, so it is computed there alone (a
7x7 window around each), not over the whole image.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image

from .decode import load
from .orientations import Orientation, orient_pixels
from .reduction import Reduction

__all__ = ["phash_c_bits", "phash_c_oriented_coefficients", "phash_c_reduction"]

SIDE = 32
_BOX_RADIUS = 3  # 7x7 kernel, centre at offset 3
_BOX_AREA = (2 * _BOX_RADIUS + 1) ** 2
_MASK64 = (1 << 64) - 1


@cache
def _dct_matrix(n: int) -> npt.NDArray[np.float64]:
    """Orthonormal DCT-II matrix: C[k][j] = sqrt(2/n) cos(pi k (2j+1) / 2n), row 0 sqrt(1/n)."""
    k = np.arange(n)[:, np.newaxis]
    j = np.arange(n)[np.newaxis, :]
    matrix: npt.NDArray[np.float64] = np.sqrt(2.0 / n) * np.cos(np.pi * k * (2 * j + 1) / (2 * n))
    matrix[0, :] = 1.0 / np.sqrt(n)
    return matrix


def _samples(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The H x W x channels 8-bit samples CImg would hold for this image."""
    mode = image.mode
    if mode == "CMYK":
        stored = np.asarray(image)
        # Pillow undoes the Adobe inversion of CMYK JPEGs; CImg sees the stored samples.
        return 255 - stored if "adobe" in image.info else stored
    if mode.startswith("I;16") or mode == "I":
        return (np.asarray(image).astype(np.int64) & 0xFF).astype(np.uint8)[..., np.newaxis]
    if mode in ("L", "LA", "1"):
        return np.asarray(image.convert("L") if mode == "1" else image, dtype=np.uint8).reshape(
            image.height, image.width, -1
        )
    if mode in ("RGB", "RGBA"):
        return np.asarray(image)
    return np.asarray(image.convert("RGBA" if image.has_transparency_data else "RGB"))


def _luma(samples: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    if samples.shape[-1] >= 3:
        rgb = samples[..., :3].astype(np.int64)
        y = ((66 * rgb[..., 0] + 129 * rgb[..., 1] + 25 * rgb[..., 2] + 128) >> 8) + 16
        clamped: npt.NDArray[np.int64] = np.clip(y, 0, 255)
        return clamped
    return samples[..., 0].astype(np.int64)


def phash_c_reduction(image: Image.Image) -> Reduction:
    """The blurred, nearest-neighbour-sampled 32x32 luma (as box means) and its orthonormal
    DCT, as pHash C makes them."""
    load(image)
    box_sums = _box_sums(_samples(image))
    return Reduction(box_sums / _BOX_AREA, _dct_of(box_sums))


def phash_c_oriented_coefficients(image: Image.Image) -> tuple[npt.NDArray[np.float64], ...]:
    """The DCTs of the 8 orientations of the image, indexed by `Orientation`.

    pHash C samples the blurred image on a grid anchored at the top-left corner, so a
    mirrored file is sampled at other points than the mirror of the original's grid; sign
    flips of one DCT land 8 to 18 bits away from the C hash of the transformed file.
    Orienting the decoded samples and sampling each anew gives exactly that hash.
    """
    load(image)
    samples = _samples(image)
    return tuple(_dct_of(_box_sums(orient_pixels(samples, o))) for o in Orientation)


def _box_sums(samples: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """The 7x7 box sums of the luma at the 32x32 sampled points."""
    height, width = samples.shape[:2]
    offsets = np.arange(-_BOX_RADIUS, _BOX_RADIUS + 1)
    rows = np.clip((np.arange(SIDE) * height // SIDE)[:, np.newaxis] + offsets, 0, height - 1)
    cols = np.clip((np.arange(SIDE) * width // SIDE)[:, np.newaxis] + offsets, 0, width - 1)
    windows = _luma(samples[np.ix_(rows.ravel(), cols.ravel())])
    box_sums: npt.NDArray[np.int64] = windows.reshape(SIDE, offsets.size, SIDE, offsets.size).sum(
        axis=(1, 3)
    )
    return box_sums


def _dct_of(box_sums: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    dct = _dct_matrix(SIDE)
    coefficients: npt.NDArray[np.float64] = dct @ box_sums.astype(np.float64) @ dct.T
    return coefficients


def phash_c_bits(coefficients: npt.NDArray[np.float64]) -> int:
    """Frequencies 1..8 above their median, MSB first, shifted left once (bit 0 = 0)."""
    block = coefficients[1:9, 1:9]
    above = (block > np.median(block)).ravel()
    word = int.from_bytes(np.packbits(above).tobytes(), "big")
    return (word << 1) & _MASK64
