"""The README's quickstart works as written on a fresh clone: `make serve` builds the venv
and serves, then every command of the quickstart block and the Python snippet run as the
README shows them, and each succeeds.

The one change: the server listens on a free port rather than 50051 (NEARDUP_LISTEN for
`make serve`, NEARDUP_SERVER for the commands, the port in the Python snippet), so that the
test never collides with a server already running on the machine."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # a clone, a venv of its own, a real server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def quickstart() -> tuple[list[str], str]:
    """The shell lines of the quickstart's first block and its Python snippet."""
    section = README[README.index("## Quickstart") :]
    shell = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    python = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert shell and python
    lines = [line.split("  #")[0].strip() for line in shell.group(1).splitlines()]
    return [line for line in lines if line], python.group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the committed tree (what a user gets), no venv in it."""
    if not (ROOT / ".git").exists():
        pytest.skip("the quickstart test clones the repository, and this tree is no git clone")
    folder = tmp_path_factory.mktemp("quickstart") / "neardup"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(folder)], check=True)
    return folder


@pytest.fixture(scope="module")
def served(clone: Path) -> Iterator[dict[str, str]]:
    """`make serve` running in the clone; the environment its commands use."""
    port = free_port()
    env = {**os.environ, "NEARDUP_LISTEN": f"127.0.0.1:{port}"}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(sys.prefix)
    )
    log = (clone / "serve.log").open("w")
    serving = subprocess.Popen(
        ["make", "serve"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600  # the venv is made and installed first
    try:
        while b'"serving' not in (clone / "serve.log").read_bytes():
            assert serving.poll() is None, (clone / "serve.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "make serve did not serve within 10 minutes"
            time.sleep(1)
        yield {**env, "NEARDUP_SERVER": f"127.0.0.1:{port}"}
    finally:
        os.killpg(serving.pid, signal.SIGINT)
        serving.wait(60)
        log.close()


def test_the_quickstart_commands_run_as_written(clone: Path, served: dict[str, str]) -> None:
    lines, _ = quickstart()
    assert len(lines) >= 5
    outputs = []
    for line in lines:
        done = subprocess.run(
            line, shell=True, cwd=clone, env=served, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    text = "\n".join(outputs)
    assert "added\tmate__Garden.jpg" in text
    assert "near mate__Garden.jpg" in text  # the second add says what it duplicates
    assert (clone / "report.html").stat().st_size > 0


def test_the_quickstart_python_snippet_runs_as_written(clone: Path, served: dict[str, str]) -> None:
    _, snippet = quickstart()
    snippet = snippet.replace("127.0.0.1:50051", served["NEARDUP_SERVER"])
    done = subprocess.run(
        [str(clone / ".venv" / "bin" / "python"), "-c", snippet],
        cwd=clone,
        env=served,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "garden-2 0" in done.stdout or "mate__Garden.jpg 0" in done.stdout
