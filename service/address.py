"""Where a server listens unless told otherwise, and how a client's address is completed:
the one default that `neardup serve` binds and every client command reaches."""

from __future__ import annotations

__all__ = ["DEFAULT_ADDRESS", "DEFAULT_PORT", "SERVER_ENV", "with_default_port"]

DEFAULT_PORT = 50051
DEFAULT_ADDRESS = f"127.0.0.1:{DEFAULT_PORT}"
# The address client commands use when --server is not given.
SERVER_ENV = "NEARDUP_SERVER"


def with_default_port(address: str) -> str:
    """HOST:PORT as given; a bare HOST (or [IPv6]) gets the default port. gRPC would
    otherwise read a bare host as port 443."""
    if address.startswith("["):
        return address if "]:" in address else f"{address}:{DEFAULT_PORT}"
    if address.count(":") > 1:  # a bare IPv6 address
        return f"[{address}]:{DEFAULT_PORT}"
    return address if ":" in address else f"{address}:{DEFAULT_PORT}"
