"""`ServerConfig`: the one configuration object of the server.

Sources, later ones winning: the defaults here, a TOML file (`--config FILE`), environment
variables (`NEARDUP_<FIELD>`, e.g. `NEARDUP_LISTEN=127.0.0.1:6000`), command-line flags.
The defaults are the embedded ones `make serve` runs with: `./data`, `127.0.0.1:50051`,
nothing external.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from neardup.index import Backend, EngineSettings, IndexParams
from neardup.index.errors import InvalidArgument
from neardup.index.fingerprint import DecodeLimits

from .address import DEFAULT_ADDRESS
from .calls import LOG_CALLS

__all__ = ["ServerConfig", "load_config"]

_ENV_PREFIX = "NEARDUP_"
# Calls (and their requests' bytes) being served at once: see service/admission.py.
DEFAULT_MAX_PENDING_CALLS = 256
DEFAULT_MAX_PENDING_BYTES = 256 * 2**20
# Seconds of work the calls admitted may bring each worker: see service/admission.py.
DEFAULT_MAX_QUEUE_SECONDS = 1.0
# A search predicted within this runs on the event loop: the pool's hand-off and return
# cost more. The budget is set so that the duplicate check it is meant for (radius 10 over
# 1M codes, through the tables) stays on the loop in a served process, with room for a
# machine that runs at half speed (scripts/bench/service.py prints the share of searches
# answered on the loop).
DEFAULT_INLINE_SEARCH_SECONDS = 250e-6


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """How a server runs.

    data_dir: where the local engine keeps its store and snapshots (created if missing).
    listen: HOST:PORT (port 0 = any free port, for tests).
    metrics_listen: HOST:PORT of the Prometheus /metrics endpoint (none by default).
    max_message_bytes: the largest request accepted (RESOURCE_EXHAUSTED beyond); the image
    byte limit follows it.
    max_pixels: images with more pixels are refused from their header, before decoding.
    workers: threads for decoding, hashing and index work (default: one per core).
    hash_processes: worker processes that decode and hash images (0: the workers' threads
    hash them, holding Python's lock for much of it: service/hashing.py). Each takes
    one of the pool's threads while it hashes, so the pool has this many threads more.
    max_concurrent_rpcs: calls gRPC accepts at once; more are refused with
    RESOURCE_EXHAUSTED instead of queuing without bound.
    max_pending_calls, max_pending_bytes, max_queue_seconds: calls (their requests' bytes,
    and the seconds of work they bring each worker) being served at once; a call beyond
    any is refused with RESOURCE_EXHAUSTED at once, so that the calls admitted keep their
    latency and memory stays bounded (AddStream waits instead).
    grace_seconds: how long a shutdown lets calls in flight finish.
    snapshot_every_seconds: how often each changed collection's index is snapshotted (a
    restart then replays only the store's changes after it).
    tokens_file: bearer tokens and their scopes (service/auth.py); without it the server
    accepts every call and listens on loopback only.
    tls_cert, tls_key: serve TLS with this certificate chain and key (PEM).
    tls_client_ca: also require client certificates signed by this CA (mTLS).
    backend: "local" (the data dir) or "milvus" (a Milvus at milvus_uri; nothing is kept in
    the data dir).
    milvus_uri: http://HOST:19530 of a Milvus server, or a FILE.db for Milvus Lite.
    milvus_token: the Milvus server's token, when it asks for one.
    milvus_call_seconds: the deadline of each call to Milvus, its retries included (whole
    seconds; at least 60 for calls that create, drop, load or flush a collection); past it
    the neardup call fails with UNAVAILABLE naming Milvus.
    index_kind: the index kind of collections created without one, the default collection
    of a new data dir included ("hnsw" or the compact "tables"; the local engine's).
    inline_search_us: a Search by hash or id (k at most 100) whose index search the planner
    predicts within this many microseconds runs on the event loop instead of the pool; 0
    runs every search in the pool.
    log_calls: "problems" (default) logs a JSON line for each call that did not end OK or
    took longer than slow_call_seconds; "all" logs every call, at a cost in the server's
    CPU; the metrics count every call either way (service/calls.py).
    slow_call_seconds: a call that takes longer is logged as slow.
    """

    data_dir: Path = Path("data")
    listen: str = DEFAULT_ADDRESS
    metrics_listen: str | None = None
    max_message_bytes: int = 64 * 1024 * 1024
    max_pixels: int = DecodeLimits().max_pixels
    workers: int = os.cpu_count() or 2
    hash_processes: int = os.cpu_count() or 2
    max_concurrent_rpcs: int = 1024
    max_pending_calls: int = DEFAULT_MAX_PENDING_CALLS
    max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES
    max_queue_seconds: float = DEFAULT_MAX_QUEUE_SECONDS
    grace_seconds: float = 10.0
    snapshot_every_seconds: float = EngineSettings().snapshot_every_seconds
    tokens_file: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    backend: str = "local"
    milvus_uri: str | None = None
    milvus_token: str | None = None
    milvus_call_seconds: int = 10  # MilvusEngine's DEFAULT_CALL_SECONDS
    index_kind: str = IndexParams().kind
    inline_search_us: float = DEFAULT_INLINE_SEARCH_SECONDS * 1e6
    log_calls: str = "problems"
    slow_call_seconds: float = 1.0

    def host_and_port(self, address: str | None = None, field: str = "listen") -> tuple[str, int]:
        """An address (default: `listen`) split; raises InvalidArgument when malformed."""
        address = self.listen if address is None else address
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise InvalidArgument(f"{field} must be HOST:PORT, got {address!r}", field)
        return host.strip("[]"), int(port)

    def check_loopback(self) -> None:
        """Without tokens the server only listens on loopback."""
        if self.tokens_file is not None:
            return
        host, _ = self.host_and_port()
        loopback = host == "localhost"
        with contextlib.suppress(ValueError):
            loopback = loopback or ipaddress.ip_address(host).is_loopback
        if not loopback:
            raise InvalidArgument(
                f"refusing to listen on {host}: without tokens_file (authentication) the "
                "server listens on loopback only (127.0.0.1, ::1, localhost)",
                "listen",
            )

    def check_tls(self) -> None:
        """A certificate needs its key, and mTLS needs TLS."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise InvalidArgument("tls_cert and tls_key go together", "tls_cert")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise InvalidArgument(
                "tls_client_ca (mTLS) needs tls_cert and tls_key", "tls_client_ca"
            )

    def check_log_calls(self) -> None:
        """A known call-log policy."""
        if self.log_calls not in LOG_CALLS:
            raise InvalidArgument(
                f"log_calls is one of {list(LOG_CALLS)}, not {self.log_calls!r}", "log_calls"
            )

    def check_workers(self) -> None:
        """At least one worker thread; no negative number of hashing processes."""
        if self.workers < 1:
            raise InvalidArgument(f"workers must be at least 1, got {self.workers}", "workers")
        if self.hash_processes < 0:
            raise InvalidArgument(
                f"hash_processes must be 0 (hash on the worker threads) or more, got "
                f"{self.hash_processes}",
                "hash_processes",
            )

    def check_backend(self) -> None:
        """A known backend, and Milvus with its URI."""
        if self.backend not in ("local", "milvus"):
            raise InvalidArgument(f"backend is local or milvus, not {self.backend!r}", "backend")
        if self.backend == "milvus" and not self.milvus_uri:
            raise InvalidArgument("the milvus backend needs milvus_uri", "milvus_uri")
        if self.milvus_call_seconds < 1:
            raise InvalidArgument(
                f"milvus_call_seconds must be 1 or more, got {self.milvus_call_seconds}",
                "milvus_call_seconds",
            )
        if self.backend == "milvus" and self.index_kind != IndexParams().kind:
            raise InvalidArgument(
                "index_kind chooses the local engine's index; Milvus keeps its own", "index_kind"
            )

    def open_backend(self) -> Backend:
        """The engine this configuration serves: the data dir's, or Milvus's."""
        self.check_backend()
        if self.backend == "milvus":
            from neardup.index.milvus import MilvusEngine

            assert self.milvus_uri is not None
            return MilvusEngine(
                self.milvus_uri,
                self.milvus_token or "",
                self.engine_settings(),
                call_seconds=self.milvus_call_seconds,
            )
        from neardup.index import Engine

        return Engine(self.data_dir, self.engine_settings())

    def where(self) -> str:
        """Where the images are, for logs."""
        return f"Milvus at {self.milvus_uri}" if self.backend == "milvus" else str(self.data_dir)

    def decode_limits(self) -> DecodeLimits:
        """The decoder's limits under this configuration."""
        return DecodeLimits(max_bytes=self.max_message_bytes, max_pixels=self.max_pixels)

    def engine_settings(self) -> EngineSettings:
        """The engine's settings under this configuration."""
        return EngineSettings(
            index=IndexParams().with_overrides(kind=self.index_kind),
            snapshot_every_seconds=self.snapshot_every_seconds,
        )


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(ServerConfig)}[name]
    try:
        if kind in ("Path", Path, "Path | None"):
            return Path(value)
        if kind in ("int", int):
            return int(value)
        if kind in ("float", float):
            return float(value)
        if kind == "str | None":
            return None if value in (None, "") else str(value)
        return str(value)
    except (TypeError, ValueError):
        wanted = {"int": "a whole number", "float": "a number"}.get(str(kind), f"a {kind}")
        raise InvalidArgument(f"{name} must be {wanted}, got {value!r}", name) from None


def load_config(
    file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> ServerConfig:
    """Defaults, then the TOML file, then NEARDUP_* variables, then flags (None = unset)."""
    known = {f.name for f in fields(ServerConfig)}
    values: dict[str, Any] = {}
    if file is not None:
        with file.open("rb") as f:
            table = tomllib.load(f)
        unknown = set(table) - known
        if unknown:
            raise InvalidArgument(f"unknown settings in {file}: {sorted(unknown)}", "config")
        values.update(table)
    for key, value in (os.environ if environ is None else environ).items():
        name = key[len(_ENV_PREFIX) :].lower()
        if key.startswith(_ENV_PREFIX) and name in known:
            values[name] = value
    values.update({k: v for k, v in (flags or {}).items() if v is not None})
    return replace(ServerConfig(), **{k: _coerce(k, v) for k, v in values.items()})
