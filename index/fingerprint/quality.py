"""The quality score of a hash: how much structure the image has at the scale the hash sees.

A 64-bit DCT hash sets each bit by comparing one of the 8x8 lowest-frequency coefficients
with their median. A blank or near-uniform picture (a solid colour, a small sprite on a flat
or transparent background) has almost no energy at those frequencies, so its bits are
decided by rounding and compression noise: two unrelated blank images land a few bits
apart. The score tells those hashes apart from the hashes of pictures with content.

It follows PDQ's image-domain quality metric (Meta, "The TMK+PDQF Video-Hashing Algorithm and
the PDQ Image Similarity Algorithm", 2019; pdqhashing.cpp, `computePDQImageDomainQualityMetric`):
the sum over neighbouring pixel pairs of |difference| in percent of full scale, divided by a
constant and capped at 100. PDQ sums over the 64x64 image its 16x16 DCT block is taken
from; the 8x8 block these hashes keep sees the picture at 8x8 resolution, so the sum here
runs over the 32x32 reduction averaged down to 8x8 (4x4 boxes): fine texture and a sprite's
sharp outline, which the 8x8 block does not see, do not count. The divisor makes 100 a mean
neighbour difference of 10% of full scale (112 pairs x 10 / 100 = 11.2), a well-structured
photo; a solid colour scores 0. Where the engine draws the line (a collection's
`min_quality`) is measured by scripts/bench/quality.py.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_QUALITY", "structure_quality"]

MAX_QUALITY = 100
_SCALE = 8  # the hash's 8x8 block of frequencies
_DIVISOR = 2 * _SCALE * (_SCALE - 1) * 10 / 100


def structure_quality(gray: npt.NDArray[np.floating]) -> int:
    """0-100 from the 32x32 grey image (0..255) a hash is taken from."""
    side = gray.shape[0] // _SCALE
    coarse = np.asarray(gray, dtype=np.float64).reshape(_SCALE, side, _SCALE, side).mean((1, 3))
    percent = coarse * (100.0 / 255.0)
    gradient = np.abs(np.diff(percent, axis=0)).sum() + np.abs(np.diff(percent, axis=1)).sum()
    return int(min(MAX_QUALITY, gradient / _DIVISOR))
