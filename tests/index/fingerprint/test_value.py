"""The hash value type: its three forms, Hamming distance and similarity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from neardup.index import AlgorithmMismatch, Fingerprint, InvalidHash
from neardup.index.fingerprint import codes_from_ints, ints_from_codes

u64 = st.integers(min_value=0, max_value=2**64 - 1)


def test_hex_is_sixteen_lowercase_digits_most_significant_first() -> None:
    fp = Fingerprint(0xBA19C8AB5FA05A59, "phash")
    assert fp.hex == "ba19c8ab5fa05a59"
    assert str(Fingerprint(1, "phash")) == "0000000000000001"


def test_bytes_are_the_big_endian_faiss_code() -> None:
    fp = Fingerprint(0x0102030405060708, "phash")
    assert fp.to_bytes() == bytes([1, 2, 3, 4, 5, 6, 7, 8])


@given(u64)
def test_hex_bytes_and_int_round_trip(value: int) -> None:
    fp = Fingerprint(value, "phash")
    assert Fingerprint.from_hex(fp.hex, "phash") == fp
    assert Fingerprint.from_bytes(fp.to_bytes(), "phash") == fp


@given(st.lists(u64, max_size=50))
def test_faiss_code_arrays_round_trip_and_match_to_bytes(values: list[int]) -> None:
    codes = codes_from_ints(values)
    assert codes.dtype == np.uint8 and codes.shape == (len(values), 8)
    assert ints_from_codes(codes) == values
    for row, value in zip(codes, values, strict=True):
        assert row.tobytes() == Fingerprint(value, "phash").to_bytes()


def test_uppercase_hex_is_accepted() -> None:
    assert Fingerprint.from_hex("BA19C8AB5FA05A59", "phash").value == 0xBA19C8AB5FA05A59


@pytest.mark.parametrize(
    "text", ["", "ba19c8ab5fa05a5", "ba19c8ab5fa05a590", "zz19c8ab5fa05a59", "0x19c8ab5fa05a59"]
)
def test_malformed_hex_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(InvalidHash, match="16 hex digits"):
        Fingerprint.from_hex(text, "phash")


@pytest.mark.parametrize("value", [-1, 2**64])
def test_values_outside_64_bits_are_refused(value: int) -> None:
    with pytest.raises(InvalidHash, match="outside"):
        Fingerprint(value, "phash")


def test_minus_is_the_hamming_distance_and_similarity_is_one_minus_d_over_64() -> None:
    a = Fingerprint(0b1011, "phash")
    b = Fingerprint(0b0110, "phash")
    assert a - b == 3
    assert a.similarity(b) == pytest.approx(1 - 3 / 64)
    assert Fingerprint(0, "phash") - Fingerprint(2**64 - 1, "phash") == 64


def test_hashes_of_different_algorithms_are_never_compared() -> None:
    with pytest.raises(AlgorithmMismatch, match="'phash' hash with a 'phash-c' hash"):
        _ = Fingerprint(1, "phash") - Fingerprint(1, "phash-c")
