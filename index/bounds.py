"""The bounds the contract states for request values, enforced in one place.

Each check raises `InvalidArgument` naming the contract's field, with the bound in the
message; the service turns that into INVALID_ARGUMENT with a BadRequest detail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from .errors import InvalidArgument
from .fingerprint.digest import DIGEST_BYTES
from .fingerprint.value import BITS

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_CROP_RADIUS",
    "DEFAULT_MIN_QUALITY",
    "DEFAULT_RADIUS",
    "MAX_DELETE_IDS",
    "MAX_GET_IDS",
    "MAX_K",
    "MAX_PAGE_SIZE",
    "MAX_QUALITY",
    "check_collection_name",
    "check_delete_ids",
    "check_digest",
    "check_id",
    "check_k",
    "check_many_ids",
    "check_metadata",
    "check_page_size",
    "check_quality",
    "check_radius",
    "check_thumbnail",
]

DEFAULT_COLLECTION = "default"
# No two distinct photos of the bench corpus are within 10 bits (closest pair: 12); edits
# other than crops, borders and rotations stay within it (shared/golden/README.md).
DEFAULT_RADIUS = 10
# A crop_hashes collection's: its three codes an image bring two distinct originals of the
# corpus within 10 bits; at 8 none are, and recall stays high (scripts/bench/quality.py).
DEFAULT_CROP_RADIUS = 8
# A collection's quality floor unless it names one. scripts/bench/quality.py --controls 150:
# at 5, pairs of distinct pictures within 10 bits fell from 4,969 to 1,398 (the rest: blank
# pictures with identical hashes, which match exactly by design), and no original of the
# bench corpus scores below it (lowest: 8), so near-duplicate recall is unchanged; 10 cut no
# more pairs and lost 0.007 of recall.
DEFAULT_MIN_QUALITY = 5
MAX_QUALITY = 100
MAX_K = 1000
# Crop hashes an image may carry (the engine keeps those of `fingerprint.crops.CROP_KEEPS`).
MAX_CROPS = 8
MAX_DUPLICATES = 1000
MAX_DELETE_IDS = 10_000
MAX_GET_IDS = 10_000
MAX_PAGE_SIZE = 1000
MAX_ID_BYTES = 512
MAX_METADATA_ENTRIES = 64
MAX_METADATA_KEY_BYTES = 128
MAX_METADATA_VALUE_BYTES = 4096
# A thumbnail's bytes: a 112 px JPEG at quality 75 (`fingerprint.make_thumbnail`) is a few
# KB; the bound keeps one sent with a hash add from weighing on the store.
MAX_THUMBNAIL_BYTES = 16 * 1024
_COLLECTION_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")


def check_collection_name(name: str, field: str = "name") -> str:
    """1..128 of [A-Za-z0-9._-], not starting with '.' or '-'."""
    if not _COLLECTION_NAME.fullmatch(name):
        raise InvalidArgument(
            f"collection name {name!r} must be 1..128 characters of [A-Za-z0-9._-], "
            "not starting with '.' or '-'",
            field,
        )
    return name


def check_id(image_id: str, field: str = "id") -> str:
    """1..512 bytes of UTF-8."""
    size = len(image_id.encode("utf-8", "surrogatepass"))
    if not 1 <= size <= MAX_ID_BYTES:
        raise InvalidArgument(f"an id is 1..{MAX_ID_BYTES} bytes of UTF-8, got {size}", field)
    return image_id


def check_metadata(metadata: Mapping[str, str], field: str = "metadata") -> dict[str, str]:
    """At most 64 entries, keys 1..128 bytes, values up to 4096 bytes."""
    if len(metadata) > MAX_METADATA_ENTRIES:
        raise InvalidArgument(
            f"at most {MAX_METADATA_ENTRIES} metadata entries, got {len(metadata)}", field
        )
    for key, value in metadata.items():
        if not 1 <= len(key.encode()) <= MAX_METADATA_KEY_BYTES:
            raise InvalidArgument(
                f"metadata key {key[:40]!r} must be 1..{MAX_METADATA_KEY_BYTES} bytes", field
            )
        if len(value.encode()) > MAX_METADATA_VALUE_BYTES:
            raise InvalidArgument(
                f"metadata value of {key[:40]!r} is over {MAX_METADATA_VALUE_BYTES} bytes", field
            )
    return dict(metadata)


def check_k(k: int, field: str = "k", maximum: int = MAX_K) -> int:
    """1..maximum."""
    if not 1 <= k <= maximum:
        raise InvalidArgument(f"{field} must be in 1..{maximum}, got {k}", field)
    return k


def check_quality(quality: int, field: str) -> int:
    """0..100: a hash's quality score, or a collection's floor."""
    if not 0 <= quality <= MAX_QUALITY:
        raise InvalidArgument(f"{field} must be in 0..{MAX_QUALITY}, got {quality}", field)
    return quality


def check_radius(radius: int, field: str = "max_distance") -> int:
    """0..64 bits."""
    if not 0 <= radius <= BITS:
        raise InvalidArgument(f"{field} must be in 0..{BITS} bits, got {radius}", field)
    return radius


def _check_ids(ids: Sequence[str], operation: str, limit: int) -> list[str]:
    if not 1 <= len(ids) <= limit:
        raise InvalidArgument(f"{operation} takes 1..{limit} ids, got {len(ids)}", "ids")
    return [check_id(i, "ids") for i in ids]


def check_delete_ids(ids: Sequence[str]) -> list[str]:
    """1..10000 valid ids."""
    return _check_ids(ids, "delete", MAX_DELETE_IDS)


def check_many_ids(ids: Sequence[str]) -> list[str]:
    """1..10000 valid ids, to get at once."""
    return _check_ids(ids, "a get of many", MAX_GET_IDS)


def check_page_size(size: int) -> int:
    """1..1000."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be in 1..{MAX_PAGE_SIZE}, got {size}", "page_size")
    return size


def check_digest(digest: bytes, field: str = "digest") -> None:
    """InvalidArgument unless a content digest is a SHA-256 (32 bytes)."""
    if len(digest) != DIGEST_BYTES:
        raise InvalidArgument(
            f"{field} must be a SHA-256 of the file ({DIGEST_BYTES} bytes), got {len(digest)}",
            field,
        )


def check_thumbnail(thumbnail: bytes, field: str = "thumbnail") -> bytes:
    """1..16 KiB of JPEG (its first bytes: the thumbnail is shown, never decoded here)."""
    if not 1 <= len(thumbnail) <= MAX_THUMBNAIL_BYTES:
        raise InvalidArgument(
            f"a thumbnail is 1..{MAX_THUMBNAIL_BYTES} bytes, got {len(thumbnail)}", field
        )
    if not thumbnail.startswith(b"\xff\xd8\xff"):
        raise InvalidArgument("a thumbnail is a JPEG (fingerprint.make_thumbnail)", field)
    return thumbnail
