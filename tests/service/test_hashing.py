"""Hashing in worker processes: the same answers and errors as hashing on the calling thread,
a worker that dies replaced, and no worker outliving its server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.index.errors import CorruptImage, EmptyImage, ImageTooLarge, Unavailable
from neardup.index.fingerprint import DecodeLimits
from neardup.service.hashing import Hashing, HashJob, hash_job

IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "images"


def _jpeg() -> bytes:
    return min(IMAGES.glob("*.jpg"), key=lambda p: p.stat().st_size).read_bytes()


def _job(data: bytes, **options: object) -> HashJob:
    settings = {"orientations": True, "crops": True, "thumbnail": True, "limits": DecodeLimits()}
    settings.update(options)
    return HashJob(data, "phash", **settings)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def workers() -> Iterator[Hashing]:
    hashing = Hashing(2)
    hashing.start()
    yield hashing
    hashing.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def test_a_worker_answers_what_hashing_on_the_calling_thread_answers(workers: Hashing) -> None:
    job = _job(_jpeg())
    hashes, thumbnail = workers.run(job)
    assert (hashes, thumbnail) == hash_job(job)
    assert hashes.crops and len(hashes.orientations) == 8 and thumbnail


@pytest.mark.parametrize(
    ("data", "limits", "error"),
    [
        (b"", DecodeLimits(), EmptyImage),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, DecodeLimits(), CorruptImage),
        (None, DecodeLimits(max_bytes=1000), ImageTooLarge),
    ],
)
def test_a_refused_image_raises_the_same_error_from_a_worker(
    workers: Hashing, data: bytes | None, limits: DecodeLimits, error: type[Exception]
) -> None:
    job = _job(_jpeg() if data is None else data, limits=limits)
    with pytest.raises(error) as on_thread:
        hash_job(job)
    with pytest.raises(error) as in_worker:
        workers.run(job)
    assert str(in_worker.value) == str(on_thread.value)


def test_a_worker_that_dies_fails_its_call_as_unavailable_and_is_replaced() -> None:
    hashing = Hashing(1)
    hashing.start()
    try:
        [worker] = hashing._workers
        assert worker.process.pid is not None
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(10)
        with pytest.raises(Unavailable, match="retry"):
            hashing.run(_job(_jpeg()))
        hashes, _ = hashing.run(_job(_jpeg()))  # a new worker answers
        assert hashes == hash_job(_job(_jpeg()))[0]
    finally:
        hashing.close()


def test_close_stops_every_worker() -> None:
    hashing = Hashing(2)
    hashing.start()
    pids = [w.process.pid for w in hashing._workers]
    hashing.close()
    assert not any(_alive(pid) for pid in pids if pid is not None)
    with pytest.raises(Unavailable):
        hashing.run(_job(_jpeg()))


def test_workers_exit_when_their_server_is_killed(tmp_path: Path) -> None:
    # The server's process dies without closing anything (SIGKILL): its workers see their
    # pipes close and exit, rather than hold the server's output open or wait forever.
    script = textwrap.dedent(
        """
        import sys, time
        from neardup.service.hashing import Hashing
        hashing = Hashing(2)
        hashing.start()
        print(" ".join(str(w.process.pid) for w in hashing._workers), flush=True)
        time.sleep(600)
        """
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    pids = [int(pid) for pid in server.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    server.kill()
    server.wait(10)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def test_an_error_that_cannot_be_pickled_still_answers_and_the_worker_lives_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker's loop, on a thread here over a real pipe: its hasher raises an error carrying
    # a lambda, which no pickle can send.
    import multiprocessing
    import threading

    from neardup.service import hashing

    class Unsendable(Exception):
        def __init__(self) -> None:
            super().__init__("carries a lambda")
            self.callback = lambda: None

    calls = iter([Unsendable(), None])

    def flaky(job: HashJob) -> object:
        error = next(calls)
        if error is not None:
            raise error
        return hash_job(job)

    monkeypatch.setattr(hashing, "hash_job", flaky)
    ours, theirs = multiprocessing.Pipe()
    worker = threading.Thread(target=hashing._serve_jobs, args=(theirs,), daemon=True)
    worker.start()
    job = _job(_jpeg())
    options = (job.algorithm, job.orientations, job.crops, job.thumbnail, job.limits)
    ours.send(options)
    ours.send_bytes(job.data)
    ok, error = ours.recv()
    assert not ok and isinstance(error, RuntimeError) and "Unsendable" in str(error)
    ours.send(options)
    ours.send_bytes(job.data)
    ok, wire = ours.recv()
    assert ok and hashing._from_wire(wire) == hash_job(job)
    ours.close()
    worker.join(5)
    assert not worker.is_alive()  # its pipe closed: the loop ends
