"""A real `neardup serve` process on 127.0.0.1, for the reliability scripts (load, overload,
crash loop): started as a user starts it, on a free port; its memory and open descriptors
read from /proc; stopped with SIGTERM or killed with SIGKILL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ServerProcess"]

_LISTENING = re.compile(r"neardup: listening on ([\d.]+):(\d+)")
START_SECONDS = 300


class ServerProcess:
    """One server process over a data dir; `start` again after `kill` to restart it."""

    def __init__(self, data_dir: Path, settings: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.settings = dict(settings or {})
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.log_path = data_dir.parent / f"{data_dir.name}.server.log"

    def start(self) -> float:
        """Starts the server; returns the seconds until it said it was serving."""
        env = {**os.environ, **{f"NEARDUP_{k.upper()}": v for k, v in self.settings.items()}}
        started = time.monotonic()
        log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neardup.service.cli",
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--listen",
                "127.0.0.1:0",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
        log.close()
        assert self.process.stdout is not None
        deadline = started + START_SECONDS
        for line in self.process.stdout:
            found = _LISTENING.search(line)
            if found:
                self.address = f"{found.group(1)}:{found.group(2)}"
            if "neardup: serving" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return time.monotonic() - started
            if time.monotonic() > deadline:
                break
        self.kill()
        raise RuntimeError(f"the server did not start; see {self.log_path}")

    def _drain(self) -> None:
        process = self.process
        if process is not None and process.stdout is not None:
            for _ in process.stdout:
                pass

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_mb(self) -> float:
        """Resident memory of the server process, MB (0 when it is not running)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0.0
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else 0.0

    def open_fds(self) -> int:
        """Open file descriptors of the server process."""
        try:
            return len(os.listdir(f"/proc/{self.pid}/fd"))
        except OSError:
            return 0

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would; waits for the process to go."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int:
        """SIGTERM: the server drains and writes its final snapshots; its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=120)
