"""Every command refuses a mistaken argument the same way, online and offline: exit status 2,
one line on stderr that names the flag (or argument) to change, never a traceback.

Each case runs the CLI's `main` in-process (what the `neardup` script runs), against a real
server on loopback (`--server`) and a real data dir (`--data-dir`) holding one image in the
default collection; a case that escaped as an exception would fail the test with its
traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from neardup.service.cli import main

from ...conftest import IMAGES
from ..conftest import RunningServer

IMAGE = str(IMAGES / "mate__Garden.jpg")
HASH = "c09ff81b33f40d64"

# (command and arguments, the flag or argument the message names first)
WHERE_CASES = [
    (["search", IMAGE, "--k", "-1"], "--k"),
    (["search", IMAGE, "--k", "0"], "--k"),
    (["search", IMAGE, "--k", "1001"], "--k"),
    (["search", IMAGE, "--k", "ten"], "--k"),
    (["search", IMAGE, "--radius", "100"], "--radius"),
    (["search", IMAGE, "--radius", "-3"], "--radius"),
    (["search", IMAGE, "--radius", "1.5"], "--radius"),
    (["search", "--hash", "zz"], "--hash"),
    (["search", "--hash", HASH + "0"], "--hash"),
    (["search", "--id", ""], "--id"),
    (["search", "--id", "ghost.jpg"], "--id"),
    (["search"], "IMAGE"),
    (["search", IMAGE, "--hash", HASH], "--hash"),
    (["search", "--hash", HASH, "--orientations"], "--orientations"),
    (["search", IMAGE, "--collection", "no such"], "--collection"),
    (["search", IMAGE, "--collection", "ghost"], "--collection"),
    (["search", IMAGE, "--timeout", "0"], "--timeout"),
    (["report", "--radius", "65"], "--radius"),
    (["report", "--thumbnail-groups", "-1"], "--thumbnail-groups"),
    (["report", "--collection", "ghost"], "--collection"),
    (["report", "--html", "/no/such/folder/report.html"], "--html"),
    (["report", "--json", "/no/such/folder/report.json"], "--json"),
    (["build"], "SOURCE"),
    (["build", "/no/such/folder"], "SOURCE"),
    (["build", str(IMAGES), "--index-kind", "graph"], "--index-kind"),
    (["build", str(IMAGES), "--algorithm", "md5"], "--algorithm"),
    (["build", str(IMAGES), "--algorithm", "phash-c"], "--algorithm"),
    (["build", str(IMAGES), "--thumbnails"], "--thumbnails"),  # the collection keeps none
    (["collections"], "ACTION"),
    (["collections", "create"], "NAME"),
    (["collections", "create", "-bad"], "NAME"),
    (["collections", "create", "new", "--radius", "65"], "--radius"),
    (["collections", "create", "new", "--min-quality", "101"], "--min-quality"),
    (["collections", "create", "new", "--algorithm", "dhash", "--crop-hashes"], "--algorithm"),
    (["collections", "create", "default"], "NAME"),
    (["collections", "show", "ghost"], "NAME"),
    (["collections", "drop", "ghost", "--yes"], "NAME"),
    (["collections", "drop", "default", "--yes"], "NAME"),
    (["collections", "drop", "default"], "--yes"),
]
SERVER_CASES = [
    (["add"], "PATH"),
    (["add", IMAGE, "--radius", "99"], "--radius"),
    (["add", IMAGE, "--replace", "--skip-existing"], "--skip-existing"),
    (["add", IMAGE, "--collection", "ghost"], "--collection"),
    (["delete"], "ID"),
    (["delete", "x", "--collection", "ghost"], "--collection"),
    (["delete", ""], "ID"),
    (["stats", "--collection", "ghost"], "--collection"),
    (["stats", "--timeout", "-1"], "--timeout"),
    (["stats", "--tls-ca", IMAGE], "--tls-ca"),  # not a PEM file
    (["stats", "--tls-ca", "/no/such.pem"], "/no/such.pem"),
]
LOCAL_CASES = [
    (["hash"], "PATH"),
    (["hash", IMAGE, "--algorithm", "md5"], "--algorithm"),
    (["token"], "NAME"),
    (["token", "ci", "--scopes", "root"], "--scopes"),
    (["serve", "--listen", "nohost"], "--listen"),
    (["serve", "--listen", "0.0.0.0:50051"], "--listen"),
    (["serve", "--index-kind", "graph"], "--index-kind"),
    (["frobnicate"], "COMMAND"),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir with one image in the default collection (created by the CLI itself)."""
    library = tmp_path_factory.mktemp("library")
    (library / "garden.jpg").write_bytes(Path(IMAGE).read_bytes())
    folder = library.parent / "data"
    assert main(["build", str(library), "--data-dir", str(folder)]) == 0
    yield folder


