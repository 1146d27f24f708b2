"""What the data dir's failures mean for a caller: SQLite's and the filesystem's errors,
each read into one `StorageFailure` type with a message that says what to do.

SQLite reports a full disk, a read-only file, an I/O error, a lock or a damaged page through
`sqlite3.Error.sqlite_errorcode` (an extended code whose low byte is the primary code); the
snapshot writer meets the same conditions as `OSError` errnos. Both are read here, so the
store and the snapshot writer raise the same types, and the service maps each type to one
status code (`neardup.service.status`).
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import (
    StorageBusy,
    StorageCorrupt,
    StorageFailure,
    StorageFull,
    StorageIOError,
    StorageReadOnly,
)

__all__ = ["storage_failure", "storage_failures"]

_SQLITE_TYPES: dict[int, type[StorageFailure]] = {
    sqlite3.SQLITE_FULL: StorageFull,
    sqlite3.SQLITE_READONLY: StorageReadOnly,
    sqlite3.SQLITE_PERM: StorageReadOnly,
    sqlite3.SQLITE_CANTOPEN: StorageReadOnly,
    sqlite3.SQLITE_IOERR: StorageIOError,
    sqlite3.SQLITE_NOMEM: StorageIOError,
    sqlite3.SQLITE_PROTOCOL: StorageIOError,
    sqlite3.SQLITE_BUSY: StorageBusy,
    sqlite3.SQLITE_LOCKED: StorageBusy,
    sqlite3.SQLITE_CORRUPT: StorageCorrupt,
    sqlite3.SQLITE_NOTADB: StorageCorrupt,
}
_ERRNO_TYPES: dict[int, type[StorageFailure]] = {
    errno.ENOSPC: StorageFull,
    errno.EDQUOT: StorageFull,
    errno.EFBIG: StorageFull,
    errno.EROFS: StorageReadOnly,
    errno.EACCES: StorageReadOnly,
    errno.EPERM: StorageReadOnly,
    errno.EIO: StorageIOError,
    errno.ENOMEM: StorageIOError,
}
_ADVICE: dict[type[StorageFailure], str] = {
    StorageFull: "its disk is full; writes fail until space is freed (reads go on)",
    StorageReadOnly: "it is read-only or not writable by the server; writes fail until an "
    "operator makes it writable (reads go on)",
    StorageIOError: "the device failed a read or write; retry, and check the disk",
    StorageBusy: "another process holds a lock on the store; retry shortly",
    StorageCorrupt: "the store's file is damaged; restore the data dir from a backup or "
    "rebuild it with `neardup build`",
}


def storage_failure(exc: BaseException, where: Path) -> StorageFailure | None:
    """The `StorageFailure` an SQLite or OS error of the data dir at `where` means, or None
    when it is neither (a bug, or a misuse of SQLite: the caller re-raises those)."""
    kind: type[StorageFailure] | None = None
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)  # absent on errors of the module itself
        if code is not None:
            kind = _SQLITE_TYPES.get(code & 0xFF)
    elif isinstance(exc, OSError) and exc.errno is not None:
        kind = _ERRNO_TYPES.get(exc.errno)
    if kind is None:
        return None
    return kind(f"the data dir {where}: {_ADVICE[kind]} ({exc})")


@contextmanager
def storage_failures(where: Path) -> Iterator[None]:
    """Re-raises the data dir's SQLite and OS errors as their `StorageFailure` types."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        failure = storage_failure(exc, where)
        if failure is None:
            raise
        raise failure from exc
