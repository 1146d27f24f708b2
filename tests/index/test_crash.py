"""Crash safety with real SIGKILLs: nothing acknowledged is lost, nothing is half-written.

A child process (crash_worker.py) adds, replaces and deletes from four threads while the
store snapshots and compacts constantly; the parent kills it at a random moment, or right
as a snapshot or a compaction starts, then reopens the data dir and checks every id and the
index against the store. The data dir carries over from round to round.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from neardup.index import Engine, EngineSettings

WORKER = Path(__file__).with_name("crash_worker.py")
ROUNDS = 21
State = tuple[int, str] | None  # (hash, metadata "v") or absent


def run_and_kill(data: Path, seed: int, mode: str, rng: random.Random) -> list[str]:
    """Runs the worker, kills it (SIGKILL) as `mode` says, returns every line it printed."""
    child = subprocess.Popen(
        [sys.executable, str(WORKER), str(data), str(seed)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    lines: list[str] = []
    marker = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("M ready") and mode == "random":
                marker.set()
            if line.startswith(f"M {mode}"):
                marker.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert marker.wait(60), f"the worker never reached {mode!r}: {lines[-5:]}"
    if mode == "random":
        time.sleep(rng.uniform(0.05, 0.8))
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    reader.join()
    assert child.returncode == -signal.SIGKILL
    return lines


def expected_states(lines: list[str], model: dict[str, State]) -> dict[str, set[State]]:
    """For each id written this round, the states it may be in after the kill: the last
    acknowledged one, or that of the write still in flight."""
    submitted: dict[str, tuple[str, State]] = {}
    acked: dict[str, State] = {}
    in_flight: dict[str, State] = {}
    for line in lines:
        fields = line.split(" ")
        if fields[0] == "S":
            token, image_id, op, value, v = fields[1:]
            state: State = None if op == "delete" else (int(value, 16), v)
            submitted[token] = (image_id, state)
            in_flight[image_id] = state
        elif fields[0] == "A":
            image_id, state = submitted[fields[1]]
            acked[image_id] = state
            del in_flight[image_id]
    written = {image_id for image_id, _ in submitted.values()}
    allowed = {image_id: {acked.get(image_id, model.get(image_id))} for image_id in written}
    for image_id, state in in_flight.items():
        allowed[image_id].add(state)
    return allowed


def stored_states(engine: Engine) -> dict[str, State]:
    states: dict[str, State] = {}
    after = ""
    while page := engine.list_images("", after_id=after, limit=1000):
        for image in page:
            states[image.id] = (image.fingerprint.value, image.metadata["v"])
        after = page[-1].id
    return states


@pytest.mark.slow
def test_every_acknowledged_write_survives_sigkill_and_the_index_matches_the_store(
    tmp_path: Path,
) -> None:
    rng = random.Random(20261125)
    model: dict[str, State] = {}
    modes = ["random", "snapshot", "compact"]
    sources: list[str] = []
    total_acks = 0
    for round_number in range(ROUNDS):
        mode = modes[round_number % 3]
        lines = run_and_kill(tmp_path, round_number, mode, rng)
        acks = sum(line.startswith("A ") for line in lines)
        total_acks += acks
        allowed = expected_states(lines, model)
        with Engine(tmp_path, EngineSettings(maintenance_interval_seconds=3600)) as engine:
            sources.append(engine.load_reports[0].source)
            actual = stored_states(engine)
            for image_id in set(model) | set(allowed):
                got = actual.get(image_id)
                want = allowed.get(image_id, {model.get(image_id)})
                assert got in want, (round_number, mode, image_id, got, want, acks)
            index = engine.inspect("")
            assert index.live_codes() == Counter(value for value, _ in actual.values())
            for image_id, (value, _) in list(actual.items())[:40]:
                found = engine.search("", [engine.get("", image_id).fingerprint], radius=0)
                assert image_id in [m.image.id for m in found.matches]
                assert found.matches[0].distance == 0 and value == found.query.value
            engine.close(final_snapshot=round_number % 2 == 0)
        model = {image_id: state for image_id, state in actual.items()}
    assert len(model) > 50  # the rounds did write
    assert total_acks > ROUNDS, total_acks  # and acknowledged writes before their kills
    # Snapshots are published atomically, so no kill leaves one that forces a rebuild; only
    # the first round can be killed before its data dir has any snapshot at all.
    assert set(sources[1:]) == {"snapshot"}, sources
