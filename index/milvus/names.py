"""How neardup's names and values appear in Milvus: collection names, primary keys, codes and
filter expressions.

Milvus collection names allow [A-Za-z0-9_] only, so a neardup name is escaped into one
(reversibly: `_` itself is escaped). An image's primary key is its id's UTF-8 bytes in hex:
any id, quotes and newlines included, fits a filter expression without escaping (Milvus Lite
refused some raw ids on upsert), and hex strings sort as the bytes they encode, so the key
order is the id order `List` pages in.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InvalidArgument
from ..fingerprint.value import CODE_BYTES

__all__ = [
    "REGISTRY",
    "code_bytes",
    "code_from_bytes",
    "id_from_key",
    "key_of",
    "keys_literal",
    "milvus_collection",
]

PREFIX = "neardup_"
REGISTRY = "neardup__registry"
_MILVUS_NAME_LIMIT = 255
_ESCAPES = {"_": "_5f", ".": "_2e", "-": "_2d"}


def milvus_collection(name: str) -> str:
    """The Milvus collection holding a neardup collection's images."""
    escaped = PREFIX + "".join(_ESCAPES.get(c, c) for c in name)
    if len(escaped) > _MILVUS_NAME_LIMIT:
        raise InvalidArgument(
            f"collection name {name!r} is too long for Milvus once escaped "
            f"({len(escaped)} > {_MILVUS_NAME_LIMIT} characters)",
            "name",
        )
    return escaped


def key_of(image_id: str) -> str:
    """The primary key of an id."""
    return image_id.encode("utf-8", "surrogatepass").hex()


def id_from_key(key: str) -> str:
    """The id of a primary key."""
    return bytes.fromhex(key).decode("utf-8", "surrogatepass")


def keys_literal(keys: Iterable[str]) -> str:
    """A filter expression's list of primary keys: `["61", "6263"]` (hex needs no escape)."""
    return "[" + ", ".join(f'"{key}"' for key in keys) + "]"


def code_bytes(code: int) -> bytes:
    """A code as Milvus's binary vector: 8 bytes, big-endian (as FAISS's codes)."""
    return code.to_bytes(CODE_BYTES, "big")


def code_from_bytes(vector: bytes | list[bytes]) -> int:
    """A code from a binary vector as Milvus returns it (bytes, or a list of one)."""
    raw = vector[0] if isinstance(vector, list) else vector
    return int.from_bytes(raw, "big")
