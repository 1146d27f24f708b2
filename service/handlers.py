"""Interceptor plumbing: read or replace the behaviour of a gRPC method handler, whatever its
streaming shape (unary or streaming requests and responses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

__all__ = ["behavior_of", "with_behavior"]

_MAKERS: dict[tuple[bool, bool], Callable[..., Any]] = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}
_ATTRIBUTES = {
    (False, False): "unary_unary",
    (False, True): "unary_stream",
    (True, False): "stream_unary",
    (True, True): "stream_stream",
}


def _shape(handler: Any) -> tuple[bool, bool]:
    return bool(handler.request_streaming), bool(handler.response_streaming)


def behavior_of(handler: Any) -> Callable[..., Any]:
    """The function that serves calls of this handler."""
    behavior: Callable[..., Any] = getattr(handler, _ATTRIBUTES[_shape(handler)])
    return behavior


def with_behavior(handler: Any, behavior: Callable[..., Any]) -> Any:
    """A handler of the same shape and serialisation that serves calls with `behavior`
    (an async function for unary responses, an async generator for streaming ones)."""
    return _MAKERS[_shape(handler)](
        behavior,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )
