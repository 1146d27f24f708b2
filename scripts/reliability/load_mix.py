"""The workload of scripts/reliability/load.py: a weighted mix of the calls a platform makes,
each one expected to succeed, over ids and hashes the mix itself keeps track of; and the anchor, a
bare grpc.aio echo server driven at the same concurrency."""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from neardup.service.client import AsyncClient, add_request, search_request
from neardup.v1 import neardup_pb2 as pb

IMAGES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "images"
STREAM_ITEMS = 20
# Deletes remove as many images as the adds store (per 100 calls: 15 + 4 + 4 x 20 added,
# 10 x 10 deleted), so the stored count stays near the preload and memory has no reason
# to grow: a slope is then a leak.
DELETE_IDS = 10
BATCH_QUERIES = 10
# (method, weight): searches dominate, as on a dedup service; every write kind is present.
WEIGHTS = (
    ("search_hash_k10", 20),
    ("search_hash_r10", 15),
    ("search_image", 8),
    ("add_hash", 15),
    ("add_image", 4),
    ("delete", 10),
    ("add_stream", 4),
    ("search_batch", 10),
    ("get_many", 14),
)

Call = Callable[[], Awaitable[object]]


class Mix:
    """Draws the next call of the workload; remembers what it stored and deleted."""

    def __init__(self, client: AsyncClient, rng: random.Random) -> None:
        self.client = client
        self._ids: list[str] = []
        self._codes: list[int] = []
        self._next_id = 0
        self._images = [
            p.read_bytes() for p in sorted(IMAGES.iterdir()) if p.stat().st_size < 200_000
        ]
        self._names, weights = zip(*WEIGHTS, strict=True)
        self._weights = list(weights)
        self._rng = rng

    def _new_id(self) -> str:
        self._next_id += 1
        return f"load-{self._next_id}"

    def _code(self, rng: random.Random) -> int:
        """A random code, or (30%) a stored one with a few bits flipped: near copies."""
        if self._codes and rng.random() < 0.3:
            code = rng.choice(self._codes)
            for _ in range(rng.randrange(6)):
                code ^= 1 << rng.randrange(64)
            return code
        return rng.getrandbits(64)

    async def preload(self, count: int) -> float:
        """Stores `count` hashes through AddStream; returns the seconds it took."""
        started = time.monotonic()
        await self._stream([self._add_hash_request(self._rng) for _ in range(count)])
        return time.monotonic() - started

    async def _stream(self, requests: list[pb.AddRequest]) -> None:
        """Sends the adds through one AddStream; RuntimeError if an item failed."""

        async def source() -> AsyncIterator[pb.AddRequest]:
            for request in requests:
                yield request

        async for answer in self.client.add_stream(source()):
            if answer.WhichOneof("result") != "added":
                raise RuntimeError(f"AddStream item failed: {answer.error.message}")

    def _add_hash_request(self, rng: random.Random) -> pb.AddRequest:
        image_id, code = self._new_id(), self._code(rng)
        self._ids.append(image_id)
        self._codes.append(code)
        return add_request(id=image_id, hash=f"{code:016x}")

    def next_call(self, rng: random.Random) -> tuple[str, Call]:
        """The next call's method name and a coroutine function that makes it."""
        name = rng.choices(self._names, self._weights)[0]
        return name, getattr(self, f"_{name}")(rng)

    def _search_hash_k10(self, rng: random.Random) -> Call:
        return lambda: self.client.search(hash=f"{self._code(rng):016x}", k=10)

    def _search_hash_r10(self, rng: random.Random) -> Call:
        return lambda: self.client.search(hash=f"{self._code(rng):016x}", max_distance=10)

    def _search_image(self, rng: random.Random) -> Call:
        return lambda: self.client.search(rng.choice(self._images), k=10)

    def _add_hash(self, rng: random.Random) -> Call:
        request = self._add_hash_request(rng)
        return lambda: self.client.call("Add", request)

    def _add_image(self, rng: random.Random) -> Call:
        return lambda: self.client.add(rng.choice(self._images), id=self._new_id())

    def _delete(self, rng: random.Random) -> Call:
        victims = []
        for _ in range(min(DELETE_IDS, len(self._ids))):
            at = rng.randrange(len(self._ids))
            self._ids[at], self._ids[-1] = self._ids[-1], self._ids[at]
            victims.append(self._ids.pop())
        return lambda: self.client.delete(victims)

    def _add_stream(self, rng: random.Random) -> Call:
        requests = [self._add_hash_request(rng) for _ in range(STREAM_ITEMS)]
        return lambda: self._stream(requests)

    def _search_batch(self, rng: random.Random) -> Call:
        batch = pb.SearchBatchRequest(
            queries=[
                search_request(hash=f"{self._code(rng):016x}", k=10) for _ in range(BATCH_QUERIES)
            ]
        )
        return lambda: self.client.call("SearchBatch", batch)

    def _get_many(self, rng: random.Random) -> Call:
        ids = rng.sample(self._ids, min(20, len(self._ids)))
        return lambda: self.client.get_many(ids)


async def echo_latencies(concurrency: int, seconds: float) -> list[float]:
    """The anchor: latencies (ms) of a bare grpc.aio echo server process (the one
    scripts/bench/service.py measures against) at `concurrency` in flight."""
    from scripts.bench.echo_server import echo_latencies as latencies

    payload = search_request(hash="0" * 16, k=10).SerializeToString()
    return await latencies(payload, concurrency, seconds)
