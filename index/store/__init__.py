"""The durable store: SQLite in the data dir (the truth), group commit, the engine's SQL,
snapshot files, start-up recovery, and the data dir's layout and lock.

    database   `Store`: the SQLite database, its writer thread and schema version
    queries    every SQL statement the engine runs, as typed functions
    snapshot   snapshot files: written atomically, verified on load
    recovery   a collection's index at start-up: snapshot + replay, or a rebuild
    datadir    the files of a data dir, and the lock that makes it one process's
"""

from ..errors import StoreClosed
from .database import SCHEMA_VERSION, Change, Store, Transaction

__all__ = ["SCHEMA_VERSION", "Change", "Store", "StoreClosed", "Transaction"]
