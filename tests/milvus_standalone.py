"""The standalone Milvus server of `scripts/tools/milvus_standalone.py` for a test: skipped,
with the reason, where it cannot run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from scripts.tools import milvus_standalone as launcher

__all__ = ["standalone_milvus"]


@contextmanager
def standalone_milvus(folder: Path) -> Iterator[str]:
    """The URI of a standalone Milvus server for the block (the test is skipped if none)."""
    try:
        with launcher.standalone_milvus(folder) as uri:
            yield uri
    except launcher.StandaloneUnavailable as exc:
        pytest.skip(str(exc))
