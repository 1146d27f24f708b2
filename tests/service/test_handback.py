"""Threads' results handed back to the event loop: each waiter gets its own result or error,
many results settle on few wake-ups, and a waiter that gave up is left alone."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from neardup.service.handback import HandBack


def test_each_call_s_result_and_error_reach_its_waiter() -> None:
    async def main() -> None:
        handback = HandBack(asyncio.get_running_loop())
        with ThreadPoolExecutor(4) as pool:
            results = await asyncio.gather(
                *(handback.run(pool, lambda i=i: i * i) for i in range(50))
            )
            assert results == [i * i for i in range(50)]
            with pytest.raises(ZeroDivisionError):
                await handback.run(pool, lambda: 1 / 0)

    asyncio.run(main())


def test_results_finishing_together_wake_the_loop_once() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        handback = HandBack(loop)
        wakeups = 0
        call_soon_threadsafe = loop.call_soon_threadsafe

        def counted(*args: object) -> object:
            nonlocal wakeups
            wakeups += 1
            return call_soon_threadsafe(*args)  # type: ignore[arg-type]

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        futures: list[Future[int]] = [Future() for _ in range(100)]
        waiters = [handback.wrap(f) for f in futures]

        def finish_all() -> None:  # one thread finishes them all before the loop runs again
            for i, future in enumerate(futures):
                future.set_result(i)

        thread = threading.Thread(target=finish_all)
        thread.start()
        thread.join()
        assert await asyncio.gather(*waiters) == list(range(100))
        assert wakeups == 1

    asyncio.run(main())


def test_a_waiter_that_was_cancelled_is_left_alone() -> None:
    async def main() -> None:
        handback = HandBack(asyncio.get_running_loop())
        done: Future[int] = Future()
        waiter = handback.wrap(done)
        waiter.cancel()
        done.set_result(1)  # settles on the loop without touching the cancelled waiter
        await asyncio.sleep(0.01)
        assert waiter.cancelled()
        later = handback.wrap(done)  # already finished: settled at once
        assert await later == 1

    asyncio.run(main())


def test_a_result_finishing_after_its_loop_closed_is_dropped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.new_event_loop()
    handback = HandBack(loop)
    done: Future[int] = Future()
    handback.wrap(done)
    loop.close()
    done.set_result(1)  # a callback that raised would be logged by concurrent.futures
    assert not [r for r in caplog.records if "exception calling callback" in r.getMessage()]
