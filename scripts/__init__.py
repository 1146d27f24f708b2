"""neardup's scripts, by purpose; each runs as a module from the repository's root:

    python -m scripts.bench.index --n 1000000     benchmarks, each beside its anchor
    python -m scripts.reliability.crash_loop      fuzzing, load, crash loop, overload
    python -m scripts.tools.generate_proto        proto generation, golden checks, pinning

See scripts/bench/README.md for what each benchmark runs and where it publishes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["ROOT", "module_command"]

ROOT = Path(__file__).resolve().parent.parent

# A script's child processes (an echo server, a timed server, a fuzz worker) run modules of
# this package too: they find it wherever they are started from.
_paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
if str(ROOT) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT), *_paths] if p)


def module_command(module: str, *args: str) -> list[str]:
    """The command that runs `module` (a script's `__spec__.name`) in a new interpreter."""
    return [sys.executable, "-m", module, *args]
