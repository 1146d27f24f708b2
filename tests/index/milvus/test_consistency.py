"""The Milvus engine's read point: never below the timestamp Milvus issued at the start (so
every write acknowledged before it is seen), then trailing the clock, never backwards."""

from __future__ import annotations

from neardup.index.milvus.consistency import ReadPoint, at, milvus_timestamp


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_read_point_starts_at_milvus_s_start_timestamp_until_the_clock_passes_it() -> None:
    clock = Clock(1000.0)
    started = milvus_timestamp(1000.0)
    point = ReadPoint(started, lag_seconds=1.0, clock=clock)
    assert point.now() == started  # the clock less the lag is still before the start
    clock.now = 1002.5
    assert point.now() == milvus_timestamp(1001.5)


def test_a_read_point_never_moves_backwards_when_the_clock_does() -> None:
    clock = Clock(2000.0)
    point = ReadPoint(milvus_timestamp(1000.0), lag_seconds=1.0, clock=clock)
    ahead = point.now()
    clock.now = 1500.0
    assert point.now() == ahead


def test_milvus_timestamps_keep_milliseconds_above_eighteen_logical_bits() -> None:
    assert milvus_timestamp(1.5) == 1500 << 18
    assert at(7) == {"consistency_level": "Customized", "guarantee_timestamp": 7}
