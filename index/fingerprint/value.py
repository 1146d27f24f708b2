"""The 64-bit hash value type, and the one place that converts between its forms.

A hash is an `int` in [0, 2**64) in memory, 16 lowercase hex digits on the wire and in files
(`ba19c8ab5fa05a59`), 8 big-endian bytes in FAISS codes (a `uint64` array when many are
handled at once), and a signed 64-bit integer in SQLite (which has no unsigned type: the
same 64 bits, two's complement). The hex string is the big-endian rendering of the int, so
all orders agree: the first hex digit, the most significant bits and byte 0 are the same
bits. Nothing else in neardup converts between these forms.

Like ImageHash's `ImageHash`, `a - b` is the Hamming distance, but only between hashes of the
same algorithm: hashes of different algorithms live in different spaces, and comparing them
raises `AlgorithmMismatch` instead of returning a meaningless number.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..errors import AlgorithmMismatch, InvalidHash

__all__ = [
    "BITS",
    "Fingerprint",
    "codes_from_ints",
    "codes_from_u64",
    "from_blob",
    "from_sqlite",
    "hamming_distance",
    "ints_from_codes",
    "similarity",
    "to_blob",
    "to_sqlite",
    "u64_from_codes",
]

BITS = 64
CODE_BYTES = BITS // 8
_MAX = (1 << BITS) - 1
_HEX_DIGITS = frozenset("0123456789abcdef")


def hamming_distance(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hash values."""
    return (a ^ b).bit_count()


def similarity(distance: int) -> float:
    """`1 - distance / 64`: 1.0 for identical hashes, about 0.5 for unrelated images."""
    return 1.0 - distance / BITS


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A 64-bit perceptual hash and the name of the algorithm that computed it.

    Immutable and hashable; safe to share between threads.
    """

    value: int
    algorithm: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise InvalidHash(f"hash value must be an int, got {type(self.value).__name__}")
        if not 0 <= self.value <= _MAX:
            raise InvalidHash(f"hash value {self.value} is outside [0, 2**64)")

    @classmethod
    def from_hex(cls, text: str, algorithm: str) -> Fingerprint:
        """Parses 16 hex digits (either case), as sent on the wire or printed by the CLI."""
        digits = text.strip().lower()
        if len(digits) != 16 or not _HEX_DIGITS.issuperset(digits):
            raise InvalidHash(f"a hash is 16 hex digits, got {text!r}")
        return cls(int(digits, 16), algorithm)

    @classmethod
    def from_bytes(cls, data: bytes, algorithm: str) -> Fingerprint:
        """Reads the 8 big-endian bytes of a FAISS code."""
        if len(data) != CODE_BYTES:
            raise InvalidHash(f"a hash is {CODE_BYTES} bytes, got {len(data)}")
        return cls(int.from_bytes(data, "big"), algorithm)

    @property
    def hex(self) -> str:
        """16 lowercase hex digits, most significant first."""
        return f"{self.value:016x}"

    def to_bytes(self) -> bytes:
        """8 big-endian bytes: the FAISS code of this hash."""
        return self.value.to_bytes(CODE_BYTES, "big")

    def distance(self, other: Fingerprint) -> int:
        """Hamming distance in bits; refuses hashes of another algorithm."""
        if self.algorithm != other.algorithm:
            raise AlgorithmMismatch(
                f"cannot compare a {self.algorithm!r} hash with a {other.algorithm!r} hash"
            )
        return hamming_distance(self.value, other.value)

    def similarity(self, other: Fingerprint) -> float:
        """`1 - distance / 64`."""
        return similarity(self.distance(other))

    def __sub__(self, other: Fingerprint) -> int:
        return self.distance(other)

    def __str__(self) -> str:
        return self.hex


def codes_from_u64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """Packs a uint64 array of hash values into an (n, 8) uint8 array of FAISS codes."""
    as_big_endian = np.ascontiguousarray(values, dtype=np.uint64).astype(">u8")
    return as_big_endian.view(np.uint8).reshape(-1, CODE_BYTES)


def u64_from_codes(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """Unpacks an (n, 8) uint8 array of FAISS codes into a uint64 array of hash values."""
    if codes.ndim != 2 or codes.shape[1] != CODE_BYTES:
        raise ValueError(f"FAISS codes are (n, {CODE_BYTES}) bytes, got {codes.shape}")
    return np.ascontiguousarray(codes).view(">u8").ravel().astype(np.uint64)


def codes_from_ints(values: Iterable[int]) -> npt.NDArray[np.uint8]:
    """Packs hash values into an (n, 8) uint8 array of big-endian FAISS codes."""
    return codes_from_u64(np.fromiter(values, dtype=np.uint64))


def ints_from_codes(codes: npt.NDArray[np.uint8]) -> list[int]:
    """Unpacks an (n, 8) uint8 array of FAISS codes into hash values."""
    return [int(v) for v in u64_from_codes(codes)]


def to_blob(values: Iterable[int]) -> bytes:
    """Hash values as one byte string, 8 big-endian bytes each (a stored list of hashes)."""
    return codes_from_ints(values).tobytes()


def from_blob(blob: bytes) -> list[int]:
    """The hash values of a `to_blob` byte string (struct, not numpy: every matched image of
    a crop_hashes collection carries two, and numpy's per-call cost was most of a search's
    parsing of its rows)."""
    return list(struct.unpack(f">{len(blob) // CODE_BYTES}Q", blob))


def to_sqlite(value: int) -> int:
    """The signed 64-bit integer SQLite stores for a hash value (same bits)."""
    return value - (1 << BITS) if value > _MAX >> 1 else value


def from_sqlite(stored: int) -> int:
    """The hash value of a signed 64-bit integer read from SQLite."""
    return stored & _MAX
