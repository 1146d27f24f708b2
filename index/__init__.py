"""neardup's engine: image bytes to 64-bit fingerprints, the Hamming index, and the durable
store with its snapshots. It knows nothing of gRPC; `neardup.service` drives it through the
engine seam (`Backend`), which the local `Engine` implements.

    fingerprint/   image bytes -> fingerprints (numpy, Pillow, scipy; no FAISS, no SQLite)
    hamming/       a collection's Hamming structures behind the code-index seam (FAISS)
    store/         SQLite store, group commit, queries, the data dir (sqlite3)
    persistence/   snapshot files of the code indexes, and start-up recovery
    engine         `Engine`: the local engine over the three
    milvus/        `MilvusEngine`: the same seam over a shared Milvus (pymilvus; imported
                   from `neardup.index.milvus` only)
    backend        `Backend`: the engine seam the service and the CLI use
    records, errors, bounds, settings: what every engine shares

Names are imported when first used (PEP 562), so `import neardup.index.fingerprint` or
`from neardup.index import hash_image` loads neither FAISS nor SQLite.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import Backend
    from .engine import Engine
    from .errors import (
        AlgorithmMismatch,
        AlreadyExists,
        BadDimensions,
        CollectionExists,
        CorruptImage,
        DatabaseFailure,
        DataDirInUse,
        EmptyImage,
        IdExists,
        ImageTooLarge,
        IncompatibleDataDir,
        IndexUnavailable,
        InvalidArgument,
        InvalidHash,
        InvalidImage,
        NeardupError,
        NotAnImage,
        NotFound,
        OverBudget,
        StorageBusy,
        StorageCorrupt,
        StorageFailure,
        StorageFull,
        StorageIOError,
        StorageReadOnly,
        StoreClosed,
        TruncatedImage,
        Unavailable,
        UnknownAlgorithm,
        UnknownCollection,
        UnknownId,
        Unsupported,
        UnsupportedFormat,
    )
    from .fingerprint import (
        ALGORITHMS,
        DEFAULT_ALGORITHM,
        SUPPORTED_FORMATS,
        Algorithm,
        DecodeLimits,
        Fingerprint,
        ImageHashes,
        Orientation,
        get_algorithm,
        hamming_distance,
        hash_image,
        similarity,
    )
    from .hamming import CodeIndex, HammingIndex
    from .params import IndexParams
    from .query import Query, QueryCode, query_of
    from .records import (
        AddOutcome,
        AddResult,
        CollectionDefinition,
        CollectionInfo,
        CollectionStats,
        CompactionReport,
        DeleteResult,
        Match,
        OnExistingId,
        SearchPath,
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
    "AlreadyExists",
    "Backend",
    "BadDimensions",
    "CodeIndex",
    "CollectionDefinition",
    "CollectionExists",
    "CollectionInfo",
    "CollectionStats",
    "CompactionReport",
    "CorruptImage",
    "DataDirInUse",
    "DatabaseFailure",
    "DecodeLimits",
    "DeleteResult",
    "EmptyImage",
    "Engine",
    "EngineSettings",
    "Fingerprint",
    "HammingIndex",
    "IdExists",
    "ImageHashes",
    "ImageTooLarge",
    "IncompatibleDataDir",
    "IndexParams",
    "IndexUnavailable",
    "InvalidArgument",
    "InvalidHash",
    "InvalidImage",
    "Match",
    "NeardupError",
    "NotAnImage",
    "NotFound",
    "OnExistingId",
    "Orientation",
    "OverBudget",
    "Query",
    "QueryCode",
    "SearchPath",
    "SearchResult",
    "SnapshotInfo",
    "StorageBusy",
    "StorageCorrupt",
    "StorageFailure",
    "StorageFull",
    "StorageIOError",
    "StorageReadOnly",
    "StoreClosed",
    "StoredImage",
    "TruncatedImage",
    "Unavailable",
    "UnknownAlgorithm",
    "UnknownCollection",
    "UnknownId",
    "Unsupported",
    "UnsupportedFormat",
    "get_algorithm",
    "hamming_distance",
    "hash_image",
    "query_of",
    "similarity",
]

# Where the public names live, cheapest first: a name is looked up module by module, so
# asking for an error imports `errors` alone, and only `Engine` imports the store and FAISS.
_SUBMODULES = (
    ".errors",
    ".fingerprint",
    ".records",
    ".params",
    ".query",
    ".settings",
    ".backend",
    ".hamming",
    ".engine",
)


def __getattr__(name: str) -> Any:
    if name in __all__:
        for submodule in _SUBMODULES:
            module = import_module(submodule, __name__)
            if name in getattr(module, "__all__", ()):
                value = getattr(module, name)
                globals()[name] = value
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
