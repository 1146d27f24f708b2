"""Crop hashes over the contract, on a real server: a `crop_hashes` collection hashes each
added and searched image's centre crops itself, so a cropped upload finds its original and an
original its stored crop (each image once, `via_crop` set); Get, List and Hash carry the crop
hashes, an add by hash passes them on, and bad ones are refused saying which."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from grpc import StatusCode as Code
from neardup.index.fingerprint.crops import CROP_KEEPS, centre_box
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb
from PIL import Image

from ..conftest import read_image

COLLECTION = "crops"


def jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    with Image.open(io.BytesIO(read_image("mate__LadyBird.jpg"))) as image:
        return image.convert("RGB").resize((640, 400), Image.Resampling.LANCZOS)


def crop_of(photo: Image.Image, keep: float) -> bytes:
    return jpeg(photo.crop(centre_box(photo.width, photo.height, keep)))


@pytest.fixture(scope="module")
def crops_client(client: Client) -> Iterator[Client]:
    client.call("CreateCollection", pb.CreateCollectionRequest(name=COLLECTION, crop_hashes=True))
    yield client


def refused(call: object, *args: object, **kwargs: object) -> NeardupRpcError:
    with pytest.raises(NeardupRpcError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_a_cropped_upload_finds_its_original_once(crops_client: Client, photo: Image.Image) -> None:
    crops_client.add(jpeg(photo), id="original", collection=COLLECTION)
    crop = crop_of(photo, 0.85)
    found = crops_client.search(crop, collection=COLLECTION, max_distance=10)
    assert [(m.id, m.via_crop) for m in found.matches] == [("original", True)]
    plain = crops_client.search(crop, max_distance=10)  # the default collection: no crops
    assert plain.matches == [] or plain.matches[0].id != "original"
    stored = crops_client.get("original", collection=COLLECTION)
    assert len(stored.crop_hashes) == len(CROP_KEEPS)
    stats = crops_client.stats(COLLECTION)
    assert stats.collection.crop_hashes
    assert (stats.collection.image_count, stats.code_count) == (1, 1 + len(CROP_KEEPS))


def test_an_original_finds_its_stored_crop(crops_client: Client, photo: Image.Image) -> None:
    turned = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    crops_client.add(crop_of(turned, 0.8), id="stored-crop", collection=COLLECTION)
    found = crops_client.search(jpeg(turned), collection=COLLECTION, max_distance=10)
    assert ("stored-crop", True) in [(m.id, m.via_crop) for m in found.matches]


def test_hash_returns_the_crop_hashes_an_add_by_hash_passes_on(
    crops_client: Client, photo: Image.Image
) -> None:
    hashed = crops_client.hash(jpeg(photo.rotate(180)), crops=True)
    assert len(hashed.crop_hashes) == len(CROP_KEEPS)
    request = pb.AddRequest(
        collection=COLLECTION, id="by-hash", hash=hashed.hash, quality=hashed.quality
    )
    request.crop_hashes.extend(hashed.crop_hashes)
    crops_client.call("Add", request)
    assert list(crops_client.get("by-hash", collection=COLLECTION).crop_hashes) == list(
        hashed.crop_hashes
    )
    assert crops_client.hash(jpeg(photo)).crop_hashes == []


def test_bad_crop_hashes_are_refused_on_their_field(crops_client: Client) -> None:
    request = pb.AddRequest(collection=COLLECTION, id="bad", hash=pb.Fingerprint(hex="00" * 8))
    request.crop_hashes.add(hex="not hex")
    error = refused(crops_client.call, "Add", request)
    assert (error.code, error.field) == (Code.INVALID_ARGUMENT, "crop_hashes")
    request = pb.AddRequest(collection=COLLECTION, id="bad", hash=pb.Fingerprint(hex="00" * 8))
    request.crop_hashes.add(hex="00" * 8, algorithm="imagehash-4")
    error = refused(crops_client.call, "Add", request)
    assert error.code == Code.FAILED_PRECONDITION and "crops is a 'imagehash-4' hash" in str(error)
    exact = pb.CreateCollectionRequest(name="exact-crops", algorithm="phash-c", crop_hashes=True)
    error = refused(crops_client.call, "CreateCollection", exact)
    assert (error.code, error.field) == (Code.INVALID_ARGUMENT, "crop_hashes")
    error = refused(crops_client.hash, read_image("mate__Garden.jpg"), "imagehash-4", crops=True)
    assert (error.code, error.field) == (Code.INVALID_ARGUMENT, "algorithm")
