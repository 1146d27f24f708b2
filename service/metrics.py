"""Prometheus metrics of one server, on their own HTTP endpoint (`--metrics HOST:PORT`).

    neardup_requests_total{method, code}          calls answered, by status code
    neardup_request_seconds{method}               call latency (histogram)
    neardup_images{collection}                    live images
    neardup_codes{collection}                     distinct codes in the index
    neardup_dead_slots{collection}                slots waiting for compaction
    neardup_fresh_codes{collection}               codes not yet in the HNSW graph
    neardup_snapshot_age_seconds{collection}      since the newest snapshot (-1: none)
    neardup_replayed_changes{collection}          store changes replayed at start-up
    neardup_store_queue_depth                     writes waiting for the writer thread

The per-collection figures are read from the engine when scraped, so they cost nothing
between scrapes. Each server has its own registry (tests run several in one process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from neardup.index import Backend
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["Metrics"]

_LATENCY_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)


class _EngineCollector(Collector):
    def __init__(self, engine: Callable[[], Backend | None]) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        engine = self._engine()
        families = {
            name: GaugeMetricFamily(f"neardup_{name}", text, labels=["collection"])
            for name, text in (
                ("images", "Live images"),
                ("codes", "Distinct codes in the index"),
                ("dead_slots", "Index slots waiting for compaction"),
                ("fresh_codes", "Codes not yet in the HNSW graph"),
                ("snapshot_age_seconds", "Seconds since the newest snapshot (-1: none)"),
                ("replayed_changes", "Store changes replayed at start-up"),
            )
        }
        queue = GaugeMetricFamily("neardup_store_queue_depth", "Writes waiting for the writer")
        if engine is not None:
            for info in engine.collections():
                stats = engine.stats(info.name)
                values = {
                    "images": stats.collection.image_count,
                    "codes": stats.code_count,
                    "dead_slots": stats.dead_slots,
                    "fresh_codes": stats.fresh_codes,
                    "snapshot_age_seconds": stats.snapshot_age_seconds,
                    "replayed_changes": stats.replayed_at_start,
                }
                for name, value in values.items():
                    families[name].add_metric([info.name], float(value))
            queue.add_metric([], float(engine.pending_writes))
        yield from families.values()
        yield queue


def _child(cache: dict[tuple[str, ...], Any], metric: Any, *labels: str) -> Any:
    """The metric's child for these label values, looked up once."""
    child = cache.get(labels)
    if child is None:
        child = cache[labels] = metric.labels(*labels)
    return child


class Metrics:
    """The registry of one server: call counters and latencies, engine gauges."""

    def __init__(self, engine: Callable[[], Backend | None]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "neardup_requests",
            "Calls answered, by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "neardup_request_seconds",
            "Call latency, by method",
            ["method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.searches = Counter(
            "neardup_searches",
            "Search calls by where their index search ran: the event loop (predicted within "
            "inline_search_us) or the pool",
            ["thread"],
            registry=self.registry,
        )
        self.registry.register(_EngineCollector(engine))
        # labels() looks the child up under a lock on every call; methods and codes are few.
        self._counters: dict[tuple[str, ...], Any] = {}
        self._histograms: dict[tuple[str, ...], Any] = {}
        self._placements: dict[tuple[str, ...], Any] = {}
        self._http: object | None = None

    def observe(self, method: str, code: str, seconds: float) -> None:
        """Counts one answered call."""
        _child(self._counters, self.requests, method, code).inc()
        _child(self._histograms, self.latency, method).observe(seconds)

    def searched(self, thread: str) -> None:
        """Counts one Search call answered on this thread ("loop" or "pool")."""
        _child(self._placements, self.searches, thread).inc()

    def serve_http(self, host: str, port: int) -> int:
        """Starts the /metrics endpoint; returns its port (port 0 picks a free one)."""
        server, _ = start_http_server(port, host, registry=self.registry)
        self._http = server
        return int(server.server_port)

    def close(self) -> None:
        """Stops the endpoint."""
        if self._http is not None:
            self._http.shutdown()  # type: ignore[attr-defined]
            self._http.server_close()  # type: ignore[attr-defined]
            self._http = None
