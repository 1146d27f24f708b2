"""The named hash algorithms, and the entry point from image bytes to fingerprints.

| name          | what                                                           |
|---------------|----------------------------------------------------------------|
| `phash`       | ImageHash's maths on the canonical decode, borders trimmed (default) |
| `phash-2`     | `phash` with the first border rule (schema 2-3 collections)    |
| `phash-1`     | `phash` before the border trim (neardup 0.x collections)       |
| `imagehash-4` | bit-exact ImageHash 4.3.x `phash()` (hash_size 8)              |
| `phash-c`     | bit-exact pHash C `ph_dct_imagehash` (0.9.x)                   |

Each algorithm is a 32x32 DCT of the image (its own decode and pixel path) and a rule that
turns a DCT into 64 bits; the 32x32 pixels also give each hash its quality score.
Orientation hashes come from the same DCT (`orientations`), or, for `phash-c` whose
sampling grid is not symmetric, from the same decode.

Thread-safety: stateless; call from any number of threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt
from PIL import Image

from ..errors import InvalidArgument, UnknownAlgorithm
from .borders import Trim
from .crops import CROP_KEEPS
from .decode import DEFAULT_LIMITS, DecodeLimits, open_image
from .digest import content_digest
from .imagehash_math import (
    canonical_crop_reductions,
    canonical_reduction,
    imagehash_bits,
    imagehash_reduction,
)
from .orientations import Orientation, orient_dct
from .phash_c import phash_c_bits, phash_c_oriented_coefficients, phash_c_reduction
from .quality import structure_quality
from .reduction import Reduction
from .value import Fingerprint

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "Algorithm",
    "ImageHashes",
    "get_algorithm",
    "hash_image",
]

Coefficients = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Algorithm:
    """A named way to hash an image: what it sees of the image, and the bits it takes.

    reduce: the image's 32x32 pixels and DCT (`Reduction`).
    oriented_coefficients: the DCTs of the 8 orientations, indexed by `Orientation`, from
    the image and its reduction.
    reduce_with_crops: `reduce`, and the reductions of centre crops keeping these shares of
    each side (`crops.py`), from one decode; None for the bit-exact algorithms, whose
    reference implementations have no crops.
    """

    name: str
    summary: str
    reduce: Callable[[Image.Image], Reduction]
    oriented_coefficients: Callable[[Image.Image, Reduction], tuple[Coefficients, ...]]
    bits: Callable[[Coefficients], int]
    reduce_with_crops: (
        Callable[[Image.Image, tuple[float, ...]], tuple[Reduction, tuple[Reduction, ...]]] | None
    ) = None

    @property
    def orients_hashes(self) -> bool:
        """Whether a stored hash's orientations can be predicted from its bits
        (`orientations.orient_hashes`: ImageHash's layout of the signs of an 8x8 DCT block)."""
        return self.bits is imagehash_bits

    @property
    def has_crops(self) -> bool:
        """Whether `hash_image(..., crops=True)` can hash this algorithm's centre crops."""
        return self.reduce_with_crops is not None


def _oriented_from_the_dct(_image: Image.Image, reduction: Reduction) -> tuple[Coefficients, ...]:
    """Orientation DCTs by sign flips and a transpose of one DCT (see `orientations`)."""
    return tuple(orient_dct(reduction.dct, o) for o in Orientation)


def _oriented_from_the_decode(image: Image.Image, _: Reduction) -> tuple[Coefficients, ...]:
    """Orientation DCTs of `phash-c` from the decoded samples (its grid is not symmetric)."""
    return phash_c_oriented_coefficients(image)


ALGORITHMS: dict[str, Algorithm] = {
    a.name: a
    for a in (
        Algorithm(
            "phash",
            "ImageHash pHash maths on a canonical fast decode (EXIF, alpha on white, JPEG "
            "draft, uniform borders trimmed)",
            canonical_reduction,
            _oriented_from_the_dct,
            imagehash_bits,
            canonical_crop_reductions,
        ),
        Algorithm(
            "phash-2",
            "phash with the first border rule, every side judged alone "
            "(collections made with data-dir schema 2 and 3)",
            partial(canonical_reduction, trim=Trim.EACH_SIDE),
            _oriented_from_the_dct,
            imagehash_bits,
            partial(canonical_crop_reductions, trim=Trim.EACH_SIDE),
        ),
        Algorithm(
            "phash-1",
            "phash before the border trim (collections made by neardup 0.x)",
            partial(canonical_reduction, trim=Trim.NONE),
            _oriented_from_the_dct,
            imagehash_bits,
            partial(canonical_crop_reductions, trim=Trim.NONE),
        ),
        Algorithm(
            "imagehash-4",
            "bit-exact ImageHash 4.3.x phash (image as opened)",
            imagehash_reduction,
            _oriented_from_the_dct,
            imagehash_bits,
        ),
        Algorithm(
            "phash-c",
            "bit-exact pHash C library ph_dct_imagehash (0.9.x)",
            phash_c_reduction,
            _oriented_from_the_decode,
            phash_c_bits,
        ),
    )
}
DEFAULT_ALGORITHM = "phash"


def get_algorithm(name: str) -> Algorithm:
    """The algorithm called `name` ("" means the default); raises UnknownAlgorithm."""
    try:
        return ALGORITHMS[name or DEFAULT_ALGORITHM]
    except KeyError:
        known = ", ".join(ALGORITHMS)
        raise UnknownAlgorithm(f"unknown algorithm {name!r}; known: {known}") from None


@dataclass(frozen=True, slots=True)
class ImageHashes:
    """What hashing one image yields.

    orientations: empty unless asked for; else 8 fingerprints indexed by `Orientation`
    (element 0 is `fingerprint`). width, height and format are those of the file's header;
    picture_width and picture_height, of the picture the hash saw: the header's size less
    the uniform borders the algorithm trimmed (the same without a trim).
    quality: 0-100, how much structure the hash saw (`quality.py`): near 0 for blank
    pictures, whose bits are noise.
    crops: empty unless asked for; else per centre crop of `CROP_KEEPS`, its hash, or its 8
    orientation hashes when orientations were asked for too.
    digest: the SHA-256 of the file's bytes (`digest.content_digest`).
    """

    fingerprint: Fingerprint
    orientations: tuple[Fingerprint, ...]
    width: int
    height: int
    format: str
    quality: int
    crops: tuple[tuple[Fingerprint, ...], ...] = ()
    picture_width: int = 0
    picture_height: int = 0
    digest: bytes = b""

    @property
    def crop_fingerprints(self) -> tuple[Fingerprint, ...]:
        """The crops' upright hashes (what a collection stores for them)."""
        return tuple(oriented[0] for oriented in self.crops)


def hash_image(
    data: bytes,
    algorithm: str = DEFAULT_ALGORITHM,
    *,
    orientations: bool = False,
    crops: bool = False,
    limits: DecodeLimits = DEFAULT_LIMITS,
) -> ImageHashes:
    """Hashes encoded image bytes; optionally also the 8 orientations, from the same DCT, and
    the centre crops a `crop_hashes` collection indexes, from the same decode.

    Raises UnknownAlgorithm, InvalidArgument for crops of an algorithm without them, or the
    InvalidImage / ImageTooLarge family for bad input.
    """
    algo = get_algorithm(algorithm)
    reduce_with_crops = algo.reduce_with_crops
    if crops and reduce_with_crops is None:
        raise InvalidArgument(
            f"algorithm {algo.name!r} is bit-exact with a reference that has no crop hashes; "
            "crop hashes need phash or phash-1",
            "algorithm",
        )
    image = open_image(data, limits)
    width, height, fmt = image.width, image.height, image.format or ""
    with image:
        if crops and reduce_with_crops is not None:
            reduction, crop_reductions = reduce_with_crops(image, CROP_KEEPS)
        else:
            reduction, crop_reductions = algo.reduce(image), ()
        dcts = algo.oriented_coefficients(image, reduction) if orientations else (reduction.dct,)
    hashes = tuple(Fingerprint(algo.bits(dct), algo.name) for dct in dcts)
    crop_hashes = tuple(
        tuple(
            Fingerprint(algo.bits(dct), algo.name)
            for dct in (_oriented_from_the_dct(image, crop) if orientations else (crop.dct,))
        )
        for crop in crop_reductions
    )
    quality = structure_quality(reduction.gray)
    kept_width, kept_height = reduction.kept
    return ImageHashes(
        hashes[0],
        hashes if orientations else (),
        width,
        height,
        fmt,
        quality,
        crop_hashes,
        round(width * kept_width),
        round(height * kept_height),
        content_digest(data),
    )
