"""Every RPC end to end against a real server on 127.0.0.1, and every kind of bad input:
each gets its precise status code, the field at fault, and the server goes on serving."""

from __future__ import annotations

import grpc
import pytest
from neardup.index import hash_image
from neardup.service.client import Client, NeardupRpcError, add_request, search_request
from neardup.v1 import neardup_pb2 as pb
from neardup.v1 import neardup_pb2_grpc as pb_grpc

from ..conftest import read_image
from ..index.fingerprint.test_decode import png_claiming
from .conftest import RunningServer

GARDEN = read_image("mate__Garden.jpg")
MIRROR = read_image("mate__Garden__mirror.jpg")
CROP = read_image("mate__Garden__crop05.jpg")
HORSE = read_image("skimage__horse.png")

Code = grpc.StatusCode


def refused(call: object, *args: object, **kwargs: object) -> NeardupRpcError:
    with pytest.raises(NeardupRpcError) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


def test_hash_returns_the_engine_s_hash_and_the_header(client: Client) -> None:
    response = client.hash(GARDEN, orientations=True)
    assert response.hash.hex == hash_image(GARDEN).fingerprint.hex
    assert response.hash.algorithm == "phash"
    assert len(response.orientation_hashes) == 8
    assert (response.width, response.height, response.format) == (1600, 1000, "JPEG")


def _png(image: object) -> bytes:
    import io

    out = io.BytesIO()
    image.save(out, "PNG")  # type: ignore[attr-defined]
    return out.getvalue()


def test_every_hash_carries_its_quality_and_a_blank_upload_is_told_why_it_matched_exactly(
    client: Client,
) -> None:
    from PIL import Image

    blank = _png(Image.new("RGB", (300, 200), "#208040"))
    assert client.hash(blank).quality == 0 and client.hash(GARDEN).quality >= 80
    client.call("CreateCollection", pb.CreateCollectionRequest(name="q", min_quality=20))
    assert client.stats("q").collection.min_quality == 20
    photo = client.add(GARDEN, id="photo", collection="q")
    assert photo.image.quality >= 80 and photo.quality_note == ""
    added = client.add(blank, id="blank", collection="q")
    assert added.image.quality == 0 and "below the collection's min_quality 20" in (
        added.quality_note
    )
    assert client.get("blank", collection="q").quality == 0
    found = client.search(CROP, collection="q")
    assert [(m.id, m.quality >= 80) for m in found.matches] == [("photo", True)]
    assert found.query_quality >= 80 and found.quality_note == ""
    exact_only = client.search(blank, collection="q", k=5)
    assert [m.id for m in exact_only.matches] == ["blank"]
    assert "only exact hash matches" in exact_only.quality_note
    bare = client.add(id="bare", hash=photo.image.hash.hex, collection="q", quality=3)
    assert bare.image.quality == 3 and bare.quality_note


def test_compare_finds_the_mirror_through_orientations(client: Client) -> None:
    plain = client.call(
        "Compare",
        pb.CompareRequest(a=pb.CompareOperand(image=GARDEN), b=pb.CompareOperand(image=MIRROR)),
    )
    oriented = client.call(
        "Compare",
        pb.CompareRequest(
            a=pb.CompareOperand(image=GARDEN), b=pb.CompareOperand(image=MIRROR), orientations=True
        ),
    )
    assert plain.distance > 20
    assert oriented.distance <= 4 and oriented.orientation == pb.ORIENTATION_MIRROR
    assert oriented.similarity == 1 - oriented.distance / 64


def test_add_stores_and_reports_near_duplicates_then_search_finds_them(client: Client) -> None:
    client.call("CreateCollection", pb.CreateCollectionRequest(name="garden"))
    first = client.add(GARDEN, id="garden.jpg", collection="garden", metadata={"k": "v"})
    assert first.outcome == pb.ADD_OUTCOME_ADDED and not first.duplicates
    second = client.add(CROP, id="crop.jpg", collection="garden")
    assert [d.id for d in second.duplicates] == ["garden.jpg"]
    rejected = client.add(GARDEN, id="again.jpg", collection="garden", reject_duplicates=True)
    assert rejected.outcome == pb.ADD_OUTCOME_REJECTED_DUPLICATE
    result = client.search(GARDEN, collection="garden", include_metadata=True)
    assert [m.id for m in result.matches] == ["garden.jpg", "crop.jpg"]
    assert result.matches[0].metadata == {"k": "v"}
    assert result.path == pb.SEARCH_PATH_EXACT
    by_id = client.search(id="garden.jpg", collection="garden", exclude_self=True)
    assert [m.id for m in by_id.matches] == ["crop.jpg"]
    by_hash = client.search(hash=first.image.hash.hex, collection="garden", k=1)
    assert [m.id for m in by_hash.matches] == ["garden.jpg"]


