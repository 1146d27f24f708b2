"""A small preview of an image, made through the one decoder (`decode.open_image`): what a
collection that keeps thumbnails stores beside each image, and what the report shows.

The picture is turned upright (EXIF orientation), put on white where it is transparent,
fitted into a `THUMBNAIL_SIDE` square and saved as a JPEG; a JPEG source is decoded at a
reduced scale (draft), so a preview of a 24 MP photo costs a fraction of hashing it
(scripts/bench/thumbnails.py); a preview is a few KB (`bounds.MAX_THUMBNAIL_BYTES`).
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from .decode import DEFAULT_LIMITS, DecodeLimits, load, open_image

__all__ = ["THUMBNAIL_SIDE", "make_thumbnail"]

THUMBNAIL_SIDE = 112


def make_thumbnail(data: bytes, limits: DecodeLimits = DEFAULT_LIMITS) -> bytes:
    """The JPEG preview of encoded image bytes; raises the decoder's typed errors."""
    with open_image(data, limits) as opened:
        opened.draft("RGB", (THUMBNAIL_SIDE * 2, THUMBNAIL_SIDE * 2))
        load(opened)
        picture = ImageOps.exif_transpose(opened)
        picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        if picture.mode in ("RGBA", "LA", "P", "PA") or picture.has_transparency_data:
            picture = picture.convert("RGBA")
            backdrop = Image.new("RGB", picture.size, "white")
            backdrop.paste(picture, mask=picture.getchannel("A"))
            picture = backdrop
        out = io.BytesIO()
        picture.convert("RGB").save(out, "JPEG", quality=75)
    return out.getvalue()
