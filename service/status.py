"""The one place that turns engine errors into gRPC status codes.

Every `NeardupError` type has exactly one code here; field errors carry a
`google.rpc.BadRequest` detail naming the request field, so a caller can point at what to fix.

    InvalidImage, InvalidHash, UnknownAlgorithm, InvalidArgument  -> INVALID_ARGUMENT
    ImageTooLarge, Overloaded                                     -> RESOURCE_EXHAUSTED
    AlgorithmMismatch, IncompatibleDataDir                        -> FAILED_PRECONDITION
    NotFound (UnknownCollection, UnknownId)                       -> NOT_FOUND
    AlreadyExists (CollectionExists, IdExists)                    -> ALREADY_EXISTS
    Unavailable (DataDirInUse, StoreClosed, IndexUnavailable),
    NotReady                                                      -> UNAVAILABLE
    StorageFull                                                   -> RESOURCE_EXHAUSTED
    StorageCorrupt                                                -> DATA_LOSS
    StorageFailure (StorageReadOnly, StorageIOError, StorageBusy) -> UNAVAILABLE
    Unsupported                                                   -> UNIMPLEMENTED
    DeadlinePassed                                                -> DEADLINE_EXCEEDED
    anything else (a bug)                                         -> INTERNAL, logged
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from neardup.index.errors import (
    AlgorithmMismatch,
    AlreadyExists,
    ImageTooLarge,
    IncompatibleDataDir,
    InvalidArgument,
    InvalidHash,
    InvalidImage,
    NeardupError,
    NotFound,
    StorageCorrupt,
    StorageFailure,
    StorageFull,
    Unavailable,
    UnknownAlgorithm,
    Unsupported,
)

__all__ = [
    "DeadlinePassed",
    "NotReady",
    "Overloaded",
    "Refusal",
    "refusal",
    "to_status",
    "unexpected",
]

log = logging.getLogger(__name__)


class NotReady(Unavailable):
    """The server is still loading its indexes (or already draining)."""


class Overloaded(NeardupError):
    """More work waits for the server's workers than it admits; retry with backoff."""


class DeadlinePassed(NeardupError):
    """The call's deadline passed before the server answered it."""


_CODES: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (InvalidImage, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidHash, grpc.StatusCode.INVALID_ARGUMENT),
    (UnknownAlgorithm, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (ImageTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (AlgorithmMismatch, grpc.StatusCode.FAILED_PRECONDITION),
    (IncompatibleDataDir, grpc.StatusCode.FAILED_PRECONDITION),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (StorageFull, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (StorageCorrupt, grpc.StatusCode.DATA_LOSS),
    (StorageFailure, grpc.StatusCode.UNAVAILABLE),
    (Unsupported, grpc.StatusCode.UNIMPLEMENTED),
    (DeadlinePassed, grpc.StatusCode.DEADLINE_EXCEEDED),
)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A status code, its message, and the request field at fault ("" if none)."""

    code: grpc.StatusCode
    message: str
    field: str


def refusal(exc: BaseException, field: str = "") -> Refusal | None:
    """The status an engine error maps to, or None for an unexpected error (a bug).

    field: the request field the caller was handling (e.g. "image", "hash.hex"); an
    InvalidArgument names its own field, which wins; else an error whose type names a
    field (an unknown collection, an existing id) is at that field.
    """
    if not isinstance(exc, NeardupError):
        return None
    for error_type, code in _CODES:
        if isinstance(exc, error_type):
            named = exc.field if isinstance(exc, InvalidArgument) else field or exc.field
            return Refusal(code, str(exc), named)
    return Refusal(grpc.StatusCode.INTERNAL, str(exc), field)


def unexpected(exc: BaseException) -> Refusal:
    """INTERNAL for an error no engine type describes (a bug): logged with its traceback
    here, named to the caller so a report can quote it, never left to gRPC's UNKNOWN."""
    log.error("unexpected error answered as INTERNAL", exc_info=exc)
    return Refusal(
        grpc.StatusCode.INTERNAL,
        f"internal error ({type(exc).__name__}: {exc}); the server logged it, please report it",
        "",
    )


def to_status(found: Refusal) -> grpc.Status:
    """A rich status (google.rpc.Status) with a BadRequest detail when a field is at fault."""
    details = []
    if found.field:
        bad = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=found.field, description=found.message
                )
            ]
        )
        detail = any_pb2.Any()
        detail.Pack(bad)
        details.append(detail)
    status = status_pb2.Status(
        code=getattr(code_pb2, found.code.name), message=found.message, details=details
    )
    converted: grpc.Status = rpc_status.to_status(status)
    return converted
