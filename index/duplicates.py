"""Duplicate checks that stay right while writes are queued.

An add searches the code index for its near-duplicates before its turn on the store's
writer (searches run in parallel; the writer is serial); on its turn it adds the codes
stored since that search: those the index has applied since (`recent.RecentAdds`,
recorded by the writer) and those of earlier operations of its own group, which the index
has not applied yet (the transaction's pending changes). So an add never misses a duplicate
acknowledged before it, and the search's cost stays off the writer.
"""

from __future__ import annotations

import numpy as np

from .collection import LoadedCollection
from .hamming import CodeMatch
from .matches import floor_rule, image_matches
from .query import Query
from .records import Match
from .store import Transaction

__all__ = ["duplicates_as_seen"]


def duplicates_as_seen(
    txn: Transaction,
    coll: LoadedCollection,
    query: Query,
    radius: int,
    limit: int,
    exclude_id: str,
    searched: tuple[int, list[CodeMatch]],
) -> list[Match]:
    """Stored images within `radius` of the query's codes, as the transaction sees them:
    the search made before the operation's turn, plus the codes added since (by earlier
    groups, or by earlier operations of this one, which the index has not applied
    yet)."""
    coll.check_searchable()
    codes = [code.fingerprint.value for code in query.codes]
    seen, matches = searched
    later = coll.recent.since(seen)
    if later is None:  # the history no longer reaches back: search again, here
        matches = coll.radius_index.search(codes, k=limit + 1, radius=radius).matches
        later = []
    near = {m.code: m for m in matches}
    pending = [c.code for c in txn.pending_changes(coll.info.name) if c.delta > 0]
    candidates = np.array(later + pending, dtype=np.uint64)
    each = np.bitwise_count(candidates[:, None] ^ np.array(codes, dtype=np.uint64)[None, :])
    nearest_query, distances = each.argmin(axis=1), each.min(axis=1, initial=64)
    for i in np.flatnonzero(distances <= radius).tolist():
        code = int(candidates[i])
        # added since the search: few images carry it yet
        near.setdefault(code, CodeMatch(code, int(distances[i]), int(nearest_query[i]), 1))
    crops, rule = coll.every_code is not None, floor_rule(coll, query)
    return image_matches(
        txn.conn, coll, list(near.values()), limit, exclude_id, query.codes, crops, rule
    )
