"""`neardup add / search / delete / stats --server` and `neardup token`, as real subprocesses
against a real server."""

from __future__ import annotations

import json
from pathlib import Path

from ...conftest import IMAGES
from ..conftest import RunningServer
from .test_hash import run


def remote(server: RunningServer, *args: str) -> tuple[int, str, str]:
    result = run(*args, "--server", server.target, "--collection", "cli")
    return result.returncode, result.stdout, result.stderr


def test_add_search_delete_and_stats_through_a_server(server: RunningServer) -> None:
    from neardup.service.client import Client
    from neardup.v1 import neardup_pb2 as pb

    with Client(server.target) as client:
        client.call("CreateCollection", pb.CreateCollectionRequest(name="cli"))
    garden, crop = str(IMAGES / "mate__Garden.jpg"), str(IMAGES / "mate__Garden__crop05.jpg")
    code, out, err = remote(server, "add", garden, crop, str(IMAGES / "nope.jpg"))
    assert code == 1 and "nope.jpg" in err
    lines = [line.split("\t") for line in out.splitlines()]
    assert [line[1:3] for line in lines] == [
        ["added", "mate__Garden.jpg"],
        ["added", "mate__Garden__crop05.jpg"],
    ]
    # the adds of one stream run side by side: one of the two found the other, and its line
    # names it with the distance
    near = sorted(line[3] for line in lines if len(line) == 4)
    assert near[0].startswith(("near mate__Garden.jpg (", "near mate__Garden__crop05.jpg ("))
    code, out, err = remote(server, "add", garden, "--json")
    assert code == 1  # the id exists and neither --replace nor --skip-existing was given
    assert "--replace" in err and "--skip-existing" in err

    code, out, _ = remote(server, "search", garden, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == ["mate__Garden.jpg", "mate__Garden__crop05.jpg"]
    assert set(rows[0]) == {"id", "hash", "distance", "similarity", "quality", "identical"}
    code, out, _ = remote(server, "search", "--id", "mate__Garden.jpg", "--k", "1")
    assert out.split("\t")[2].strip() == "mate__Garden.jpg"

    code, out, _ = remote(server, "delete", "mate__Garden.jpg", "ghost")
    assert json.loads(out) == {"deleted": 1, "not_found": ["ghost"]}
    code, out, _ = remote(server, "stats")
    stats = json.loads(out)
    assert stats["collection"]["name"] == "cli" and stats["collection"]["image_count"] == 1
    assert stats["snapshot_age_seconds"] is None and "exact" in stats["search_paths_note"]


def test_a_refused_remote_call_prints_the_server_s_reason_at_the_argument(
    server: RunningServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture")
    code, _, err = remote(server, "search", str(notes))
    assert code == 2 and err.startswith("neardup: IMAGE: ") and len(err.splitlines()) == 1


def test_token_prints_a_token_and_the_entry_that_grants_it() -> None:
    result = run("token", "ci", "--scopes", "read,write")
    token = result.stdout.strip()
    assert result.returncode == 0 and len(token) >= 32
    assert "sha256 = " in result.stderr and '"read", "write"' in result.stderr
    assert token not in result.stderr
