"""The 8 dihedral orientations of an image (rotations and mirrors), on pixels and on DCTs.

Orientation `k` is: mirror left-right if k >= 4, then rotate (k mod 4) x 90 degrees
counter-clockwise. The numbering is the contract's `Orientation` enum and the column order of
`neardup hash --orientations`.

Each orientation of a square array is a transpose (or not) followed by a reversal of rows
and/or columns. Reversing the rows of a 2-D DCT-II input multiplies output row v by (-1)^v
(column u by (-1)^u for columns), and transposing the input transposes the DCT. So the hash of
every orientation follows from one DCT with sign flips and a transpose: exact (no new
rounding), 8 hashes for the cost of one decode. The same table applies EXIF orientation.
(Algorithms whose pixel path is not symmetric, like pHash C's sampling grid, orient the
decoded pixels instead: `orient_pixels` takes any image array.)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["EXIF_ORIENTATION", "Orientation", "orient_dct", "orient_hashes", "orient_pixels"]

ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])


class Orientation(IntEnum):
    """Numbered as the contract's `Orientation` enum."""

    IDENTITY = 0
    ROTATE_90 = 1
    ROTATE_180 = 2
    ROTATE_270 = 3
    MIRROR = 4
    MIRROR_ROTATE_90 = 5
    MIRROR_ROTATE_180 = 6
    MIRROR_ROTATE_270 = 7


class _Dihedral(NamedTuple):
    """out = reverse_rows?(reverse_cols?(transpose?(in)))."""

    transpose: bool
    reverse_rows: bool
    reverse_cols: bool


_AS_DIHEDRAL = {
    Orientation.IDENTITY: _Dihedral(False, False, False),
    Orientation.ROTATE_90: _Dihedral(True, True, False),
    Orientation.ROTATE_180: _Dihedral(False, True, True),
    Orientation.ROTATE_270: _Dihedral(True, False, True),
    Orientation.MIRROR: _Dihedral(False, False, True),
    Orientation.MIRROR_ROTATE_90: _Dihedral(True, False, False),
    Orientation.MIRROR_ROTATE_180: _Dihedral(False, True, False),
    Orientation.MIRROR_ROTATE_270: _Dihedral(True, True, True),
}

# EXIF tag 0x0112 value -> the orientation that turns the stored pixels upright
# (as Pillow's ImageOps.exif_transpose does).
EXIF_ORIENTATION = {
    1: Orientation.IDENTITY,
    2: Orientation.MIRROR,
    3: Orientation.ROTATE_180,
    4: Orientation.MIRROR_ROTATE_180,
    5: Orientation.MIRROR_ROTATE_90,
    6: Orientation.ROTATE_270,
    7: Orientation.MIRROR_ROTATE_270,
    8: Orientation.ROTATE_90,
}


def orient_pixels(pixels: ArrayT, orientation: Orientation) -> ArrayT:
    """The image array `pixels` (rows, columns[, channels]) seen in `orientation` (a view)."""
    d = _AS_DIHEDRAL[orientation]
    out = np.swapaxes(pixels, 0, 1) if d.transpose else pixels
    if d.reverse_cols:
        out = out[:, ::-1]
    if d.reverse_rows:
        out = out[::-1, :]
    return out


def _signs(n: int) -> npt.NDArray[np.float64]:
    return np.where(np.arange(n) % 2 == 0, 1.0, -1.0)


def orient_dct(
    coefficients: npt.NDArray[np.float64], orientation: Orientation
) -> npt.NDArray[np.float64]:
    """The 2-D DCT-II of `orient_pixels(x, orientation)`, given the DCT of a square x."""
    d = _AS_DIHEDRAL[orientation]
    out = coefficients.T if d.transpose else coefficients
    n = out.shape[0]
    if d.reverse_cols:
        out = out * _signs(n)[np.newaxis, :]
    if d.reverse_rows:
        out = out * _signs(n)[:, np.newaxis]
    return out


# The 64 bits of a pHash are the signs, against their median, of the 8x8 lowest DCT
# coefficients, row-major from the most significant bit: the rows of odd v and the columns
# of odd u sit under these masks.
_ODD_ROWS = np.uint64(0x00FF00FF00FF00FF)
_ODD_COLS = np.uint64(0x5555555555555555)


def _transposed(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """The 8x8 bit matrices in x transposed (three delta swaps)."""
    for shift, mask in (
        (7, 0x00AA00AA00AA00AA),
        (14, 0x0000CCCC0000CCCC),
        (28, 0x00000000F0F0F0F0),
    ):
        s, m = np.uint64(shift), np.uint64(mask)
        t = (x ^ (x >> s)) & m
        x = x ^ t ^ (t << s)
    return x


def orient_hashes(
    values: npt.NDArray[np.uint64], orientation: Orientation
) -> npt.NDArray[np.uint64]:
    """The hashes of an orientation of the pictures, predicted from their own pHash bits
    (ImageHash's layout: `phash`, `phash-2`, `phash-1`, `imagehash-4`), as `orient_dct` does
    on the coefficients: a transpose of the 8x8 block, and the signs of its odd rows or
    columns flipped. Exact for a transpose; a flip moves the median the bits were taken
    against, so a coefficient near it can land on the other side: the prediction is within
    a few bits of the orientation's hash on most pictures, and far on a few (measured by
    scripts/bench/report_groups.py). For the report's grouping of stored hashes, whose
    pictures are not at hand; a search with an image hashes its orientations exactly."""
    d = _AS_DIHEDRAL[orientation]
    out = _transposed(values) if d.transpose else values.copy()
    if d.reverse_rows:
        out ^= _ODD_ROWS
    if d.reverse_cols:
        out ^= _ODD_COLS
    return out