def refusal(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The CLI's stderr for argv, which must be a refusal: exit 2 and one line."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


def names(line: str, flag: str) -> bool:
    """Whether the line names the flag as what to change (where the message starts, or in
    what argparse lists as required or conflicting)."""
    message = line.split(": ", 1)[1]
    return message.startswith(f"{flag}") or f" {flag}" in message or f"{flag}:" in line


@pytest.mark.parametrize(
    ("argv", "flag"), WHERE_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_a_mistake_is_refused_naming_the_flag_offline(
    argv: list[str], flag: str, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal([*argv, "--data-dir", str(data_dir)], capsys)
    assert names(line, flag), line


@pytest.mark.parametrize(
    ("argv", "flag"),
    WHERE_CASES + SERVER_CASES,
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_a_mistake_is_refused_naming_the_flag_through_a_server(
    argv: list[str], flag: str, server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refusal([*argv, "--server", server.target], capsys)
    assert names(line, flag), line


@pytest.mark.parametrize(
    ("argv", "flag"), LOCAL_CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_a_mistake_in_a_local_command_is_refused_naming_the_flag(
    argv: list[str],
    flag: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # serve's default data dir, should a case get that far
    line = refusal(argv, capsys)
    assert names(line, flag), line


def test_a_read_only_command_refuses_a_data_dir_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "dta"
    for argv in (["search", IMAGE], ["report"], ["collections", "list"]):
        line = refusal([*argv, "--data-dir", str(typo)], capsys)
        assert line.startswith(f"neardup: --data-dir {typo}: no neardup data dir there"), line
    assert not typo.exists()


def test_a_server_that_does_not_answer_is_named_with_what_to_do(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEARDUP_SERVER", "127.0.0.1:9")  # the discard port: nothing serves it
    line = refusal(["stats", "--timeout", "2"], capsys)
    assert "no neardup server answers at 127.0.0.1:9" in line and "neardup serve" in line


def test_the_server_address_comes_from_the_flag_then_the_environment_then_serve_s_default(
    server: RunningServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from neardup.service.address import DEFAULT_ADDRESS
    from neardup.service.cli.options import server_address

    class Given:
        server: str | None = None

    monkeypatch.delenv("NEARDUP_SERVER", raising=False)
    assert server_address(Given()) == DEFAULT_ADDRESS  # type: ignore[arg-type]
    monkeypatch.setenv("NEARDUP_SERVER", server.target)
    assert main(["collections", "list"]) == 0
    assert capsys.readouterr().out.startswith("default\t")
    Given.server = "localhost"
    assert server_address(Given()) == "localhost:50051"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("NEARDUP_HASH_PROCESSES", "-1"),
        ("NEARDUP_WORKERS", "0"),
        ("NEARDUP_MILVUS_CALL_SECONDS", "0"),
    ],
)
def test_serve_refuses_a_worker_count_out_of_bounds_naming_the_setting(
    setting: str,
    value: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(setting, value)
    line = refusal(
        ["serve", "--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0"], capsys
    )
    assert setting.removeprefix("NEARDUP_").lower() in line, line


def test_serve_on_a_milvus_that_does_not_answer_ends_naming_it_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pymilvus", reason="the Milvus client is not installed")
    monkeypatch.setenv("NEARDUP_MILVUS_CALL_SECONDS", "1")
    uri = "http://127.0.0.1:9"  # the discard port: nothing serves it
    argv = ["serve", "--backend", "milvus", "--milvus-uri", uri, "--listen", "127.0.0.1:0"]
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert status != 0
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("neardup: ") and "Milvus" in last and uri in last, last


def test_serve_run_in_process_leaves_no_log_handler_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from neardup.service.calls import JsonFormatter

    monkeypatch.setenv("NEARDUP_WORKERS", "0")
    refusal(["serve", "--data-dir", str(tmp_path / "data"), "--listen", "127.0.0.1:0"], capsys)
    left = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert left == []  # it would write later tests' logs to this run's closed stderr
