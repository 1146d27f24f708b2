"""Bad input never gets past the decoder untyped: each kind has its error and a clear message."""

from __future__ import annotations

import io
import resource
import struct
import zlib

import pytest
from neardup.index import (
    BadDimensions,
    CorruptImage,
    DecodeLimits,
    EmptyImage,
    ImageTooLarge,
    TruncatedImage,
    UnknownAlgorithm,
    UnsupportedFormat,
    hash_image,
)
from PIL import Image

from ...conftest import read_image

ALGORITHMS = ["phash", "imagehash-4", "phash-c"]


def png_claiming(width: int, height: int) -> bytes:
    """A few-hundred-byte PNG whose header declares width x height 8-bit gray pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (min(width, 4096) + 1) * 4)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_bytes_is_an_empty_image(algorithm: str) -> None:
    with pytest.raises(EmptyImage, match=r"empty \(0 bytes\)"):
        hash_image(b"", algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "name",
    [
        "mate__Garden.jpg",
        "skimage__color.png",
        "wesnoth__swamp-02.gif",
        "gnome__grid-l.webp",
        "sklearn__china.bmp",
    ],
)
def test_a_file_cut_in_half_is_truncated(name: str, algorithm: str) -> None:
    data = read_image(name)
    with pytest.raises(TruncatedImage, match="ends early"):
        hash_image(data[: len(data) // 2], algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("name", ["mate__Garden.jpg", "wesnoth__swamp-02.gif"])
def test_garbage_inside_a_known_format_is_corrupt(name: str, algorithm: str) -> None:
    data = read_image(name)
    third = len(data) // 3
    damaged = data[:third] + bytes(range(256)) * 50 + data[2 * third :]
    with pytest.raises(CorruptImage, match="cannot be decoded"):
        hash_image(damaged, algorithm)


@pytest.mark.parametrize("name", ["mate__Garden.jpg", "mate__Dune.tif", "wesnoth__swamp-02.gif"])
def test_a_broken_header_names_the_format_it_looks_like(name: str) -> None:
    data = read_image(name)
    kind = {"jpg": "JPEG", "tif": "TIFF", "gif": "GIF"}[name.rsplit(".", 1)[1]]
    with pytest.raises(CorruptImage, match=f"starts like a {kind} file"):
        hash_image(data[:20])


@pytest.mark.parametrize(
    "data",
    [b"this is a text file, not an image\n", b"%PDF-1.7\n" + b"\x00" * 100, bytes(range(256))],
    ids=["text", "pdf", "noise"],
)
def test_bytes_of_no_known_format_are_unsupported_and_the_message_lists_what_is(
    data: bytes,
) -> None:
    with pytest.raises(
        UnsupportedFormat, match="JPEG, PNG, GIF, WebP, TIFF, BMP, AVIF or HEIC/HEIF"
    ):
        hash_image(data)


@pytest.mark.parametrize("fmt", ["ICO", "PPM", "TGA"])
def test_a_valid_image_in_a_format_we_do_not_decode_is_unsupported(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(out, fmt)
    with pytest.raises(UnsupportedFormat):
        hash_image(out.getvalue())


def test_iso_media_of_a_video_brand_is_unsupported_and_a_broken_heic_is_corrupt() -> None:
    video = b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isommp41" + b"\x00" * 64
    with pytest.raises(UnsupportedFormat, match=r"brand 'isom'.*AVIF or HEIC/HEIF"):
        hash_image(video)
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64
    with pytest.raises(CorruptImage, match="starts like a HEIF file"):
        hash_image(heic)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_decompression_bomb_is_refused_from_its_header_without_allocating(algorithm: str) -> None:
    bomb = png_claiming(50_000, 50_000)  # 2.5 gigapixels in a few hundred bytes
    assert len(bomb) < 4096
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageTooLarge, match="over the limit of 64000000 pixels"):
        hash_image(bomb, algorithm)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024  # decoding would have needed 2.5 GB


def test_the_pixel_limit_is_checked_before_pillow_s_own_bomb_threshold() -> None:
    with pytest.raises(
        ImageTooLarge, match=r"12000x12000 = 144000000 pixels, over the limit of 64000000"
    ):
        hash_image(png_claiming(12_000, 12_000))


def test_the_pixel_limit_is_configurable(garden_jpeg: bytes) -> None:
    with pytest.raises(
        ImageTooLarge, match="1600x1000 = 1600000 pixels, over the limit of 1000000"
    ):
        hash_image(garden_jpeg, limits=DecodeLimits(max_pixels=1_000_000))


def test_more_bytes_than_the_limit_are_refused_before_parsing(garden_jpeg: bytes) -> None:
    with pytest.raises(ImageTooLarge, match="bytes, over the limit of 1000 bytes"):
        hash_image(garden_jpeg, limits=DecodeLimits(max_bytes=1000))


def test_a_side_longer_than_any_real_image_is_bad_dimensions() -> None:
    with pytest.raises(BadDimensions, match="100000x1 pixels; a side over 65535 px"):
        hash_image(png_claiming(100_000, 1))


def test_a_zero_width_header_is_refused_as_corrupt() -> None:
    # Pillow rejects a zero-sized PNG header itself; either way it never reaches a hash.
    with pytest.raises(CorruptImage, match="PNG"):
        hash_image(png_claiming(0, 10))


def test_an_unknown_algorithm_lists_the_known_ones(garden_jpeg: bytes) -> None:
    known = "'dhash'; known: phash, phash-2, phash-1, imagehash-4, phash-c"
    with pytest.raises(UnknownAlgorithm, match=known):
        hash_image(garden_jpeg, "dhash")


def test_the_header_is_reported_as_stored(garden_jpeg: bytes) -> None:
    result = hash_image(garden_jpeg)
    assert (result.width, result.height, result.format) == (1600, 1000, "JPEG")
