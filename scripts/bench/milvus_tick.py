"""Milvus's time tick against what it costs: for each `proxy.timeTickInterval`, a standalone
server (scripts/tools/milvus_standalone.py) with --rows stored, timed from pymilvus:

- an upsert of one row, then a read of it by key: Strong, Session (the writer's own
  timestamp) and at the Milvus engine's read point (`consistency`: the clock less
  READ_LAG_SECONDS, which never waits);
- a radius-10 search (limit 100) at Strong and at the read point; at the read point also
  with the limit the engine asks only when 100 came back full (10,001: its result limit
  and one), and on the same rows before they were sealed (flushed): the two costs behind
  the engine's `_FIRST_ASK` and `FLUSH_ROWS`;
- the idle server's CPU (its process's user + system time over --idle seconds, nothing
  asked), as a share of one core.

The anchor is Milvus's default tick (200 ms), in the same run: each row prints its ratio to
it. This is what chose the tick the project's server runs with (`TICK_MS`).

    python -m scripts.bench.milvus_tick [--ticks 200,50,20] [--rows 20000] [--idle 20]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neardup.index.milvus.consistency import ReadPoint, at

from scripts.bench.common import published
from scripts.tools.milvus_standalone import StandaloneMilvus, StandaloneUnavailable

TRIALS = 40
ANCHOR_TICK = 200
# How long a flushed collection takes to be searched sealed, with its index.
SEALED_SECONDS = 15


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median_ms(call: Callable[[], Any], before: Callable[[], Any] = lambda: None) -> float:
    spent = []
    for _ in range(TRIALS):
        before()
        started = time.perf_counter()
        call()
        spent.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    return statistics.median(spent)


def measure(tick_ms: int, rows: int, idle_seconds: float) -> dict[str, float]:
    from pymilvus import DataType, MilvusClient

    with tempfile.TemporaryDirectory(prefix="neardup-tick-") as tmp:
        server = StandaloneMilvus(Path(tmp) / "milvus", tick_ms)
        uri = server.start()
        try:
            client = MilvusClient(uri=uri, timeout=60)
            schema = client.create_schema(auto_id=False)
            schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=64)
            schema.add_field("code", DataType.BINARY_VECTOR, dim=64)
            index = client.prepare_index_params()
            index.add_index("code", index_type="BIN_FLAT", metric_type="HAMMING")
            client.create_collection("tick", schema=schema, index_params=index)
            rng = random.Random(tick_ms)
            for start in range(0, rows, 5000):
                batch = range(start, min(rows, start + 5000))
                client.upsert("tick", [{"pk": f"r{i}", "code": rng.randbytes(8)} for i in batch])
            written = {"key": ""}
            read_point = ReadPoint(0)

            def write() -> None:
                written["key"] = f"w{rng.getrandbits(48)}"
                client.upsert("tick", [{"pk": written["key"], "code": rng.randbytes(8)}])

            def read(level: dict[str, Any]) -> Callable[[], Any]:
                return lambda: client.query(
                    "tick", filter=f'pk == "{written["key"]}"', output_fields=["pk"], **level
                )

            def point() -> dict[str, Any]:
                return at(read_point.now())

            def search(level: Callable[[], dict[str, Any]], limit: int = 100) -> Callable[[], Any]:
                params = {"metric_type": "HAMMING", "params": {"radius": 11, "range_filter": 0}}
                return lambda: client.search(
                    "tick",
                    data=[rng.randbytes(8)],
                    anns_field="code",
                    limit=limit,
                    search_params=params,
                    **level(),
                )

            unsealed = _median_ms(search(point))
            unsealed_wide = _median_ms(search(point, 10_001))
            client.flush("tick")
            time.sleep(SEALED_SECONDS)
            figures = {
                "upsert ms": _median_ms(write),
                "read own write, Strong ms": _median_ms(
                    read({"consistency_level": "Strong"}), write
                ),
                "read own write, Session ms": _median_ms(
                    read({"consistency_level": "Session"}), write
                ),
                "read at the read point (no wait) ms": _median_ms(lambda: read(point())(), write),
                "search r10, Strong ms": _median_ms(
                    search(lambda: {"consistency_level": "Strong"})
                ),
                "search r10, read point ms": _median_ms(search(point)),
                "search r10, read point, limit 10,001 ms": _median_ms(search(point, 10_001)),
                "search r10, read point, rows not yet sealed ms": unsealed,
                "the same, limit 10,001 ms": unsealed_wide,
            }
            client.close()
            pid = server.pid
            assert pid is not None
            used = cpu_seconds(pid)
            time.sleep(idle_seconds)
            figures["idle CPU, % of a core"] = 100 * (cpu_seconds(pid) - used) / idle_seconds
            return figures
        finally:
            server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", default="200,50,20")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    try:
        ticks = [int(t) for t in args.ticks.split(",")]
    except ValueError:
        parser.error(
            f"--ticks takes milliseconds separated by commas, e.g. 200,20; got {args.ticks!r}"
        )
    if ANCHOR_TICK not in ticks:
        ticks.insert(0, ANCHOR_TICK)
    results: dict[int, dict[str, float]] = {}
    for tick in ticks:
        try:
            results[tick] = measure(tick, args.rows, args.idle)
        except StandaloneUnavailable as exc:
            print(f"skipped: {exc}")
            return 1
        print(f"tick {tick} ms: done", flush=True)
    print(
        f"\n{args.rows:,} rows, {TRIALS} trials each, p50; (ratio to the {ANCHOR_TICK} ms tick)\n"
    )
    print("| | " + " | ".join(f"tick {t} ms" for t in ticks) + " |")
    print("|---|" + "---|" * len(ticks))
    anchor = results[ANCHOR_TICK]
    for key in anchor:
        cells = [
            f"{results[t][key]:,.1f} ({results[t][key] / anchor[key]:.2f}x)"
            if anchor[key]
            else f"{results[t][key]:,.1f}"
            for t in ticks
        ]
        print(f"| {key} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Milvus's time tick: reads after writes against the idle server's CPU",
            "the packaged standalone server at Milvus's default tick (200 ms)",
            main,
        )
    )
