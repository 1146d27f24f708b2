"""How the CLI refuses, for every command alike: one line on stderr naming the flag to
change, exit status 2, never a traceback. A usage mistake or a value out of its bounds is
refused by the parser (`CommandParser.error`); a request the engine or a server refused is
printed by `print_refusal`, its contract field translated back into the flag that sets it.
Imports nothing heavy: `neardup --help` goes through it."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from typing import NoReturn

__all__ = ["CommandParser", "Refused", "flag_of", "print_refusal", "refusal_line"]


class CommandParser(argparse.ArgumentParser):
    """An argparse parser whose refusals are one line naming the flag, and exit 2."""

    def error(self, message: str) -> NoReturn:
        message = re.sub(r"^argument ([^:]+): ", r"\1: ", message)
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


class Refused(Exception):
    """A command's own refusal (a data dir that is not there, a server that does not
    answer): what is wrong, and what resolves it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


# The contract's request fields, as the flags that set them.
_FLAGS = {
    "max_distance": "--radius",
    "k": "--k",
    "hash": "--hash",
    "id": "--id",
    "collection": "--collection",
    "algorithm": "--algorithm",
    "crop_hashes": "--crop-hashes",
    "thumbnails": "--thumbnails",
    "default_radius": "--radius",
    "min_quality": "--min-quality",
    "index.kind": "--index-kind",
    "orientations": "--orientations",
    "image": "IMAGE",
    "listen": "--listen",
    "metrics_listen": "--metrics",
    "data_dir": "--data-dir",
    "scopes": "--scopes",
}


def flag_of(field: str, flags: Mapping[str, str] | None = None) -> str:
    """The flag (or positional argument) that sets a request field ("" when none does);
    `flags`: the command's own, where its arguments set fields otherwise (the `FLAGS` of
    its module)."""
    if flags and field in flags:
        return flags[field]
    return _FLAGS.get(field, "")


# What resolves a refusal, by its status code and field (the server's codes; the engine's
# errors of the same kind map to them in `_CODE_NAMES`).
_HINTS = {
    ("NOT_FOUND", "collection"): "`neardup collections create NAME` makes one",
    ("ALREADY_EXISTS", "id"): "--replace replaces it, --skip-existing leaves it",
    ("UNAVAILABLE", "data_dir"): "a running server has it open: ask it with --server",
}


def hint_for(code: str, field: str) -> str:
    """What resolves a refusal of this status code at this field ("" when the CLI cannot
    say more than the message)."""
    return _HINTS.get((code, field), "")


def refusal_line(
    message: str, field: str = "", hint: str = "", flags: Mapping[str, str] | None = None
) -> str:
    """A refused request as the CLI prints it: the flag to change first, when one sets the
    field at fault, and what resolves it when the CLI knows."""
    flag = flag_of(field, flags)
    line = f"{flag}: {message}" if flag else message
    return f"{line} ({hint})" if hint else line


def print_refusal(
    message: str, field: str = "", hint: str = "", flags: Mapping[str, str] | None = None
) -> None:
    """The one line of a refused request, on stderr."""
    print(f"neardup: {refusal_line(message, field, hint, flags)}", file=sys.stderr)
