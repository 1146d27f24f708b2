"""The data dir: where an engine keeps its files, and the lock that makes it one process's.

neardup.sqlite3 (+ -wal, -shm)   the store
snapshots/c<uid>.snap            one snapshot per collection (snapshot.py)
LOCK                             held (flock) by the one process that has it open
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from ..errors import DataDirInUse

__all__ = ["LOCK_FILE", "SNAPSHOT_DIR", "STORE_FILE", "lock_data_dir"]

STORE_FILE = "neardup.sqlite3"
SNAPSHOT_DIR = "snapshots"
LOCK_FILE = "LOCK"


def lock_data_dir(data_dir: Path) -> IO[str]:
    """Takes the data dir's lock (released when the handle closes); raises DataDirInUse
    naming the pid that holds it."""
    handle = (data_dir / LOCK_FILE).open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DataDirInUse(
            f"the data dir {data_dir} is in use by pid {holder}; stop it, or talk to it "
            "through its server"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle
