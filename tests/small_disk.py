"""A small real filesystem for a test's data dir: a size-limited tmpfs, mounted for the
test and unmounted after it, so that "the disk is full" is the kernel's ENOSPC, not a mock.

Mounting needs root (CAP_SYS_ADMIN); elsewhere the tests that need it are skipped with the
reason.
"""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["fill", "small_filesystem"]


@contextmanager
def small_filesystem(folder: Path, size_bytes: int) -> Iterator[Path]:
    """`folder`, with a tmpfs of `size_bytes` mounted on it for the block's duration."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs for the full-disk tests needs root")
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(path: Path) -> int:
    """Writes `path` until its filesystem has no space left; returns the bytes written."""
    written = 0
    chunk = b"\0" * 65536
    with path.open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk) or 0
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        while True:  # the last partial chunk's worth
            try:
                written += f.write(b"\0" * 512) or 0
            except OSError:
                return written
