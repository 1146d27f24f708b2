"""The child of the crash test: writes to an engine until it is killed (SIGKILL).

    python crash_worker.py DATA_DIR SEED

Threads own disjoint ids, so each id has at most one write in flight. Every write is printed
before it is submitted (`S token id op hash v`) and again once acknowledged (`A token`);
`M snapshot` / `M compact` mark the start of a snapshot or compaction, so the parent can kill
in the middle of one. Snapshots and compactions are made frequent on purpose.
"""

from __future__ import annotations

import logging
import random
import sys
import threading

from neardup.index import Engine, EngineSettings, Fingerprint, IndexParams, OnExistingId

_print_lock = threading.Lock()


def say(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Markers(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "writing snapshot" in message:
            say("M snapshot")
        elif "compacting" in message:
            say("M compact")


def writer(engine: Engine, thread: int, seed: int) -> None:
    rng = random.Random(seed * 100 + thread)
    bases = [rng.getrandbits(64) for _ in range(20)]
    for n in range(10**9):
        image_id = f"t{thread}-{rng.randrange(60)}"
        token = f"{seed}.{thread}.{n}"
        if rng.random() < 0.3:
            say(f"S {token} {image_id} delete - -")
            engine.delete("", [image_id])
        else:
            value = rng.choice(bases) ^ (1 << rng.randrange(64) if rng.random() < 0.5 else 0)
            say(f"S {token} {image_id} add {value:016x} {token}")
            engine.add(
                "",
                image_id,
                Fingerprint(value, "phash"),
                metadata={"v": token},
                on_existing=OnExistingId.REPLACE,
                find_duplicates=rng.random() < 0.5,
            )
        say(f"A {token}")


def main() -> None:
    data_dir, seed = sys.argv[1], int(sys.argv[2])
    logging.getLogger("neardup").addHandler(Markers())
    logging.getLogger("neardup").setLevel(logging.DEBUG)
    settings = EngineSettings(
        index=IndexParams(hnsw_m=8, ef_construction=16, ef_search=32, exact_threshold=0),
        snapshot_every_writes=40,
        compact_min_dead=15,
        compact_dead_fraction=0.1,
        maintenance_interval_seconds=0.01,
    )
    engine = Engine(data_dir, settings)
    say("M ready")
    threads = [threading.Thread(target=writer, args=(engine, t, seed)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
