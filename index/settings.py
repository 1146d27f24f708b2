"""`EngineSettings`: how an engine runs (the service's configuration fills it in)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .params import IndexParams

__all__ = ["EngineSettings"]


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How an engine runs.

    index: the parameters new collections get where they do not set their own.
    snapshot_every_writes / snapshot_every_seconds: a collection is snapshotted when this
    many changes were applied since its last snapshot, or this long after it when any were.
    compact_dead_fraction / compact_min_dead: a collection is compacted when its dead slots
    are at least this share of its slots and at least this many.
    max_group: operations per group commit; queue_size: operations waiting at most (then
    writers block).
    result_limit: the most matches a radius query returns (the rest: `truncated`).
    """

    index: IndexParams = field(default_factory=IndexParams)
    snapshot_every_writes: int = 100_000
    snapshot_every_seconds: float = 600.0
    compact_dead_fraction: float = 0.25
    compact_min_dead: int = 1024
    max_group: int = 4096
    queue_size: int = 65_536
    result_limit: int = 10_000
    maintenance_interval_seconds: float = 1.0
