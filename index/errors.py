"""The engine's errors: every way an input can be refused, as a type.

The service maps each type to one gRPC status code (in one place, `neardup.service`), so a
new error type here needs its code there too. Messages are written for the caller: they
say what was wrong and, where it helps, the limit or the accepted values.

    NeardupError
    ├── InvalidImage            the bytes are not an image we can hash
    │   ├── EmptyImage          zero bytes
    │   ├── UnsupportedFormat   not a format we decode
    │   │   └── NotAnImage      ... nor any image format at all (a README, a CSV, XMP)
    │   ├── CorruptImage        a known format, but the data is broken
    │   │   └── TruncatedImage  ... because it ends early
    │   └── BadDimensions       zero-sized, or a side beyond any real image
    ├── ImageTooLarge           over the byte or pixel limit (refused before decoding)
    ├── InvalidHash             a hash value that is not 16 hex digits / 64 bits
    ├── UnknownAlgorithm        an algorithm name we do not have
    ├── AlgorithmMismatch       two hashes of different algorithms compared
    ├── InvalidArgument         a request value out of its bounds (names the field)
    ├── NotFound                a collection or id that is not stored
    │   ├── UnknownCollection
    │   └── UnknownId
    ├── AlreadyExists           a name or id that is stored already
    │   ├── CollectionExists
    │   └── IdExists
    ├── Unavailable             cannot be served now; the same call can succeed later
    │   ├── DataDirInUse        another process holds the data dir
    │   ├── StoreClosed         the engine is closed (or closing)
    │   ├── IndexUnavailable    a collection's index is being resynchronised from the store
    │   └── DatabaseFailure     the shared database behind the engine (Milvus) failed or
    │                           is unreachable
    ├── StorageFailure          the data dir could not be written or read; nothing was
    │   │                       half-applied, and the same call can succeed once fixed
    │   ├── StorageFull         its disk (or quota) is full
    │   ├── StorageReadOnly     it is read-only or not writable by this process
    │   ├── StorageIOError      the device failed a read or write, or memory ran out
    │   ├── StorageBusy         another process holds a lock on the store
    │   └── StorageCorrupt      the store's file is damaged
    ├── IncompatibleDataDir     the data dir was written by another schema version
    └── Unsupported             this engine does not do that (e.g. a snapshot of a backend
                                that keeps no snapshots of ours)

    OverBudget                  not a NeardupError: a search given a time budget was not
                                run (the caller runs it where waiting is allowed)
"""

from __future__ import annotations

__all__ = [
    "AlgorithmMismatch",
    "AlreadyExists",
    "BadDimensions",
    "CollectionExists",
    "CorruptImage",
    "DataDirInUse",
    "DatabaseFailure",
    "EmptyImage",
    "IdExists",
    "ImageTooLarge",
    "IncompatibleDataDir",
    "IndexUnavailable",
    "InvalidArgument",
    "InvalidHash",
    "InvalidImage",
    "NeardupError",
    "NotAnImage",
    "NotFound",
    "OverBudget",
    "StorageBusy",
    "StorageCorrupt",
    "StorageFailure",
    "StorageFull",
    "StorageIOError",
    "StorageReadOnly",
    "StoreClosed",
    "TruncatedImage",
    "Unavailable",
    "UnknownAlgorithm",
    "UnknownCollection",
    "UnknownId",
    "Unsupported",
    "UnsupportedFormat",
]


class NeardupError(Exception):
    """Base of every error the engine raises on purpose. `field`: the request field at
    fault, when the error's type (or the request, for InvalidArgument) names one."""

    field: str = ""


class InvalidImage(NeardupError):
    """The input bytes cannot be hashed as an image."""


class EmptyImage(InvalidImage):
    """The input has zero bytes."""


class UnsupportedFormat(InvalidImage):
    """The input is not in a format the engine decodes."""


class NotAnImage(UnsupportedFormat):
    """The input starts like no image format: a text, a sidecar, an archive (a bulk build
    skips these quietly; a file that claims a format and fails to decode is a failure)."""


class CorruptImage(InvalidImage):
    """The input claims a supported format but its data cannot be decoded."""


class TruncatedImage(CorruptImage):
    """The input stops before the image data is complete."""


class BadDimensions(InvalidImage):
    """The header declares a size no real image has (zero, or a side beyond the limit)."""


class ImageTooLarge(NeardupError):
    """The input exceeds the byte or pixel limit; it was refused before decoding pixels."""


class InvalidHash(NeardupError):
    """A hash value is malformed (not 16 hex digits, or outside [0, 2**64))."""


class UnknownAlgorithm(NeardupError):
    """An algorithm name that the engine does not implement."""


class AlgorithmMismatch(NeardupError):
    """Hashes of two different algorithms were compared; they live in different spaces."""


class InvalidArgument(NeardupError):
    """A request value is outside its bounds; `field` names it (e.g. "k", "metadata")."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[type[InvalidArgument], tuple[str, str]]:
        """Pickled with its field (it crosses to and from worker processes)."""
        return type(self), (str(self), self.field)


class NotFound(NeardupError):
    """Something the request names is not stored."""


class UnknownCollection(NotFound):
    """No collection has that name."""

    field = "collection"


class UnknownId(NotFound):
    """No image is stored under that id in the collection."""

    field = "id"


class AlreadyExists(NeardupError):
    """Something the request would create is stored already."""


class CollectionExists(AlreadyExists):
    """A collection of that name exists."""

    field = "name"


class IdExists(AlreadyExists):
    """An image is stored under that id and the add asked for no replacement."""

    field = "id"


class Unavailable(NeardupError):
    """The engine cannot serve this now; the same call can succeed later."""


class DataDirInUse(Unavailable):
    """Another process has the data dir open; one process owns a data dir at a time."""

    field = "data_dir"


class StoreClosed(Unavailable):
    """The engine's store was closed before the operation could run."""


class IndexUnavailable(Unavailable):
    """A collection's index failed to apply a committed change and is being rebuilt from
    the store; its searches are refused until then rather than answered without it."""


class DatabaseFailure(Unavailable):
    """The shared database the engine runs on (Milvus) refused an operation for a reason of
    its own (not ready, unreachable, rate-limited, an internal error); nothing the caller
    sent was wrong, and the same call can succeed later."""


class StorageFailure(NeardupError):
    """The data dir refused a read or write (see `neardup.index.store.failures`); the
    operation took no effect."""


class StorageFull(StorageFailure):
    """The data dir's filesystem (or the user's quota) has no space left: writes fail
    until space is freed, reads go on."""


class StorageReadOnly(StorageFailure):
    """The data dir is mounted read-only, or its files are not writable by this process."""


class StorageIOError(StorageFailure):
    """The device failed a read or write, or the process ran out of memory for one."""


class StorageBusy(StorageFailure):
    """Another process holds a lock on the store for longer than the store waits."""


class StorageCorrupt(StorageFailure):
    """The store's file is damaged; restore the data dir from a backup or rebuild it."""


class IncompatibleDataDir(NeardupError):
    """The data dir's store has a schema version this engine does not read."""


class Unsupported(NeardupError):
    """The engine behind the service does not offer this operation."""


class OverBudget(Exception):
    """A search given a time budget was not run: its plan is predicted to take longer, or a
    writer holds the index (the caller runs it where waiting is allowed). Not an error a
    client sees."""