def test_get_list_delete_and_stats(client: Client) -> None:
    client.call("CreateCollection", pb.CreateCollectionRequest(name="paging"))
    for i in range(7):
        client.add(hash=f"{i:016x}", id=f"p{i}", collection="paging")
    assert client.get("p3", collection="paging").hash.hex == f"{3:016x}"
    seen, token = [], ""
    while True:
        page = client.call(
            "List", pb.ListRequest(collection="paging", page_size=3, page_token=token)
        )
        seen += [i.id for i in page.images]
        if not (token := page.next_page_token):
            break
    assert seen == [f"p{i}" for i in range(7)]
    deleted = client.delete(["p1", "p2", "ghost"], collection="paging")
    assert (deleted.deleted, list(deleted.not_found)) == (2, ["ghost"])
    stats = client.stats("paging")
    assert stats.collection.image_count == 5 and stats.code_count == 5
    # five codes: no graph or tables are kept, and stats says why every search scans
    assert stats.index_kind == "flat codes; with crop hashes, 5 codes: flat codes"
    assert "below exact_threshold 250,000" in stats.search_paths_note
    snapshot = client.call("Snapshot", pb.SnapshotRequest(collection="paging"))
    assert snapshot.snapshots[0].collection == "paging" and snapshot.snapshots[0].bytes > 0
    compacted = client.call("Compact", pb.CompactRequest(collection="paging"))
    # both of the collection's indexes: its images' own hashes, and every code (crop hashes
    # included, none for hashes added bare)
    assert (compacted.slots_before, compacted.slots_after) == (2 * 7, 2 * 5)


def test_collections_are_listed_and_dropped(client: Client) -> None:
    client.call(
        "CreateCollection",
        pb.CreateCollectionRequest(name="temp", algorithm="phash-c", default_radius=4),
    )
    names = [
        c.name for c in client.call("ListCollections", pb.ListCollectionsRequest()).collections
    ]
    assert "temp" in names and "default" in names
    client.add(GARDEN, id="g", collection="temp")
    assert client.call("DropCollection", pb.DropCollectionRequest(name="temp")).images_removed == 1


def test_search_batch_answers_each_query_on_its_own(client: Client) -> None:
    client.add(HORSE, id="horse.png", replace=True)
    batch = client.call(
        "SearchBatch",
        pb.SearchBatchRequest(
            queries=[
                search_request(HORSE, k=1),
                search_request(b"not an image", k=1),
                search_request(id="nobody", k=1),
            ]
        ),
    )
    good, bad_image, unknown = batch.results
    assert [m.id for m in good.response.matches] == ["horse.png"]
    assert bad_image.error.code == Code.INVALID_ARGUMENT.value[0]
    assert bad_image.error.field == "image"
    assert unknown.error.code == Code.NOT_FOUND.value[0]


def test_add_stream_answers_in_order_and_a_bad_item_fails_alone(client: Client) -> None:
    client.call("CreateCollection", pb.CreateCollectionRequest(name="stream"))
    requests = [add_request(hash=f"{i:016x}", id=f"s{i}", collection="stream") for i in range(50)]
    requests[10] = add_request(b"\x89PNG\r\n\x1a\nbroken", id="bad", collection="stream")
    requests[20] = add_request(hash="xyz", id="badhash", collection="stream")
    responses = list(client.add_stream(requests))
    assert [r.index for r in responses] == list(range(50))
    assert [r.id for r in responses] == [r.id for r in requests]
    assert responses[10].error.field == "image" and "PNG" in responses[10].error.message
    assert responses[20].error.field == "hash.hex"
    assert sum(r.HasField("added") for r in responses) == 48
    assert client.stats("stream").collection.image_count == 48


def test_streams_the_client_breaks_off_leave_the_server_writing(server: RunningServer) -> None:
    """Cancelled items still queued for the writer are dropped, never left to stop it."""
    channel = grpc.insecure_channel(server.target)
    stub = pb_grpc.NeardupStub(channel)
    with Client(server.target, timeout=20) as client:
        client.call("CreateCollection", pb.CreateCollectionRequest(name="broken-off"))
        for round_ in range(5):
            requests = (
                add_request(
                    hash=f"{round_:04x}{i:012x}", id=f"r{round_}/{i}", collection="broken-off"
                )
                for i in range(5000)
            )
            call = stub.AddStream(requests)
            for answered, _ in enumerate(call):
                if answered == 100:
                    call.cancel()
                    break
        added = client.add(hash="ffffffffffffffff", id="after", collection="broken-off")
        assert added.image.id == "after"
        stored = client.stats("broken-off").collection.image_count
    channel.close()
    assert 5 * 100 < stored <= 5 * 5000 + 1


