"""Milvus's errors as the engine's: by exception type and Milvus's error code, never by
message text (Lite and the server word them differently).

Codes are Milvus's `merr` numbers, as pymilvus exposes them in `MilvusException.code`. A call
that passed its deadline reaches us as gRPC's own error (pymilvus does not wrap
DEADLINE_EXCEEDED), and a call on a connection closed under it as a ValueError from gRPC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import (
    DatabaseFailure,
    InvalidArgument,
    NeardupError,
    StorageFull,
    UnknownCollection,
)

__all__ = ["milvus_failures"]

_COLLECTION_NOT_FOUND = 100
_PARAMETER_INVALID = 1100
_DISK_OR_QUOTA = {7, 9}  # disk limit, quota exceeded


@contextmanager
def milvus_failures(what: str, collection: str = "", seconds: float = 0) -> Iterator[None]:
    """Translates a pymilvus exception raised inside into a NeardupError naming `what`
    (e.g. "search") and the collection; `seconds` is the call's deadline, for the message."""
    import grpc
    from pymilvus.exceptions import (
        ConnectError,
        MilvusException,
        MilvusUnavailableException,
        ParamError,
    )

    try:
        yield
    except NeardupError:
        raise
    except (MilvusUnavailableException, ConnectError) as exc:
        raise DatabaseFailure(f"Milvus is unreachable ({what}): {exc}; retry shortly") from exc
    except grpc.RpcError as exc:
        status = exc.code() if isinstance(exc, grpc.Call) else None
        if status == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise DatabaseFailure(
                f"Milvus did not answer the {what} within {seconds:g} s; retry shortly"
            ) from exc
        raise DatabaseFailure(f"Milvus failed the {what} ({status}); retry shortly") from exc
    except ParamError as exc:
        raise InvalidArgument(f"Milvus refused the {what}'s parameters: {exc}", "request") from exc
    except MilvusException as exc:
        # pymilvus passes a failed RPC's own `code` method through when the server died
        # mid-call: no Milvus code, so the generic failure.
        code = exc.code if isinstance(exc.code, int) else None
        if code == _COLLECTION_NOT_FOUND:
            raise UnknownCollection(
                f"no collection named {collection!r} in Milvus; create it first"
            ) from exc
        if code in _DISK_OR_QUOTA:
            raise StorageFull(f"Milvus refused the {what}: its disk or quota is full") from exc
        if code == _PARAMETER_INVALID:
            raise InvalidArgument(
                f"Milvus refused the {what}'s parameters: {exc.message}", "request"
            ) from exc
        raise DatabaseFailure(
            f"Milvus failed the {what} (code {code or 'none'}): {exc.message}; retry shortly"
        ) from exc
