"""The files of an image library, as (id, path) pairs, from the sources a bulk build names.

A source is a folder (walked recursively in name order, following symlinks, each real
folder once so that a link back up never loops), a list file (one path per line, or
`id<TAB>path`; relative paths are relative to the list file's folder), or `-` for such a
list on stdin (paths relative to the working folder). Ids default to the path relative to
its folder, `/`-separated, or to the path as listed; `id_prefix` keeps sources apart.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

__all__ = ["LibraryFile", "SourceError", "library_files"]


class SourceError(Exception):
    """A source that is neither a folder, nor a readable list file, nor `-`."""


@dataclass(frozen=True, slots=True)
class LibraryFile:
    """One file to index, and the id it is stored under."""

    id: str
    path: Path


def library_files(
    sources: Sequence[str], id_prefix: str = "", stdin: TextIO | None = None
) -> Iterator[LibraryFile]:
    """Every file of the sources, in order; SourceError (before any file) for a bad one."""
    for source in sources:
        if source != "-" and not Path(source).exists():
            raise SourceError(f"{source}: no such folder or list file")
    for source in sources:
        if source == "-":
            yield from _listed(stdin or sys.stdin, Path.cwd(), id_prefix)
        elif Path(source).is_dir():
            yield from _walked(Path(source), id_prefix)
        else:
            with Path(source).open(encoding="utf-8") as listing:
                yield from _listed(listing, Path(source).parent, id_prefix)


def _walked(folder: Path, id_prefix: str) -> Iterator[LibraryFile]:
    seen: set[tuple[int, int]] = set()
    for current, dirs, names in os.walk(folder, followlinks=True):
        info = os.stat(current)
        if (info.st_dev, info.st_ino) in seen:  # a link to a folder already walked
            dirs.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        dirs.sort()
        for name in sorted(names):
            path = Path(current) / name
            yield LibraryFile(id_prefix + path.relative_to(folder).as_posix(), path)


def _listed(lines: Iterable[str], base: Path, id_prefix: str) -> Iterator[LibraryFile]:
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        image_id, tab, listed = line.partition("\t")
        if not tab:
            image_id = listed = line
        yield LibraryFile(id_prefix + image_id, base / listed)