def test_adds_past_their_deadline_leave_the_server_writing(server: RunningServer) -> None:
    """Adds whose deadline expires while they wait for the writer are dropped or completed,
    never left to stop it; the server answers the next add."""
    channel = grpc.insecure_channel(server.target)
    stub = pb_grpc.NeardupStub(channel)
    with Client(server.target, timeout=20) as client:
        client.call("CreateCollection", pb.CreateCollectionRequest(name="deadlines"))
        calls = [
            stub.Add.future(
                add_request(hash=f"{i:016x}", id=f"d{i}", collection="deadlines"), timeout=0.002
            )
            for i in range(300)
        ]
        codes = {call.code() for call in calls}
        assert codes <= {Code.OK, Code.DEADLINE_EXCEEDED, Code.CANCELLED}
        assert Code.DEADLINE_EXCEEDED in codes
        added = client.add(hash="ffffffffffffffff", id="after", collection="deadlines")
        assert added.image.id == "after"
        stored, token = set(), ""
        while True:
            page = client.call(
                "List", pb.ListRequest(collection="deadlines", page_size=1000, page_token=token)
            )
            stored |= {image.id for image in page.images}
            if not (token := page.next_page_token):
                break
        acknowledged = {f"d{i}" for i, call in enumerate(calls) if call.code() == Code.OK}
        # An add answered OK is stored; one that missed its deadline may have been written
        # or dropped, but nothing else appears.
        assert acknowledged | {"after"} <= stored <= {f"d{i}" for i in range(300)} | {"after"}
    channel.close()


