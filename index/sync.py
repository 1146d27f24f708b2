"""Keeping each collection's code index in step with the store.

The store's writer thread commits a group of operations, then hands the index changes they
logged (+1 / -1 per code) to `IndexSync.apply_effects`, before the group is acknowledged:
an acknowledged add is searchable by the next call. Where applying them fails, the
collection is marked stale (it refuses searches, never answers wrongly) and its index is
rebuilt from the store, aside, then swapped in on the writer thread with the changes
committed meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from .code_sets import CodeSet
from .collection import LoadedCollection
from .errors import UnknownCollection
from .hamming import CodeIndex
from .hamming.costs import CostModel
from .persistence.recovery import rebuild_index, replay_changes
from .recent import RecentAdds
from .settings import EngineSettings
from .store import Change, Store, Transaction

__all__ = ["IndexSync", "check_current"]

log = logging.getLogger(__name__)


def check_current(collections: Mapping[str, LoadedCollection], coll: LoadedCollection) -> None:
    """On the writer thread: the collection an operation was submitted for still exists.

    Creations and drops run alone and change the registry right after their commit,
    before any later operation runs, so the registry is what the transaction sees.
    """
    if collections.get(coll.info.name) is not coll:
        raise UnknownCollection(f"no collection named {coll.info.name!r}")


class IndexSync:
    """Applies committed changes to the indexes of an engine's collections (`collections`:
    the engine's registry, read live), and rebuilds one whose apply failed."""

    def __init__(
        self,
        collections: Mapping[str, LoadedCollection],
        settings: EngineSettings,
        costs: CostModel | None,
    ) -> None:
        self._collections = collections
        self._settings = settings
        self._costs = costs
        self._store: Store | None = None

    def attach(self, store: Store) -> None:
        """The store whose writer calls `apply_effects` (made with it as its callback)."""
        self._store = store

    def apply_effects(self, effects: list[Change | Callable[[], None]]) -> None:
        # per collection: its codes, deltas, sequences, and which are crop codes
        pending: dict[str, tuple[list[int], list[int], list[int], list[bool]]] = {}

        def flush() -> None:
            for name, (codes, deltas, sequences, crops) in pending.items():
                coll = self._collections.get(name)
                if coll is None or coll.stale:  # dropped; or its resync replays these
                    continue
                try:
                    _apply(coll, codes, deltas, sequences, crops)
                except Exception:
                    log.exception("collection %s: applying committed changes failed", name)
                    self.mark_stale(coll)
                    continue
                coll.writes_since_snapshot += len(codes)
                added = [i for i, delta in enumerate(deltas) if delta > 0]
                coll.recent.record([sequences[i] for i in added], [codes[i] for i in added])
            pending.clear()

        for effect in effects:
            if isinstance(effect, Change):
                codes, deltas, sequences, crops = pending.setdefault(
                    effect.collection, ([], [], [], [])
                )
                codes.append(effect.code)
                deltas.append(effect.delta)
                sequences.append(effect.sequence)
                crops.append(effect.crop)
            else:
                flush()
                effect()
        flush()

    def mark_stale(self, coll: LoadedCollection) -> None:
        """On the writer thread, before the group is acknowledged: the collection's index
        missed committed changes, so it refuses searches until a rebuild replaces it."""
        coll.stale = True
        threading.Thread(
            target=self.resync, args=(coll,), name="engine-resync", daemon=True
        ).start()

    def resync(self, coll: LoadedCollection) -> None:
        """Rebuilds a stale collection's index from the store, aside, then swaps it in on
        the writer thread with the changes committed meanwhile. On failure the next
        maintenance pass tries again."""
        if not coll.resyncing.acquire(blocking=False):
            return  # one at a time
        rebuilt: list[tuple[CodeSet, CodeIndex]] = []
        assert self._store is not None, "attach the store first"
        try:
            started = time.perf_counter()
            for codes, _ in coll.indexes():
                rebuilt.append((codes, rebuild_index(self._store, coll.info, codes, self._costs)))
            fresh = list(rebuilt)

            def op(txn: Transaction) -> None:
                check_current(self._collections, coll)

                def swap() -> None:
                    for codes, index in fresh:
                        replay_changes(txn.conn, index, coll.info.name, codes)
                        coll.replace_index(codes, index).close()
                    rebuilt.clear()  # swapped in: no longer the failure path's to close
                    # duplicate checks read the radius index's sequence: history starts there
                    coll.recent = RecentAdds(floor=coll.radius_index.sequence)
                    coll.writes_since_snapshot = self._settings.snapshot_every_writes
                    coll.stale = False

                txn.after_commit(swap)

            self._store.run(op, exclusive=True)
            log.warning(
                "collection %s: index rebuilt from the store after a failed apply (%d images, "
                "%.2f s)",
                coll.info.name,
                coll.image_count,
                time.perf_counter() - started,
            )
        except Exception:
            for _, index in rebuilt:
                index.close()
            log.exception("collection %s: rebuilding its index failed", coll.info.name)
        finally:
            coll.resyncing.release()


def _apply(
    coll: LoadedCollection,
    codes: list[int],
    deltas: list[int],
    sequences: list[int],
    crops: list[bool],
) -> None:
    """Applies one collection's committed changes to its indexes: every change to its index
    of every code, and those of own hashes to its index of them."""
    if coll.every_code is not None:
        coll.every_code.apply(codes, deltas, max(sequences))
        if any(crops):
            own = [i for i, crop in enumerate(crops) if not crop]
            codes, deltas = [codes[i] for i in own], [deltas[i] for i in own]
    coll.index.apply(codes, deltas, max(sequences))
