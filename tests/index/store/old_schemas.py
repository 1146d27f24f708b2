"""A store turned back into what an earlier neardup wrote, to test the upgrades: each
version's additions undone, newest first (the one place that knows what each added)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# What each schema version added over the one before it, undone.
_UNDO = {
    6: ["ALTER TABLE changes DROP COLUMN crop", "ALTER TABLE images DROP COLUMN digest"],
    5: [
        "DROP TABLE thumbnails",
        "ALTER TABLE collections DROP COLUMN thumbnails",
        "ALTER TABLE collections DROP COLUMN orientations",
    ],
    4: [],  # a change of `phash`'s border rule: the same tables
    3: [
        "DROP TABLE crop_codes",
        "ALTER TABLE images DROP COLUMN crops",
        "ALTER TABLE collections DROP COLUMN crop_hashes",
    ],
    2: [
        "ALTER TABLE images DROP COLUMN quality",
        "ALTER TABLE collections DROP COLUMN min_quality",
    ],
}


def as_schema(store: Path, version: int) -> None:
    """Turns a store of the current schema back into one of `version`."""
    with sqlite3.connect(store) as conn:
        for undone in sorted((v for v in _UNDO if v > version), reverse=True):
            for statement in _UNDO[undone]:
                conn.execute(statement)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (version,))
