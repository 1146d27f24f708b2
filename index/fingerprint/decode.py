"""Defensive image decoding: the one path from untrusted bytes to Pillow pixels.

Every algorithm decodes through `open_image` (header only: format, size, limits) and
`load` (pixels of frame 0). Both turn whatever Pillow raises on hostile or broken input into
the typed errors of `neardup.index.errors`, so callers never see a Pillow exception.

Limits are checked from the header before any pixel is decoded: a 50000x50000 PNG of a few
kilobytes is refused without allocating its 2.5 GB.

Thread-safety: the functions keep no state; Pillow decodes with the GIL released, so
several threads can decode at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from PIL import Image, UnidentifiedImageError

from ..errors import (
    BadDimensions,
    CorruptImage,
    EmptyImage,
    ImageTooLarge,
    NeardupError,
    NotAnImage,
    TruncatedImage,
    UnsupportedFormat,
)

__all__ = ["FORMAT_NAMES", "SUPPORTED_FORMATS", "DecodeLimits", "load", "open_image"]

# Pillow's format names. The JPEG decoder also opens MPO, the multi-picture JPEG many phone
# cameras write (frame 0 is the main picture). AVIF is Pillow's own decoder (libavif, in its
# wheels); HEIF (HEIC, what phones upload by default) is pi-heif's: libheif with the libde265
# decoder only (LGPL), not pillow-heif, whose wheels also bundle the x265 encoder (GPL). Both
# honour the pictures' rotation: libheif applies a HEIF's transforms and resets its EXIF
# orientation, and an AVIF's EXIF orientation is applied like a JPEG's (`imagehash_math`).
SUPPORTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP", "AVIF", "HEIF")
FORMAT_NAMES = "JPEG, PNG, GIF, WebP, TIFF, BMP, AVIF or HEIC/HEIF"
_BEFORE_HEIF = tuple(f for f in SUPPORTED_FORMATS if f != "HEIF")


@cache
def _register_heif() -> None:
    """Gives Pillow pi-heif's HEIF decoder the first time a HEIF arrives, so that a process
    that never sees one (`neardup hash` of JPEGs) does not import it."""
    import pi_heif

    pi_heif.register_heif_opener()


def _openers(data: bytes) -> tuple[str, ...]:
    """The formats Pillow may open these bytes as: HEIF once its decoder is registered,
    which the first HEIF does (Pillow refuses a format name it has no opener for)."""
    if _sniff(data) == "HEIF":
        _register_heif()
    return SUPPORTED_FORMATS if "HEIF" in Image.OPEN else _BEFORE_HEIF


# Magic numbers of the supported formats, to tell "broken JPEG" from "not an image we know".
_MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)

# Our own pixel limit (`DecodeLimits.max_pixels`, checked from the header) is what refuses a
# decompression bomb, with a typed error; Pillow's hard DecompressionBombError is still mapped
# to ImageTooLarge below. Pillow also warns from 89 MP on, which only a limit raised past its
# default can reach: the library leaves its host's warning filters alone (`neardup`, the
# command, silences that one warning).


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """Bounds on what the decoder accepts.

    max_pixels: width x height of frame 0. 64 MP covers 8000x8000 and every camera short of
    medium format, and bounds a decode's memory (an RGBA decode of 64 MP is 256 MB).
    max_side: no real image has a side beyond 65535 px (the JPEG and WebP maxima).
    """

    max_bytes: int = 64 * 1024 * 1024
    max_pixels: int = 64_000_000
    max_side: int = 65_535


DEFAULT_LIMITS = DecodeLimits()


# ISO media (the `ftyp` box): brands of AVIF and of HEIF/HEIC pictures (major or compatible).
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def _iso_brands(data: bytes) -> list[bytes]:
    """The major and compatible brands of an ISO media file's `ftyp` box (none: not one)."""
    if data[4:8] != b"ftyp":
        return []
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    return [data[8:12]] + [data[at : at + 4] for at in range(16, size - 3, 4)]


def _sniff(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    brands = set(_iso_brands(data))
    if brands & _AVIF_BRANDS:
        return "AVIF"
    if brands & _HEIF_BRANDS:
        return "HEIF"
    return next((name for magic, name in _MAGIC if data.startswith(magic)), None)


def _unidentified(data: bytes) -> NeardupError:
    """The error for bytes no supported decoder accepts: broken, or another format."""
    sniffed = _sniff(data)
    if sniffed is not None:
        return CorruptImage(f"the data starts like a {sniffed} file but its header is broken")
    if data[4:8] == b"ftyp":
        brand = data[8:12].decode("ascii", "replace")
        return UnsupportedFormat(
            f"ISO media of brand {brand!r} (a video or another still format) is not "
            f"supported; send {FORMAT_NAMES}"
        )
    return NotAnImage(f"not an image in a supported format; send {FORMAT_NAMES}")


@contextmanager
def _decoding(what: str) -> Iterator[None]:
    """Maps whatever Pillow raises on malformed input to a typed engine error."""
    try:
        yield
    except NeardupError:
        raise
    except MemoryError as exc:
        raise ImageTooLarge(f"{what}: out of memory while decoding") from exc
    except (OSError, EOFError) as exc:
        # Pillow has no truncation type; its messages say "truncated" (ImageFile.load) or it
        # runs out of data with EOFError.
        if isinstance(exc, EOFError) or "truncated" in str(exc).lower():
            raise TruncatedImage(f"{what}: the data ends early ({exc})") from exc
        raise CorruptImage(f"{what}: the data cannot be decoded ({exc})") from exc
    except Exception as exc:
        # Pillow's plugins raise assorted types (SyntaxError, ValueError, struct.error,
        # IndexError, ...) on hostile data: all of them mean "corrupt".
        raise CorruptImage(f"{what}: the data cannot be decoded ({exc})") from exc


def open_image(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> Image.Image:
    """Parses the header of an encoded image and enforces the limits; decodes no pixels.

    Returns a lazily loaded Pillow image (frame 0), ready for `draft` and then `load`.
    Raises EmptyImage, UnsupportedFormat, CorruptImage, TruncatedImage, BadDimensions or
    ImageTooLarge.
    """
    if len(data) == 0:
        raise EmptyImage("the image is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise ImageTooLarge(
            f"the image is {len(data)} bytes, over the limit of {limits.max_bytes} bytes"
        )
    if _sniff(data) == "WEBP":  # libwebp reports a short file only as "no decoder object"
        declared = 8 + int.from_bytes(data[4:8], "little")
        if len(data) < declared:
            raise TruncatedImage(
                f"the WebP data ends early: {len(data)} of the {declared} bytes its header declares"
            )
    with _decoding("image header"):
        try:
            image = Image.open(io.BytesIO(data), formats=_openers(data))
        except UnidentifiedImageError:
            raise _unidentified(data) from None
        except Image.DecompressionBombError as exc:  # far beyond any sane limit
            raise ImageTooLarge(
                f"the image is over the limit of {limits.max_pixels} pixels ({exc})"
            ) from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise BadDimensions(f"the image declares a size of {width}x{height} pixels")
    if max(width, height) > limits.max_side:
        raise BadDimensions(
            f"the image declares {width}x{height} pixels; a side over "
            f"{limits.max_side} px is not a real image"
        )
    if width * height > limits.max_pixels:
        raise ImageTooLarge(
            f"the image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{limits.max_pixels} pixels"
        )
    return image


def load(image: Image.Image) -> Image.Image:
    """Decodes the pixels of frame 0 (after any `draft`); raises the typed errors."""
    with _decoding(f"{image.format} image"):
        image.load()
    return image
