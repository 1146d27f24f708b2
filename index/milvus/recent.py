"""This engine's own writes that its reads may not see in Milvus yet (see `consistency`).

Each acknowledged add or delete is kept here with the Milvus timestamp of its write until
the engine's read point passes that timestamp: from then on Milvus shows it to every read.
A read takes a `View` (the entries still newer than its read point) and lets it override
what Milvus answered: a kept image replaces Milvus's row of the same id, a kept delete hides
it. The entries are the last `READ_LAG_SECONDS` of this engine's writes, so a view is small.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..records import StoredImage

__all__ = ["RecentWrites", "View"]


@dataclass(frozen=True, slots=True)
class _Entry:
    image: StoredImage | None  # None: deleted
    stamp: int


class View:
    """One collection's recent writes as a read sees them: by id, the image or None for a
    delete."""

    def __init__(self, latest: Mapping[str, StoredImage | None]) -> None:
        self.latest = latest
        self._images = [image for image in latest.values() if image is not None]
        self._codes: np.ndarray | None = None  # their codes, made on the first `near`

    def overrides(self, image_id: str) -> bool:
        """Whether this view, not Milvus, says what that id holds."""
        return image_id in self.latest

    def near(self, codes: Sequence[int], radius: int | None) -> list[tuple[StoredImage, int, int]]:
        """(image, distance, index of the nearest code) of the kept images within `radius`
        of any code (every kept image when radius is None). One numpy pass over the kept
        codes: a view holds a second of this engine's writes, and every add checks it."""
        if not self._images or not codes:
            return []
        if self._codes is None:
            values = (image.fingerprint.value for image in self._images)
            self._codes = np.fromiter(values, dtype=np.uint64, count=len(self._images))
        asked = np.array(codes, dtype=np.uint64)
        distances = np.bitwise_count(self._codes[:, None] ^ asked[None, :])
        which = distances.argmin(axis=1)
        nearest = distances[np.arange(len(self._images)), which]
        kept = np.arange(len(self._images)) if radius is None else np.flatnonzero(nearest <= radius)
        return [(self._images[i], int(nearest[i]), int(which[i])) for i in kept]


class RecentWrites:
    """The recent writes of every collection (thread-safe)."""

    def __init__(self) -> None:
        self._entries: dict[str, dict[str, _Entry]] = {}
        self._lock = threading.Lock()

    def record(
        self,
        collection: str,
        stamp: int,
        images: Iterable[StoredImage] = (),
        deleted: Iterable[str] = (),
    ) -> None:
        """Keeps writes Milvus acknowledged with a timestamp at most `stamp`."""
        with self._lock:
            entries = self._entries.setdefault(collection, {})
            for image in images:
                entries[image.id] = _Entry(image, stamp)
            for image_id in deleted:
                entries[image_id] = _Entry(None, stamp)

    def view(self, collection: str, read_point: int) -> View:
        """The writes a read at `read_point` may not see in Milvus; forgets the older ones
        (every later read is at that point or after it)."""
        with self._lock:
            entries = self._entries.get(collection)
            if not entries:
                return View({})
            for image_id in [i for i, e in entries.items() if e.stamp <= read_point]:
                del entries[image_id]
            return View({image_id: entry.image for image_id, entry in entries.items()})

    def forget(self, collection: str) -> None:
        """Drops a collection's entries (the collection was dropped)."""
        with self._lock:
            self._entries.pop(collection, None)
