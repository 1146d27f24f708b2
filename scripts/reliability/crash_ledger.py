"""What the crash loop expects a restarted server to hold, and the check against it.

The ledger knows, for every id the workload ever sent, its acknowledged state (a hash, or
absent), and for an operation sent but not acknowledged when the server died, both states
it may have left. `check_server` reads everything a restarted server stores and compares.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

import numpy as np
from neardup.service.client import Client
from neardup.v1 import neardup_pb2 as pb

__all__ = ["Check", "Ledger", "check_server"]

RADIUS = 10
INDEX_QUERIES = 40


class Ledger:
    """Each id's acknowledged state, and the states an unacknowledged operation allows."""

    def __init__(self) -> None:
        self.settled: dict[str, str | None] = {}  # id -> hex, or None: absent
        self.open: dict[str, set[str | None]] = {}  # id -> the states it may be in
        self._pending: dict[str, str | None] = {}
        self.acknowledged = 0
        self._lock = threading.Lock()

    def begin(self, image_id: str, state: str | None) -> None:
        """An operation that would leave `image_id` in `state` (None: deleted) is sent."""
        with self._lock:
            before = self.open.get(image_id, {self.settled.get(image_id)})
            self.open[image_id] = before | {state}
            self._pending[image_id] = state

    def acknowledge(self, image_id: str) -> None:
        """The server acknowledged the operation begun last on `image_id`."""
        with self._lock:
            self.settled[image_id] = self._pending.pop(image_id)
            self.open.pop(image_id, None)
            self.acknowledged += 1

    def resolve(self, image_id: str, state: str | None) -> bool:
        """After a restart: the state found for an id; False if no operation explains it."""
        with self._lock:
            allowed = self.open.pop(image_id, None)
            self._pending.pop(image_id, None)
            if allowed is None:
                allowed = {self.settled.get(image_id)}
            self.settled[image_id] = state
            return state in allowed

    def sent(self, image_id: str) -> bool:
        return image_id in self.settled or image_id in self.open


@dataclass
class Check:
    """What one check of a restarted server found."""

    stored: int = 0
    index_queries: int = 0
    by_tables: int = 0  # of the index queries, those the substring tables answered
    violations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.stored} images stored, {self.index_queries} index queries against a "
            f"scan ({self.by_tables} through the substring tables), "
            f"{len(self.violations)} violations"
        )


def stored_images(client: Client, collection: str = "") -> dict[str, str]:
    """Every image of the collection, id -> hex, through List's pages."""
    stored: dict[str, str] = {}
    token = ""
    while True:
        request = pb.ListRequest(collection=collection, page_size=1000, page_token=token)
        page = client.call("List", request)
        stored.update((image.id, image.hash.hex) for image in page.images)
        token = page.next_page_token
        if not token:
            return stored


def check_server(client: Client, ledger: Ledger, collection: str = "") -> Check:
    """Compares what the collection stores with the ledger, and its index with a scan."""
    stored = stored_images(client, collection)
    found = Check(stored=len(stored))
    for image_id in sorted(set(ledger.settled) | set(ledger.open) | set(stored)):
        state = stored.get(image_id)
        if not ledger.sent(image_id):
            found.violations.append(f"phantom: {image_id} stored but never sent")
        elif not ledger.resolve(image_id, state):
            found.violations.append(f"{image_id}: stored as {state}, which no write explains")
    count = client.stats(collection).collection.image_count
    if count != len(stored):
        found.violations.append(f"Stats counts {count} images, List returns {len(stored)}")
    found.index_queries, found.by_tables = _check_index(
        client, stored, found.violations, collection
    )
    return found


def _check_index(
    client: Client, stored: dict[str, str], violations: list[str], collection: str
) -> tuple[int, int]:
    """Radius searches through the index against a brute-force scan of `stored`: how many,
    and how many of them the substring tables answered."""
    if not stored:
        return 0, 0
    ids = list(stored)
    codes = np.array([int(stored[i], 16) for i in ids], dtype=np.uint64)
    rng = random.Random(len(ids))
    by_tables = 0
    for _ in range(INDEX_QUERIES):
        query = int(codes[rng.randrange(len(codes))]) ^ (1 << rng.randrange(64))
        distances = np.bitwise_count(codes ^ np.uint64(query))
        expected = {ids[i] for i in np.flatnonzero(distances <= RADIUS)}
        answer = client.search(hash=f"{query:016x}", max_distance=RADIUS, collection=collection)
        got = {m.id for m in answer.matches}
        by_tables += answer.path == pb.SEARCH_PATH_TABLES
        if got != expected and not answer.truncated:
            missing, extra = sorted(expected - got)[:3], sorted(got - expected)[:3]
            violations.append(
                f"index: radius {RADIUS} around {query:016x} gave {len(got)} ids, a scan "
                f"{len(expected)} (missing {missing}, extra {extra})"
            )
    return INDEX_QUERIES, by_tables
