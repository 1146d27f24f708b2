"""Content digests over the contract, on a real server: Hash returns the SHA-256 of the
image's bytes, Get returns what an image was stored with, a duplicate that is the same file
says `identical`, a different blank picture with the same noise hash is nobody's duplicate,
an add by hash passes its digest on, and a malformed one is refused on its field."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from grpc import StatusCode as Code
from neardup.service.client import Client, NeardupRpcError
from neardup.v1 import neardup_pb2 as pb
from PIL import Image

COLLECTION = "digests"


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def digests_client(client: Client) -> Iterator[Client]:
    client.create_collection(COLLECTION)
    yield client


def test_hash_and_get_carry_the_sha256_of_the_file(digests_client: Client) -> None:
    data = png((90, 90), (255, 255, 255))
    assert digests_client.hash(data).digest == hashlib.sha256(data).hexdigest()
    digests_client.add(data, id="white", collection=COLLECTION)
    assert (
        digests_client.get("white", collection=COLLECTION).digest
        == hashlib.sha256(data).hexdigest()
    )


def test_the_same_blank_file_is_identical_and_another_blank_picture_no_duplicate(
    digests_client: Client,
) -> None:
    first, other = png((80, 60), (0, 0, 0)), png((60, 80), (0, 0, 0))
    assert digests_client.hash(first).hash.hex == digests_client.hash(other).hash.hex
    assert not digests_client.add(first, id="black", collection=COLLECTION).duplicates
    again = digests_client.add(first, id="black-again", collection=COLLECTION).duplicates
    assert [(d.id, d.distance, d.identical) for d in again] == [("black", 0, True)]
    assert not digests_client.add(other, id="black-other", collection=COLLECTION).duplicates


def test_an_add_by_hash_passes_its_digest_on_and_a_bad_one_is_refused(
    digests_client: Client,
) -> None:
    data = png((50, 70), (10, 200, 10))
    hashed = digests_client.hash(data)
    digests_client.add(id="green", collection=COLLECTION, image=data)
    added = digests_client.add(
        id="green-by-hash",
        collection=COLLECTION,
        hash=hashed.hash.hex,
        quality=hashed.quality,
        digest=hashed.digest,
    )
    assert [(d.id, d.identical) for d in added.duplicates] == [("green", True)]
    with pytest.raises(NeardupRpcError) as caught:
        digests_client.add(
            id="bad", collection=COLLECTION, hash=hashed.hash.hex, digest="not a digest"
        )
    assert (caught.value.code, caught.value.field) == (Code.INVALID_ARGUMENT, "digest")
    with pytest.raises(NeardupRpcError) as caught:
        digests_client.call(
            "Search",
            pb.SearchRequest(collection=COLLECTION, hash=hashed.hash, digest="ab" * 3),
        )
    assert caught.value.field == "digest"
