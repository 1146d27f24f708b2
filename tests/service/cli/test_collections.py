"""`neardup collections create|list|show|drop`, offline on a data dir and through a real
server, printing the same rows either way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from neardup.service.cli import main

from ..conftest import RunningServer


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


@pytest.mark.parametrize("where", ["offline", "server"])
def test_a_collection_is_created_listed_shown_and_dropped(
    where: str, tmp_path: Path, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    at = (
        ["--data-dir", str(tmp_path / "data")]
        if where == "offline"
        else ["--server", server.target]
    )
    name = f"albums-{where}"
    created = json.loads(
        run(["collections", "create", name, "--radius", "8", "--thumbnails", *at], capsys)
    )
    assert (created["name"], created["default_radius"], created["thumbnails"]) == (name, 8, True)
    listed = run(["collections", "list", *at], capsys).splitlines()
    assert f"{name}\t0\tphash\t8\thnsw" in listed and listed[0].startswith(("albums", "default"))
    shown = json.loads(run(["collections", "show", name, *at], capsys))
    assert shown == created
    assert (
        run(["collections", "drop", name, "--yes", *at], capsys) == f"dropped {name} (0 images)\n"
    )
    assert name not in run(["collections", "list", *at], capsys)
