"""Every call observed once: the metrics, whatever its outcome, and a JSON log line for the
calls that need a look (or for every call, with `log_calls = "all"`).

The log line (logger `neardup.calls`, INFO) holds the method, the status code, the latency
in ms and the collection the request names; never image bytes or hashes. By default
(`log_calls = "problems"`) only calls that did not end OK or took longer than
`slow_call_seconds` (a setting, 1 s by default) are logged: a line for every call costs the
server several times the CPU of the metrics (scripts/bench/service_parts.py), and the
metrics count and time every call anyway. Not the peer:
`context.peer()` on a call the client has cancelled reads freed memory in gRPC core
(grpc/grpc#29069) and crashed the server in a test that breaks streams off.
`JsonFormatter` renders every neardup log record as one JSON object per line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from .handlers import behavior_of, with_behavior
from .metrics import Metrics

__all__ = ["LOG_CALLS", "CallObserver", "JsonFormatter"]

log = logging.getLogger("neardup.calls")

_FIELDS = ("method", "code", "ms", "collection")
# What `log_calls` may say: a line for every call, or only for failed and slow ones.
LOG_CALLS = ("all", "problems")
# Wrapped handlers kept (one per method, plus refusals the auth interceptor makes per call).
_WRAPPED_KEPT = 256
_DEADLINE_SLACK_SECONDS = 0.05


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the call fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: getattr(record, k) for k in _FIELDS if hasattr(record, k)})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _code_of(context: Any, exc: BaseException | None) -> str:
    """The status the caller saw: a handler that finished after the deadline still
    answered DEADLINE_EXCEEDED, whatever it computed."""
    remaining = context.time_remaining()
    # gRPC cancels a call at its deadline without saying why; a few ms of timer slack can
    # leave time_remaining() just above zero then.
    expired = remaining is not None and remaining <= _DEADLINE_SLACK_SECONDS
    if isinstance(exc, asyncio.CancelledError) or context.cancelled():
        return "DEADLINE_EXCEEDED" if expired else "CANCELLED"
    code = context.code()
    if code is None:
        if exc is not None:
            return "UNKNOWN"
        return "DEADLINE_EXCEEDED" if expired else "OK"
    return code.name if isinstance(code, grpc.StatusCode) else str(code)


class CallObserver(grpc.aio.ServerInterceptor):
    """Times every call and reports it to the metrics and, as `log_calls` says, the log."""

    def __init__(
        self, metrics: Metrics, log_calls: str = "problems", slow_call_seconds: float = 1.0
    ) -> None:
        """`log_calls`: one of LOG_CALLS (`ServerConfig.check_log_calls` refuses others);
        with "problems", a call that took longer than `slow_call_seconds` is logged even
        when it ended OK."""
        self._metrics = metrics
        self._log_all = log_calls == "all"
        self._slow_seconds = slow_call_seconds
        # gRPC asks for a method's handler on every call; its timed twin is made once.
        self._wrapped: dict[tuple[str, int], tuple[Any, Any]] = {}

    def _report(
        self, method: str, context: Any, exc: BaseException | None, started: float, collection: str
    ) -> None:
        seconds = time.perf_counter() - started
        code = _code_of(context, exc)
        # Recorded on the next turn of the loop: the answer is on its way by then, so the
        # log line and the metrics are not part of the call's latency (what the observer
        # adds: scripts/bench/service_parts.py).
        asyncio.get_running_loop().call_soon(self._record, method, code, seconds, collection)

    def _record(self, method: str, code: str, seconds: float, collection: str) -> None:
        self._metrics.observe(method, code, seconds)
        if not (self._log_all or code != "OK" or seconds > self._slow_seconds):
            return
        log.info(
            "%s %s",
            method,
            code,
            extra={
                "method": method,
                "code": code,
                "ms": round(seconds * 1000, 3),
                "collection": collection,
            },
        )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        key = (details.method, id(handler))
        kept = self._wrapped.get(key)
        if kept is not None and kept[0] is handler:
            return kept[1]
        if len(self._wrapped) >= _WRAPPED_KEPT:
            self._wrapped.clear()
        wrapped = self._timed(handler, details.method.rsplit("/", 1)[-1])
        # The handler is kept with its twin, so its id cannot be reused while it is here.
        self._wrapped[key] = (handler, wrapped)
        return wrapped

    def _timed(self, handler: Any, method: str) -> Any:
        """`handler`, each of its calls timed and reported under `method`."""
        report = self._report
        behavior = behavior_of(handler)
        streaming_in = handler.request_streaming

        def collection_of(request: Any) -> str:
            return "" if streaming_in else str(getattr(request, "collection", ""))

        async def unary(request: Any, context: Any) -> Any:
            started, failure = time.perf_counter(), None
            try:
                return await behavior(request, context)
            except BaseException as exc:
                failure = exc
                raise
            finally:
                report(method, context, failure, started, collection_of(request))

        async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
            started, failure = time.perf_counter(), None
            try:
                responses = behavior(request, context)
                if hasattr(responses, "__aiter__"):
                    async for response in responses:
                        yield response
                else:  # a handler that writes with context.write (the health Watch)
                    await responses
            except BaseException as exc:
                failure = exc
                raise
            finally:
                report(method, context, failure, started, collection_of(request))

        return with_behavior(handler, streaming if handler.response_streaming else unary)
