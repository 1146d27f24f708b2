"""Where the server decodes and hashes images: on the calling thread, or in worker processes.

Decoding is in C and lets other threads run, but the hash's own steps (the DCT of a small
picture, its crops and orientations, in numpy calls too short to release Python's lock for
long) hold it: threads hashing beside the event loop and the store's writer spend much of
their time waiting for each other. Worker processes hash without that lock.

Each worker is a process of its own with one pipe: the calling thread sends the job's
options and the image's bytes as they are (no pickling of the bytes, and no manager or
feeder thread of the server's own as `ProcessPoolExecutor` runs), and waits, outside
Python's lock, for the hashes. A worker
is started by `spawn`, not `fork`: the server's process runs gRPC's threads, which a fork
would copy in whatever state they were. A worker whose server dies sees its pipe close and
exits; one that dies (the OOM killer, a crash in a decoder) fails its call with Unavailable
(retry) and is replaced.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from neardup.index.errors import NeardupError, Unavailable
from neardup.index.fingerprint import (
    DecodeLimits,
    Fingerprint,
    ImageHashes,
    hash_image,
    make_thumbnail,
)

__all__ = ["HashJob", "Hashing", "hash_job"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HashJob:
    """One image to hash: its bytes, the algorithm, whether to hash its orientations and
    crops, whether to make its thumbnail too (the same bytes, decoded again small), and the
    decoder's limits."""

    data: bytes
    algorithm: str
    orientations: bool
    crops: bool
    thumbnail: bool
    limits: DecodeLimits


HashResult = tuple[ImageHashes, bytes | None]


def hash_job(job: HashJob) -> HashResult:
    """The image's hashes, and its thumbnail when asked (raises the decoder's errors)."""
    hashes = hash_image(
        job.data,
        job.algorithm,
        orientations=job.orientations,
        crops=job.crops,
        limits=job.limits,
    )
    return hashes, make_thumbnail(job.data, job.limits) if job.thumbnail else None


# What a worker sends back: the hashes as plain values (pickled, a dataclass of 25
# Fingerprints costs several times what these do to send and rebuild), or the error.
_Wire = tuple[
    str, int, list[int], list[list[int]], int, int, str, int, int, int, bytes, bytes | None
]


def _to_wire(result: HashResult) -> _Wire:
    hashes, thumbnail = result
    return (
        hashes.fingerprint.algorithm,
        hashes.fingerprint.value,
        [f.value for f in hashes.orientations],
        [[f.value for f in oriented] for oriented in hashes.crops],
        hashes.width,
        hashes.height,
        hashes.format,
        hashes.quality,
        hashes.picture_width,
        hashes.picture_height,
        hashes.digest,
        thumbnail,
    )


def _from_wire(wire: _Wire) -> HashResult:
    algorithm, value, oriented, crops, width, height, fmt, quality, pw, ph, digest, thumb = wire
    hashes = ImageHashes(
        Fingerprint(value, algorithm),
        tuple(Fingerprint(v, algorithm) for v in oriented),
        width,
        height,
        fmt,
        quality,
        tuple(tuple(Fingerprint(v, algorithm) for v in crop) for crop in crops),
        pw,
        ph,
        digest,
    )
    return hashes, thumb


def _serve_jobs(conn: Connection) -> None:
    """A worker's life: jobs from the pipe until it closes (the server stopped or died).
    Each job is its options, then the image's bytes; each answer (True, result) or (False,
    the error raised)."""
    while True:
        try:
            options = conn.recv()
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            answer: tuple[bool, object] = (True, _to_wire(hash_job(HashJob(data, *options))))
        except Exception as exc:  # the caller raises it, as a thread's hashing would
            answer = (False, exc)
        try:
            conn.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as unsent:
            # an error that does not pickle: its type and text still reach the caller (an
            # unexpected error, as it would be on a thread), and the worker lives on
            conn.send((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]} ({unsent})")))


class _Worker:
    """One worker process and the server's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(
            target=_serve_jobs, args=(theirs,), name="neardup-hash", daemon=True
        )
        self.process.start()
        theirs.close()  # only the worker holds its end: the worker sees ours close
        self.conn = ours

    def run(self, job: HashJob) -> HashResult:
        self.conn.send((job.algorithm, job.orientations, job.crops, job.thumbnail, job.limits))
        self.conn.send_bytes(job.data)
        ok, value = self.conn.recv()
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return _from_wire(value)

    def close(self) -> None:
        self.conn.close()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()


class Hashing:
    """Runs hash jobs: on the calling thread (`processes` 0), or in one of that many worker
    processes (the calling thread waits for a free one)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Starts the workers (each starts an interpreter and imports the hasher: a moment),
        so the first calls do not wait for them."""
        for _ in range(self.processes):
            self._idle.put(self._started())
        empty = HashJob(b"", "phash", False, False, False, DecodeLimits())
        for worker in list(self._workers):
            with contextlib.suppress(NeardupError):  # refused once the hasher is imported
                worker.run(empty)

    def _started(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise Unavailable("the server is stopping")
            worker = _Worker()
            self._workers.append(worker)
            return worker

    def run(self, job: HashJob) -> HashResult:
        """`hash_job(job)`, here or in a worker (blocking the calling thread meanwhile)."""
        if not self.processes:
            return hash_job(job)
        if self._closed:
            raise Unavailable("the server is stopping")
        worker = self._idle.get()
        try:
            result = worker.run(job)
        except (EOFError, OSError):  # the worker died: replace it
            with self._lock:
                if worker in self._workers:
                    self._workers.remove(worker)
            worker.close()
            log.error("a hashing worker stopped (exit code %s)", worker.process.exitcode)
            self._idle.put(self._started())
            raise Unavailable("the hashing worker stopped while hashing; retry") from None
        except BaseException:
            self._idle.put(worker)
            raise
        self._idle.put(worker)
        return result

    def close(self) -> None:
        """Stops the workers, once the calls using them are done."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
