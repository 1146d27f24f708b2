"""The standalone Milvus server of `scripts/milvus_standalone.py` for a test: skipped, with
the reason, where it cannot run."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["standalone_milvus"]

_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "milvus_standalone.py"
_spec = importlib.util.spec_from_file_location("milvus_standalone", _SCRIPT)
assert _spec is not None and _spec.loader is not None
_launcher = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_launcher)


@contextmanager
def standalone_milvus(folder: Path) -> Iterator[str]:
    """The URI of a standalone Milvus server for the block (the test is skipped if none)."""
    try:
        with _launcher.standalone_milvus(folder) as uri:
            yield uri
    except _launcher.StandaloneUnavailable as exc:
        pytest.skip(str(exc))
