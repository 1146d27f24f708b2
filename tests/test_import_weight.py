"""What each entry point loads: hashing needs no FAISS, SQLite or gRPC, an offline build no
gRPC or Prometheus, and `neardup --help` none of them, nor numpy or Pillow (each checked in
a fresh interpreter, through `sys.modules`)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import IMAGES

pytestmark = pytest.mark.slow  # a fresh interpreter per test
HEAVY = ("faiss", "sqlite3", "_sqlite3", "grpc", "prometheus_client", "google.protobuf")


def loaded_after(code: str) -> set[str]:
    """The HEAVY modules a fresh interpreter holds after running `code`."""
    probe = (
        "import sys\n"
        f"{code}\n"
        f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def cli(*argv: str) -> str:
    """Runs the CLI's main in-process (as the `neardup` script does), exit status ignored."""
    return (
        "from neardup.service.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass"
    )


def test_importing_the_fingerprint_package_loads_no_faiss_sqlite_or_grpc() -> None:
    assert loaded_after("import neardup.index.fingerprint") == set()


def test_hash_image_from_the_top_package_loads_no_faiss_sqlite_or_grpc() -> None:
    assert loaded_after("from neardup.index import Fingerprint, hash_image") == set()


def test_a_dask_worker_s_hashing_module_loads_no_faiss_sqlite_or_grpc() -> None:
    assert loaded_after("import neardup.service.cli.build_hashing") == set()


def test_neardup_hash_loads_no_faiss_sqlite_or_grpc() -> None:
    assert loaded_after(cli("hash", str(IMAGES / "mate__Garden.jpg"))) == set()


def test_the_engine_seam_and_the_code_index_seam_load_no_faiss() -> None:
    """The service and the seam's types import `neardup.index` and its code-index seam;
    FAISS and the compiled loops come only with a structure (a fuzzer instruments what
    these imports load, and cannot instrument compiled loops)."""
    code = "import neardup.index.hamming\nfrom neardup.index import Backend, Query, IndexParams"
    assert loaded_after(code + "\nassert 'numba' not in sys.modules") == set()


def test_neardup_help_loads_none_of_them() -> None:
    assert loaded_after(cli("--help")) == set()
    assert loaded_after(cli("search", "--help")) == set()
    assert loaded_after(cli("--help") + "\nassert 'numpy' not in sys.modules") == set()


def test_an_offline_build_loads_no_grpc_or_prometheus(tmp_path: pytest.TempPathFactory) -> None:
    source = IMAGES
    loaded = loaded_after(cli("build", str(source), "--data-dir", str(tmp_path)))
    assert loaded & {"grpc", "prometheus_client", "google.protobuf"} == set()
    assert {"faiss", "sqlite3"} <= loaded  # it did open a data dir


def test_neardup_help_names_every_command_without_importing_them() -> None:
    from neardup.service.cli import COMMANDS

    done = subprocess.run(
        [sys.executable, "-m", "neardup.service.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listed = " ".join(done.stdout.split())  # argparse wraps long lines to the terminal
    for name, summary in COMMANDS.items():
        assert f"{name} {summary}" in listed
