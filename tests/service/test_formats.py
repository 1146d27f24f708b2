"""HEIC and AVIF uploads through a real server: hashed, added, and found by a search with
the same picture as a JPEG (files made at test time from a fixture photo: AVIF by Pillow,
HEIC by pillow-heif, a test dependency only)."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from neardup.service.client import Client
from PIL import Image

from ..conftest import IMAGES


def saved(fmt: str) -> bytes:
    picture = Image.open(IMAGES / "mate__LadyBird.jpg").convert("RGB")
    out = io.BytesIO()
    if fmt == "HEIF":
        pillow_heif.from_pillow(picture).save(out, quality=80)
    else:
        picture.save(out, fmt, quality=80)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["AVIF", "HEIF"])
def test_a_heic_or_avif_upload_is_added_and_found_by_the_same_picture_as_jpeg(
    client: Client, fmt: str
) -> None:
    collection = f"formats-{fmt.lower()}"
    client.create_collection(collection)
    upload = saved(fmt)
    assert client.hash(upload).hash.hex  # hashed alone
    added = client.add(upload, id=f"ladybird.{fmt.lower()}", collection=collection)
    assert added.image.id == f"ladybird.{fmt.lower()}"
    found = client.search(saved("JPEG"), collection=collection, k=1)
    assert [m.id for m in found.matches] == [f"ladybird.{fmt.lower()}"]
    assert found.matches[0].distance <= 4