BAD_IMAGES = {
    "empty": (b"", "empty"),
    "truncated": (GARDEN[: len(GARDEN) // 2], "ends early"),
    "corrupt": (HORSE[:200] + bytes(300) + HORSE[500:], "broken"),
    "unsupported": (b"%PDF-1.7 not an image", "not an image in a supported format"),
}


@pytest.mark.parametrize("kind", sorted(BAD_IMAGES))
def test_a_bad_image_is_invalid_argument_on_the_image_field(client: Client, kind: str) -> None:
    data, message = BAD_IMAGES[kind]
    error = refused(client.add, data, id=f"bad-{kind}")
    assert error.code == Code.INVALID_ARGUMENT and error.field == "image"
    assert message in error.message
    assert client.hash(GARDEN).hash.hex  # and the server goes on serving


def test_a_decompression_bomb_is_resource_exhausted(client: Client) -> None:
    error = refused(client.hash, png_claiming(50_000, 50_000))
    assert error.code == Code.RESOURCE_EXHAUSTED and "pixels" in error.message
    assert client.hash(GARDEN).hash.hex


def test_an_oversized_message_is_refused_and_the_server_goes_on(client: Client) -> None:
    error = refused(client.hash, bytes(5 * 1024 * 1024))
    assert error.code == Code.RESOURCE_EXHAUSTED
    assert client.hash(GARDEN).hash.hex


@pytest.mark.parametrize(
    ("call", "code", "field"),
    [
        (lambda c: c.search(GARDEN, collection="nope"), Code.NOT_FOUND, "collection"),
        (lambda c: c.get("nobody"), Code.NOT_FOUND, "id"),
        (lambda c: c.search(GARDEN, k=1001), Code.INVALID_ARGUMENT, "k"),
        (lambda c: c.search(GARDEN, max_distance=65), Code.INVALID_ARGUMENT, "max_distance"),
        (lambda c: c.search(hash="12", k=1), Code.INVALID_ARGUMENT, "hash.hex"),
        (
            lambda c: c.search(hash="00000000000000ff", orientations=True),
            Code.INVALID_ARGUMENT,
            "orientations",
        ),
        (lambda c: c.add(GARDEN, id=""), Code.INVALID_ARGUMENT, "id"),
        (lambda c: c.hash(GARDEN, algorithm="md5"), Code.INVALID_ARGUMENT, "image"),
        (
            lambda c: c.call("List", pb.ListRequest(page_token="%%%")),
            Code.INVALID_ARGUMENT,
            "page_token",
        ),
        (
            lambda c: c.call("DropCollection", pb.DropCollectionRequest(name="default")),
            Code.INVALID_ARGUMENT,
            "name",
        ),
        (
            lambda c: c.call("CreateCollection", pb.CreateCollectionRequest(name="default")),
            Code.ALREADY_EXISTS,
            "name",
        ),
        (
            lambda c: c.call("Compare", pb.CompareRequest(a=pb.CompareOperand(image=GARDEN))),
            Code.INVALID_ARGUMENT,
            "b",
        ),
        (
            lambda c: c.call("SearchBatch", pb.SearchBatchRequest()),
            Code.INVALID_ARGUMENT,
            "queries",
        ),
    ],
)
def test_bad_requests_get_their_precise_code_and_field(
    client: Client, call: object, code: grpc.StatusCode, field: str
) -> None:
    error = refused(call, client)
    assert (error.code, error.field) == (code, field)
    assert client.hash(GARDEN).hash.hex


def test_a_hash_of_another_algorithm_is_failed_precondition(client: Client) -> None:
    request = pb.SearchRequest(k=1)
    request.hash.hex, request.hash.algorithm = "00000000000000ff", "phash-c"
    error = refused(client.call, "Search", request)
    assert error.code == Code.FAILED_PRECONDITION and error.field == "hash.algorithm"


def test_an_existing_id_is_already_exists_unless_replaced(client: Client) -> None:
    client.add(hash="00000000000000aa", id="twice")
    error = refused(client.add, hash="00000000000000bb", id="twice")
    assert error.code == Code.ALREADY_EXISTS
    assert client.add(hash="00000000000000bb", id="twice", replace=True).outcome == (
        pb.ADD_OUTCOME_REPLACED
    )


def test_an_expired_deadline_is_deadline_exceeded(server: RunningServer) -> None:
    with grpc.insecure_channel(server.target) as channel:
        stub = pb_grpc.NeardupStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.Hash(pb.HashRequest(image=GARDEN), timeout=0.0001)
        assert caught.value.code() == Code.DEADLINE_EXCEEDED  # type: ignore[attr-defined]
        assert stub.Hash(pb.HashRequest(image=GARDEN), timeout=30).hash.hex


def test_a_collection_of_the_compact_tables_kind_is_made_reported_and_searched(
    client: Client,
) -> None:
    request = pb.CreateCollectionRequest(name="compact", index=pb.IndexParams(kind="tables"))
    assert client.call("CreateCollection", request).index.kind == "tables"
    stats = client.stats("compact")
    assert stats.collection.index.kind == "tables"
    assert stats.index_kind == "flat codes; with crop hashes, 0 codes: flat codes"
    assert "the tables kind keeps no graph" in stats.search_paths_note
    assert stats.default_top_k_path == pb.SEARCH_PATH_EXACT
    client.add(GARDEN, id="garden", collection="compact")
    found = client.search(MIRROR, collection="compact", orientations=True)
    assert [m.id for m in found.matches] == ["garden"]
    assert found.path == pb.SEARCH_PATH_EXACT
    unknown = pb.CreateCollectionRequest(name="other", index=pb.IndexParams(kind="graph"))
    error = refused(client.call, "CreateCollection", unknown)
    assert error.code is Code.INVALID_ARGUMENT and "index.kind must be one of" in error.message
    assert error.field == "index.kind"


def test_the_servicer_overrides_every_method_of_the_generated_base() -> None:
    from neardup.service.servicer import NeardupServicer
    from neardup.v1 import neardup_pb2, neardup_pb2_grpc

    methods = neardup_pb2.DESCRIPTOR.services_by_name["Neardup"].methods_by_name
    assert issubclass(NeardupServicer, neardup_pb2_grpc.NeardupServicer)
    inherited = [
        name
        for name in methods
        if getattr(NeardupServicer, name) is getattr(neardup_pb2_grpc.NeardupServicer, name)
    ]
    assert inherited == []


def test_a_mirrored_or_rotated_upload_is_caught_on_add_and_says_which_orientation(
    client: Client,
) -> None:
    client.create_collection("turned")
    client.add(GARDEN, id="garden", collection="turned")
    added = client.add(MIRROR, id="mirror", collection="turned", reject_duplicates=True)
    assert added.outcome == pb.ADD_OUTCOME_REJECTED_DUPLICATE
    [duplicate] = added.duplicates
    assert (duplicate.id, duplicate.orientation) == ("garden", pb.ORIENTATION_MIRROR)
    client.create_collection("upright", orientations=False)  # the setting off: as before
    client.add(GARDEN, id="garden", collection="upright")
    assert not client.add(MIRROR, id="mirror", collection="upright").duplicates
    stats = client.stats("turned").collection
    assert stats.orientations and not client.stats("upright").collection.orientations
