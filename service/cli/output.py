"""What the CLI commands share: reading an image file within the byte limit, and printing
matches the same way whether they come from a data dir or from a server."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neardup.index.fingerprint import DEFAULT_LIMITS, similarity

__all__ = [
    "counted",
    "match_row",
    "print_json",
    "print_matches",
    "print_quality_note",
    "proto_json",
    "read_image_file",
]


def counted(n: int, noun: str) -> str:
    """'1 group', '2 groups', '1,024 images'."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def read_image_file(path: str | Path) -> bytes:
    """The file's bytes, read no further than one byte past the image byte limit (enough
    for the hash to refuse it as too large without reading a huge file whole)."""
    with open(path, "rb") as f:
        return f.read(DEFAULT_LIMITS.max_bytes + 1)


def match_row(
    image_id: str,
    hex_hash: str,
    distance: int,
    orientation: str | None,
    quality: int | None = None,
    via_crop: bool = False,
    identical: bool = False,
) -> dict[str, Any]:
    """One match as the CLI prints it (quality: the stored hash's, when known; via_crop:
    found through a crop hash; identical: the same file, by content digest)."""
    row: dict[str, Any] = {
        "id": image_id,
        "hash": hex_hash,
        "distance": distance,
        "similarity": similarity(distance),
    }
    if orientation is not None:
        row["orientation"] = orientation
    if quality is not None:
        row["quality"] = quality
    if via_crop:
        row["via_crop"] = True
    if identical:
        row["identical"] = True
    return row


def print_quality_note(note: str) -> None:
    """Why a search or an add was held to exact matches, on stderr (nothing when empty)."""
    if note:
        print(f"neardup: {note}", file=sys.stderr)


def print_matches(rows: Sequence[dict[str, Any]], as_json: bool) -> None:
    """A JSON list, or one TAB line per match: hash, distance, id."""
    if as_json:
        print_json(list(rows))
        return
    for row in rows:
        print(f"{row['hash']}\t{row['distance']}\t{row['id']}")


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    json.dump(value, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


def proto_json(message: Any) -> dict[str, Any]:
    """A protobuf message as JSON values: numbers as numbers (protobuf's own JSON form
    writes 64-bit integers as strings), enums by their short name ("exact" for
    SEARCH_PATH_EXACT), an unset optional field or message as null, every field present."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.is_repeated:
            out[field.name] = [_json_value(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _json_value(field, value)
    return out


def _json_value(field: Any, value: Any) -> Any:
    if field.message_type is not None:
        return proto_json(value)
    if field.enum_type is not None:
        enum = field.enum_type
        prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"
        return enum.values_by_number[value].name.removeprefix(prefix).lower()
    return value
