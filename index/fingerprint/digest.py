"""The content digest of an image: the SHA-256 of its file's bytes.

Why: a blank or near-blank picture's hash is noise (its quality score says so), and two
different blank pictures can round to the same hash. Below a collection's quality floor an
image is therefore a duplicate only of a copy whose digest is equal: the same file again.
And a match whose digests are equal is exact, whatever the hash says (the exact tier
beside the perceptual one).

Why of the bytes and not of the decoded pixels: the bytes' digest is a small share of a
hash (`digest` beside `phash` in scripts/bench/hash.py), while a digest of the decoded pixels
would need the full-size decode the hash avoids; and anyone holding the file can compute it
without our decoder (`sha256sum`), so a client that hashes elsewhere can send it with a
hash. What it misses, a lossless re-save of the same
pixels, is a copy the perceptual hash already finds for any picture with structure.
"""

from __future__ import annotations

import hashlib

__all__ = ["DIGEST_BYTES", "content_digest", "digest_from_hex"]

DIGEST_BYTES = 32


def content_digest(data: bytes) -> bytes:
    """The SHA-256 of an image file's bytes."""
    return hashlib.sha256(data).digest()


def digest_from_hex(text: str) -> bytes:
    """A digest given as 64 hex digits; ValueError otherwise."""
    if len(text) != 2 * DIGEST_BYTES:
        raise ValueError(f"a digest is {2 * DIGEST_BYTES} hex digits, got {len(text)}")
    return bytes.fromhex(text)
