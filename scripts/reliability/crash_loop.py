"""Crash loop: SIGKILL a real server at random moments of a mixed workload, restart it, and
check that nothing acknowledged was lost.

    python -m scripts.reliability.crash_loop --rounds 50          # the run the README quotes
    python -m scripts.reliability.crash_loop --rounds 3        # short, as `make test` runs it
    python -m scripts.reliability.crash_loop --rounds 50 --index-kind tables   # compact kind
    python -m scripts.reliability.crash_loop --rounds 50 --tables-from 1000    # with tables

Each round starts `neardup serve` on the same data dir (127.0.0.1, port 0) and checks what
the rounds before left: every acknowledged add and replace is stored with its hash, every
acknowledged delete is absent, no id is stored that was never sent (no phantom), the image
count is the stored count, and radius-10 searches through the index return exactly what a
brute-force scan of the stored hashes returns. An operation in flight at the kill may have
happened or not; the next check accepts either and learns which. Then workers run adds,
replaces, deletes and AddStream batches, with Snapshot and Compact calls beside them, for a
random time, and the server is SIGKILLed. Prints per round the time to SERVING and the
checks, and a summary; exits 1 on any violation. With --tables-from N the workload runs in a
collection of its own whose substring tables are built from N codes on (the default
collection's are from 100,000, more than these rounds store), so that snapshots carry them
and restarts load them.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from neardup.service.client import Client, NeardupRpcError, add_request
from neardup.v1 import neardup_pb2 as pb

from scripts.bench.common import published
from scripts.reliability.crash_ledger import Ledger, check_server
from scripts.reliability.server_process import ServerProcess

WORKERS = 4
IDS_PER_WORKER = 1500
STREAM_ITEMS = 10
SERVING_BOUND_SECONDS = 60.0
TABLED_COLLECTION = "tabled"


def work(
    client: Client, ledger: Ledger, worker: int, stop: threading.Event, seed: int, collection: str
) -> None:
    """Adds, replaces, deletes and AddStream batches over this worker's ids until the
    server dies (or `stop`); each operation is written in the ledger before and after."""
    rng = random.Random(seed)
    ids = [f"w{worker}-{i}" for i in range(IDS_PER_WORKER)]
    while not stop.is_set():
        choice = rng.random()
        try:
            if choice < 0.15:
                _stream(client, ledger, rng.sample(ids, STREAM_ITEMS), rng, collection)
            elif choice < 0.35:
                victim = rng.choice(ids)
                ledger.begin(victim, None)
                client.delete([victim], collection)
                ledger.acknowledge(victim)
            else:
                image_id, code = rng.choice(ids), f"{rng.getrandbits(64):016x}"
                ledger.begin(image_id, code)
                request = add_request(id=image_id, hash=code, replace=True, collection=collection)
                client.call("Add", request)
                ledger.acknowledge(image_id)
        except NeardupRpcError:
            return  # the server is gone: what was in flight stays open in the ledger


def _stream(
    client: Client, ledger: Ledger, ids: list[str], rng: random.Random, collection: str
) -> None:
    requests = []
    for image_id in ids:
        code = f"{rng.getrandbits(64):016x}"
        ledger.begin(image_id, code)
        requests.append(add_request(id=image_id, hash=code, replace=True, collection=collection))
    for answer in client.add_stream(requests):
        if answer.WhichOneof("result") == "added":
            ledger.acknowledge(answer.id)


def create_tabled(client: Client, kind: str, tables_from: int) -> None:
    """The collection of a --tables-from run."""
    index = pb.IndexParams(kind=kind, substring_tables_min_codes=tables_from)
    client.call("CreateCollection", pb.CreateCollectionRequest(name=TABLED_COLLECTION, index=index))


def maintain(client: Client, stop: threading.Event, rng: random.Random, collection: str) -> None:
    """Snapshots and compactions while the workers write, until the server dies."""
    while not stop.wait(rng.uniform(0.05, 0.5)):
        try:
            if rng.random() < 0.6:
                client.call("Snapshot", pb.SnapshotRequest(collection=collection))
            else:
                client.call("Compact", pb.CompactRequest(collection=collection))
        except NeardupRpcError:
            return


def crash_round(
    server: ServerProcess, ledger: Ledger, rng: random.Random, seconds: float, collection: str
) -> None:
    """Runs the workload against the started server, then SIGKILLs it mid-way."""
    stop = threading.Event()
    with Client(server.address, timeout=30) as client:
        threads = [
            threading.Thread(
                target=work, args=(client, ledger, w, stop, rng.getrandbits(32), collection)
            )
            for w in range(WORKERS)
        ]
        threads.append(threading.Thread(target=maintain, args=(client, stop, rng, collection)))
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        server.kill()
        stop.set()
        for thread in threads:
            thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=4.0, help="longest round")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--index-kind", choices=["hnsw", "tables"], default="hnsw")
    parser.add_argument(
        "--tables-from",
        type=int,
        metavar="N",
        help="run in a collection whose substring tables are built from N codes on",
    )
    args = parser.parse_args()
    collection = "" if args.tables_from is None else TABLED_COLLECTION
    rng = random.Random(args.seed)
    ledger = Ledger()
    violations = 0
    worst_start = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        settings = {"snapshot_every_seconds": "1", "index_kind": args.index_kind}
        server = ServerProcess(Path(scratch) / "data", settings)
        for number in range(1, args.rounds + 2):
            serving = server.start()
            worst_start = max(worst_start, serving)
            with Client(server.address, timeout=60) as client:
                if number == 1 and collection:
                    create_tabled(client, args.index_kind, args.tables_from)
                found = check_server(client, ledger, collection)
            violations += len(found.violations) + (serving > SERVING_BOUND_SECONDS)
            print(f"round {number - 1}: SERVING after {serving:.2f} s; {found.summary()}")
            for violation in found.violations[:10]:
                print(f"  VIOLATION {violation}")
            if number > args.rounds:
                server.stop()
                break
            crash_round(server, ledger, rng, rng.uniform(0.2, args.max_seconds), collection)
    tables = (
        "" if args.tables_from is None else f", substring tables from {args.tables_from:,} codes"
    )
    print(
        f"\n{args.rounds} rounds of SIGKILL ({args.index_kind} index{tables}): "
        f"{ledger.acknowledged} acknowledged writes checked, {violations} violations; "
        f"slowest start to SERVING {worst_start:.2f} s (bound {SERVING_BOUND_SECONDS:.0f} s)"
    )
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(
        published(
            __spec__.name,
            "Crash loop",
            "the ledger of acknowledged writes (none may be lost)",
            main,
            page="reliability-crash_loop",
        )
    )
