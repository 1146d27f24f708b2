"""neardup's engine: image bytes to 64-bit fingerprints, the Hamming index, and the durable
store with its snapshots (`Engine`). It knows nothing of gRPC; `neardup.service` drives it.
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
from .engine import Engine
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
from .hamming import CompactionReport, HammingIndex, SearchPath
from .orientations import Orientation
from .params import IndexParams
from .records import (
    AddOutcome,
    AddResult,
    CollectionInfo,
    CollectionStats,
    DeleteResult,
    Match,
    OnExistingId,
    SearchResult,
    SnapshotInfo,
    StoredImage,
)
from .settings import EngineSettings

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "SUPPORTED_FORMATS",
    "AddOutcome",
    "AddResult",
    "Algorithm",
    "AlgorithmMismatch",
    "BadDimensions",
    "CollectionInfo",
    "CollectionStats",
    "CompactionReport",
    "CorruptImage",
    "DecodeLimits",
    "DeleteResult",
    "EmptyImage",
    "Engine",
    "EngineSettings",
    "Fingerprint",
    "HammingIndex",
    "ImageHashes",
    "ImageTooLarge",
    "IndexParams",
    "InvalidHash",
    "InvalidImage",
    "Match",
    "NeardupError",
    "OnExistingId",
    "Orientation",
    "SearchPath",
    "SearchResult",
    "SnapshotInfo",
    "StoredImage",
    "TruncatedImage",
    "UnknownAlgorithm",
    "UnsupportedFormat",
    "get_algorithm",
    "hamming_distance",
    "hash_image",
    "similarity",
]
