"""The durable store: SQLite in the data dir (the truth), group commit, the engine's SQL,
and the data dir's layout and lock. It imports `sqlite3` and the engine's records only
(snapshots and recovery live in `neardup.index.persistence`).

    database   `Store`: the SQLite database, its writer thread and schema version
    queries    every SQL statement the engine runs, as typed functions
    datadir    the files of a data dir, and the lock that makes it one process's
"""

from ..errors import StoreClosed
from .database import SCHEMA_VERSION, Change, Store, Transaction

__all__ = ["SCHEMA_VERSION", "Change", "Store", "StoreClosed", "Transaction"]
