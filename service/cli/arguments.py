"""The CLI's argument types: each value is checked when it is parsed, by the engine's own
request checks (`neardup.index.bounds`), so that a command refuses it the same way whether
it then opens a data dir or asks a server, and argparse names the flag the user typed (one
line, exit 2: `parser.CommandParser`)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

from neardup.index import bounds
from neardup.index.errors import InvalidArgument

__all__ = [
    "collection_name",
    "count",
    "hex_hash",
    "image_id",
    "match_count",
    "positive_seconds",
    "quality",
    "radius",
]


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _checked(check: Callable[[int, str], int], name: str) -> Callable[[str], int]:
    """A converter: a whole number the engine's check accepts (its message, without the
    contract's field name, which argparse replaces by the flag)."""

    def convert(text: str) -> int:
        value = _whole_number(text)
        try:
            return check(value, "value")
        except InvalidArgument as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix("value ")) from None

    convert.__name__ = name
    return convert


radius = _checked(bounds.check_radius, "radius")
match_count = _checked(bounds.check_k, "match_count")
quality = _checked(bounds.check_quality, "quality")


def count(text: str) -> int:
    """A whole number, 0 or more."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_seconds(text: str) -> float:
    """Seconds, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0 seconds, got {text}")
    return value


def _text(check: Callable[[str], object]) -> Callable[[str], str]:
    def convert(text: str) -> str:
        try:
            check(text)
        except InvalidArgument as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    convert.__name__ = getattr(check, "__name__", "value")
    return convert


collection_name = _text(bounds.check_collection_name)
image_id = _text(bounds.check_id)


def hex_hash(text: str) -> str:
    """16 hex digits (the algorithm is the collection's, checked when it is known)."""
    if not re.fullmatch(r"(0x)?[0-9a-fA-F]{16}", text.strip()):
        raise argparse.ArgumentTypeError(f"a hash is 16 hex digits, got {text!r}")
    return text.strip().removeprefix("0x")
