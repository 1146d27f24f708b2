"""The Python clients: `AsyncClient` offers every call `Client` does, and both work against
a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from neardup.service.client import AsyncClient, Client, NeardupRpcError

from .conftest import RunningServer


def _calls(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    } | {name for name, _ in inspect.getmembers(cls, inspect.isasyncgenfunction)}


def test_the_async_client_has_every_call_of_the_blocking_client() -> None:
    assert _calls(Client) - {"close"} <= _calls(AsyncClient)


def test_every_async_call_works_against_a_real_server(
    server: RunningServer, garden_jpeg: bytes
) -> None:
    async def scenario() -> None:
        async with AsyncClient(server.target, timeout=30) as client:
            hashed = await client.hash(garden_jpeg)
            added = await client.add(garden_jpeg, id="async-garden", collection="")
            assert added.image.hash.hex == hashed.hash.hex
            stored = await client.get("async-garden")
            assert stored.hash.hex == hashed.hash.hex
            found = await client.search(hash=hashed.hash.hex, k=1)
            assert [m.id for m in found.matches] == ["async-garden"]
            before = (await client.stats()).collection.image_count
            deleted = await client.delete(["async-garden", "never-stored"])
            assert (deleted.deleted, list(deleted.not_found)) == (1, ["never-stored"])
            assert (await client.stats()).collection.image_count == before - 1
            with pytest.raises(NeardupRpcError) as refused:
                await client.get("async-garden")
            assert refused.value.code.name == "NOT_FOUND"

    asyncio.run(scenario())
