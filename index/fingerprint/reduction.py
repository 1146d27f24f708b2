"""`Reduction`: what a hash algorithm sees of an image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Reduction"]


@dataclass(frozen=True, slots=True)
class Reduction:
    """The 32x32 grey pixels (0..255) an algorithm takes its hash from, and their 32x32 DCT.
    The pixels also give the hash's quality score (`quality.py`). kept: the shares of the
    decoded width and height the pixels come from (below 1 where a border was trimmed)."""

    gray: npt.NDArray[np.float64]
    dct: npt.NDArray[np.float64]
    kept: tuple[float, float] = (1.0, 1.0)
