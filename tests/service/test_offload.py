"""Offload: blocking calls run on worker threads, never on the event loop's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from neardup.service.offload import Offload


@pytest.fixture
def offload() -> Iterator[Offload]:
    pool = Offload(2, name="test-work")
    yield pool
    pool.shutdown()


def test_a_call_runs_on_a_worker_thread_and_returns_its_result(offload: Offload) -> None:
    async def main() -> tuple[str, str]:
        return threading.current_thread().name, await offload.run(
            lambda: threading.current_thread().name
        )

    loop_thread, worker = asyncio.run(main())
    assert worker.startswith("test-work-")
    assert worker != loop_thread


def test_an_exception_reaches_the_caller(offload: Offload) -> None:
    def fail() -> None:
        raise ValueError("broken image")

    async def main() -> None:
        await offload.run(fail)

    with pytest.raises(ValueError, match="broken image"):
        asyncio.run(main())


def test_stop_iteration_reaches_the_caller_as_runtime_error(offload: Offload) -> None:
    def stop() -> None:
        raise StopIteration

    async def main() -> None:
        await offload.run(stop)

    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(main())


def test_calls_run_concurrently_on_every_thread(offload: Offload) -> None:
    both_running = threading.Barrier(2, timeout=10)

    async def main() -> list[int]:
        return await asyncio.gather(offload.run(both_running.wait), offload.run(both_running.wait))

    assert sorted(asyncio.run(main())) == [0, 1]  # neither waited for the other to finish


def test_a_job_whose_caller_gave_up_before_it_started_is_dropped() -> None:
    offload = Offload(1, name="test-work")
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        busy = asyncio.ensure_future(offload.run(release.wait))
        queued = asyncio.ensure_future(offload.run(lambda: ran.append("queued")))
        await asyncio.sleep(0.05)
        queued.cancel()
        await asyncio.sleep(0)  # the cancellation reaches run()
        release.set()
        await busy
        await offload.run(lambda: ran.append("after"))

    asyncio.run(main())
    offload.shutdown()
    assert ran == ["after"]


def test_shutdown_finishes_the_jobs_already_queued() -> None:
    offload = Offload(1, name="test-work")
    done: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(offload.run(lambda i=i: done.append(i)) for i in range(5)))

    asyncio.run(main())
    offload.shutdown()
    assert done == [0, 1, 2, 3, 4]


def test_at_least_one_thread_is_required() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Offload(0)
