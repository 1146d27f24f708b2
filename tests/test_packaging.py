"""`neardup` installs as a PEP 420 namespace: both the editable install (this venv) and a
plain wheel import as `neardup.*`, and nothing named `index` or `service` is installed."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import neardup.index
import pytest

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = [
    "neardup.index",
    "neardup.index.fingerprint",
    "neardup.index.hamming",
    "neardup.index.milvus",
    "neardup.index.persistence",
    "neardup.index.store",
    "neardup.service",
    "neardup.service.cli",
    "neardup.v1",
]
IMPORT_ALL = (
    f"import {', '.join(SUBPACKAGES)}, neardup.v1.neardup_pb2_grpc;"
    "from neardup.index import Engine, HammingIndex;"  # the lazily imported parts
    "print(neardup.index.__file__)"
)


def test_the_editable_install_maps_the_namespace_onto_the_source_folders() -> None:
    assert Path(neardup.index.__file__).resolve().parent == ROOT / "index"


@pytest.mark.slow
def test_a_wheel_installs_only_the_neardup_namespace_and_imports_cleanly(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("neardup-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_levels = {n.split("/")[0] for n in names if not n.startswith("neardup-")}
    assert top_levels == {"neardup"}
    assert "neardup/v1/neardup.proto" in names and "neardup/v1/neardup_pb2.pyi" in names
    assert not any(n.startswith("neardup/__init__") for n in names)  # a namespace, not a package
    for package in SUBPACKAGES:
        assert package.replace(".", "/") + "/__init__.py" in names, package

    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    # -S: no site-packages processing, so the editable finder of this venv is out of the way;
    # dependencies still come from this venv's site-packages, listed after the wheel.
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]]),
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", IMPORT_ALL],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith(str(target / "neardup" / "index"))
