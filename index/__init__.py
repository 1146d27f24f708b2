"""neardup's engine: image bytes to 64-bit fingerprints (and, later, the Hamming index and
the durable store). It knows nothing of gRPC; `neardup.service` drives it.
"""

from .algorithms import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    Algorithm,
    ImageHashes,
    get_algorithm,
    hash_image,
)
from .decode import SUPPORTED_FORMATS, DecodeLimits
from .errors import (
    AlgorithmMismatch,
    BadDimensions,
    CorruptImage,
    EmptyImage,
    ImageTooLarge,
    InvalidHash,
    InvalidImage,
    NeardupError,
    TruncatedImage,
    UnknownAlgorithm,
    UnsupportedFormat,
)
from .fingerprint import Fingerprint, hamming_distance, similarity
from .orientations import Orientation

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "SUPPORTED_FORMATS",
    "Algorithm",
    "AlgorithmMismatch",
    "BadDimensions",
    "CorruptImage",
    "DecodeLimits",
    "EmptyImage",
    "Fingerprint",
    "ImageHashes",
    "ImageTooLarge",
    "InvalidHash",
    "InvalidImage",
    "NeardupError",
    "Orientation",
    "TruncatedImage",
    "UnknownAlgorithm",
    "UnsupportedFormat",
    "get_algorithm",
    "hamming_distance",
    "hash_image",
    "similarity",
]
