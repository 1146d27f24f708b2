"""Bearer tokens with scopes: who may call what.

Tokens are configured in a TOML file (`tokens_file`), stored hashed: the server keeps only
the SHA-256 of each token, so the file grants nothing to whoever reads it.

    [[token]]
    name = "uploader"
    sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    scopes = ["read", "write"]

`neardup token NAME --scopes read,write` makes a random token and prints it once, with the
entry to paste. Scopes: `read` (hashing, searches, reads, stats), `write` (adds, deletes),
`admin` (collections, snapshots, compaction). A call without a valid token is
UNAUTHENTICATED; with a token lacking the method's scope, PERMISSION_DENIED. The health and
reflection services need no token (load balancers and grpcurl use them).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import tomllib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from neardup.index.errors import InvalidArgument

from .handlers import with_behavior

__all__ = ["SCOPES", "TokenInterceptor", "Tokens", "load_tokens", "new_token"]

SCOPES = ("read", "write", "admin")
_PACKAGE = "/neardup.v1.Neardup/"
METHOD_SCOPES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "Hash",
            "Compare",
            "Search",
            "SearchBatch",
            "Get",
            "GetMany",
            "List",
            "Stats",
            "ListCollections",
        ),
        "read",
    ),
    **dict.fromkeys(("Add", "AddStream", "Delete"), "write"),
    **dict.fromkeys(("CreateCollection", "DropCollection", "Snapshot", "Compact"), "admin"),
}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token hashes and the scopes each grants."""

    scopes_by_hash: Mapping[str, frozenset[str]]

    def scopes(self, token: str) -> frozenset[str] | None:
        """The scopes of a presented token, or None if it is not configured."""
        presented = _digest(token)
        for known, scopes in self.scopes_by_hash.items():
            if hmac.compare_digest(known, presented):
                return scopes
        return None


def load_tokens(path: Path) -> Tokens:
    """Reads a tokens file; raises InvalidArgument naming what is wrong."""
    with path.open("rb") as f:
        entries = tomllib.load(f).get("token", [])
    scopes_by_hash: dict[str, frozenset[str]] = {}
    for entry in entries:
        digest = str(entry.get("sha256", "")).lower()
        scopes = frozenset(entry.get("scopes", []))
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidArgument(f"{path}: token {entry.get('name')!r} needs a sha256", "tokens")
        if not scopes or not scopes <= set(SCOPES):
            raise InvalidArgument(
                f"{path}: token {entry.get('name')!r} scopes must be among {SCOPES}", "tokens"
            )
        scopes_by_hash[digest] = scopes
    if not scopes_by_hash:
        raise InvalidArgument(f"{path} configures no [[token]]", "tokens")
    return Tokens(scopes_by_hash)


def new_token(name: str, scopes: list[str]) -> tuple[str, str]:
    """A fresh random token and the TOML entry (with its hash) that grants it `scopes`."""
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise InvalidArgument(f"scopes must be among {SCOPES}, got {scopes}", "scopes")
    token = secrets.token_urlsafe(32)
    entry = (
        f'[[token]]\nname = {json.dumps(name)}\nsha256 = "{_digest(token)}"\n'
        f"scopes = {json.dumps(scopes)}\n"
    )
    return token, entry


def _refusing_handler(handler: Any, code: grpc.StatusCode, message: str) -> Any:
    """A handler of the same streaming shape as `handler` that ends the call with `code`."""

    async def unary(request: Any, context: Any) -> Any:
        await context.abort(code, message)

    async def streaming(request: Any, context: Any) -> Any:
        await context.abort(code, message)
        yield  # pragma: no cover - makes this an async generator

    return with_behavior(handler, streaming if handler.response_streaming else unary)


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Checks the bearer token and its scope for every neardup.v1 call."""

    def __init__(self, tokens: Tokens) -> None:
        self._tokens = tokens

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or not method.startswith(_PACKAGE):
            return handler
        needed = METHOD_SCOPES.get(method[len(_PACKAGE) :], "admin")
        metadata = dict(details.invocation_metadata or ())
        header = str(metadata.get("authorization", ""))
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _refusing_handler(
                handler,
                grpc.StatusCode.UNAUTHENTICATED,
                "send 'authorization: Bearer <token>' metadata; this server requires a token",
            )
        scopes = self._tokens.scopes(token.strip())
        if scopes is None:
            return _refusing_handler(
                handler, grpc.StatusCode.UNAUTHENTICATED, "the token is not one this server knows"
            )
        if needed not in scopes:
            return _refusing_handler(
                handler,
                grpc.StatusCode.PERMISSION_DENIED,
                f"{method[len(_PACKAGE) :]} needs the {needed!r} scope; the token has "
                f"{sorted(scopes)}",
            )
        return handler
