"""The gRPC server: the servicer, the standard health service and server reflection on one
`grpc.aio` server, with a graceful lifecycle.

Start: listen at once with health NOT_SERVING, open the engine (load snapshots, replay) in a
thread, then SERVING; from then on health follows the engine's database
(`Backend.reachable`, asked every BACKEND_PROBE_SECONDS: a Milvus that does not answer makes
the server NOT_SERVING until it does). Stop (SIGTERM/SIGINT in `serve`): health NOT_SERVING,
stop accepting, let calls in flight finish within the grace period, take the final
snapshots, exit 0.

`running_server(config)` is the test entry point: it binds the configured address (port 0
for any free port) and yields the server with its port.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from neardup.index import Backend
from neardup.v1 import neardup_pb2, neardup_pb2_grpc

from .auth import TokenInterceptor, load_tokens
from .calls import CallObserver
from .config import ServerConfig
from .hashing import Hashing
from .metrics import Metrics
from .servicer import NeardupServicer, ServiceLimits

__all__ = ["NeardupServer", "running_server", "serve"]

log = logging.getLogger(__name__)

SERVICE_NAME = neardup_pb2.DESCRIPTOR.services_by_name["Neardup"].full_name
# How often health asks the engine whether its database answers (`Backend.reachable`).
BACKEND_PROBE_SECONDS = 1.0


class NeardupServer:
    """One engine behind one gRPC server."""

    def __init__(self, config: ServerConfig) -> None:
        config.check_loopback()
        config.check_tls()
        config.check_log_calls()
        config.check_workers()
        config.check_backend()
        self.config = config
        self.engine: Backend | None = None
        self.port = 0
        threads = config.workers + config.hash_processes  # a hashing call holds a thread
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="neardup-work")
        self._probe = ThreadPoolExecutor(1, thread_name_prefix="neardup-probe")
        self._watch: asyncio.Future[None] | None = None
        self._hashing = Hashing(config.hash_processes)
        self._health = health.aio.HealthServicer()
        self.metrics = Metrics(lambda: self.engine)
        self.metrics_port = 0
        self._server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", config.max_message_bytes + 64 * 1024),
                ("grpc.max_send_message_length", config.max_message_bytes + 64 * 1024),
            ],
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
            interceptors=[
                CallObserver(self.metrics, config.log_calls, config.slow_call_seconds),
                *_interceptors(config),
            ],
        )
        self._servicer = NeardupServicer(
            self._pool,
            ServiceLimits(
                config.decode_limits(),
                max_pending_calls=config.max_pending_calls,
                max_pending_bytes=config.max_pending_bytes,
                max_queue_seconds=config.max_queue_seconds,
                workers=config.workers,
                inline_search_seconds=config.inline_search_us / 1e6,
            ),
            self.metrics.searched,
            self._hashing,
        )
        neardup_pb2_grpc.add_NeardupServicer_to_server(self._servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )

    async def _set_health(self, status: int) -> None:
        for name in ("", SERVICE_NAME):
            await self._health.set(name, status)

    async def listen(self) -> None:
        """Binds and accepts calls, health NOT_SERVING (neardup.v1 calls: UNAVAILABLE)."""
        host, port = self.config.host_and_port()
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        credentials = _credentials(self.config)
        if credentials is None:
            self.port = self._server.add_insecure_port(address)
        else:
            self.port = self._server.add_secure_port(address, credentials)
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.start()
        if self.config.metrics_listen:
            metrics_host, metrics_port = self.config.host_and_port(
                self.config.metrics_listen, "metrics_listen"
            )
            self.metrics_port = self.metrics.serve_http(metrics_host, metrics_port)
        log.info("listening on %s:%d; loading %s", host, self.port, self.config.where())

    async def load(self) -> None:
        """Opens the engine (snapshots, replay) and starts the hashing workers, then
        serves: health SERVING."""
        loop = asyncio.get_running_loop()
        hashing = loop.run_in_executor(self._pool, self._hashing.start)
        try:
            self.engine = await loop.run_in_executor(self._pool, self.config.open_backend)
            await hashing
        except BaseException:
            await self._server.stop(0)
            self._hashing.close()
            # the workers' start fails once they are closed: that is not this failure
            await asyncio.gather(hashing, return_exceptions=True)
            self._pool.shutdown(wait=False)
            self.metrics.close()
            raise
        self._servicer.ready(self.engine)
        await self._set_health(health_pb2.HealthCheckResponse.SERVING)
        self._watch = asyncio.ensure_future(self._watch_backend(self.engine))
        log.info("serving")

    async def _watch_backend(self, engine: Backend) -> None:
        """Health follows the engine's database: NOT_SERVING while it does not answer (a
        Milvus stopped or gone), SERVING again when it does. The probe has a thread of its
        own, so pool threads waiting on that database never delay it."""
        loop = asyncio.get_running_loop()
        serving = True
        while True:
            await asyncio.sleep(BACKEND_PROBE_SECONDS)
            answers = await loop.run_in_executor(self._probe, engine.reachable)
            if answers != serving:
                serving = answers
                status = health_pb2.HealthCheckResponse
                await self._set_health(status.SERVING if serving else status.NOT_SERVING)
                log.warning(
                    "%s %s",
                    self.config.where(),
                    "answers again" if serving else "does not answer: health NOT_SERVING",
                )

    async def start(self) -> None:
        """`listen`, then `load`."""
        await self.listen()
        await self.load()

    async def stop(self) -> None:
        """Drains: NOT_SERVING, no new calls, calls in flight finish, final snapshot."""
        if self._watch is not None:
            self._watch.cancel()
        await self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        await self._server.stop(self.config.grace_seconds)
        if self.engine is not None:
            engine = self.engine
            await asyncio.get_running_loop().run_in_executor(self._pool, engine.close)
        self._pool.shutdown(wait=True)
        self._probe.shutdown(wait=False, cancel_futures=True)
        self._hashing.close()
        self.metrics.close()
        log.info("stopped; final snapshots written")


def _interceptors(config: ServerConfig) -> list[grpc.aio.ServerInterceptor]:
    if config.tokens_file is None:
        return []
    return [TokenInterceptor(load_tokens(config.tokens_file))]


def _credentials(config: ServerConfig) -> grpc.ServerCredentials | None:
    if config.tls_cert is None or config.tls_key is None:
        return None
    chain = (config.tls_key.read_bytes(), config.tls_cert.read_bytes())
    client_ca = config.tls_client_ca.read_bytes() if config.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [chain], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


@asynccontextmanager
async def running_server(config: ServerConfig) -> AsyncIterator[NeardupServer]:
    """A started server (its `port` set), stopped gracefully on exit."""
    server = NeardupServer(config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def serve(config: ServerConfig) -> None:
    """Runs until SIGTERM or SIGINT, then drains and returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = NeardupServer(config)
    await server.listen()
    print(f"neardup: listening on {config.host_and_port()[0]}:{server.port}", flush=True)
    try:
        loading = asyncio.ensure_future(server.load())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((loading, stopped), return_when=asyncio.FIRST_COMPLETED)
        if loading.done():
            loading.result()  # a load that failed ends here, with its error
            print("neardup: serving", flush=True)
            await stopped
        else:
            await loading  # the engine must be whole before it is closed
        log.info("signal received: draining")
    finally:
        await server.stop()
