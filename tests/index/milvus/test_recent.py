"""This engine's recent writes, kept until Milvus shows them: a view holds the writes newer
than its read point, says which ids it overrides (a write or a delete), and finds its
images near a query in one pass."""

from __future__ import annotations

from neardup.index import Fingerprint
from neardup.index.milvus.recent import RecentWrites
from neardup.index.records import StoredImage


def image(image_id: str, code: int) -> StoredImage:
    return StoredImage("c", image_id, Fingerprint(code, "phash"), {}, 0, 0)


def test_a_view_keeps_only_writes_newer_than_its_read_point() -> None:
    recent = RecentWrites()
    recent.record("c", 10, [image("old", 0)])
    recent.record("c", 20, [image("new", 0)], deleted=["gone"])
    view = recent.view("c", 15)
    assert set(view.latest) == {"new", "gone"}
    assert view.latest["gone"] is None
    assert not view.overrides("old")
    assert set(recent.view("c", 15).latest) == {"new", "gone"}  # forgotten for good
    assert recent.view("c", 20).latest == {}


def test_a_later_write_of_an_id_replaces_the_earlier_one_in_the_view() -> None:
    recent = RecentWrites()
    recent.record("c", 10, [image("a", 0b1)])
    recent.record("c", 11, deleted=["a"])
    assert recent.view("c", 0).latest == {"a": None}
    recent.record("c", 12, [image("a", 0b11)])
    again = recent.view("c", 0).latest["a"]
    assert again is not None and again.fingerprint.value == 0b11


def test_near_finds_kept_images_within_the_radius_at_their_nearest_code() -> None:
    recent = RecentWrites()
    recent.record("c", 10, [image("near", 0b111), image("far", 0xFFFF)], deleted=["x"])
    view = recent.view("c", 0)
    found = view.near([0xFFFF_0000, 0b1], radius=2)
    assert [(i.id, distance, which) for i, distance, which in found] == [("near", 2, 1)]
    everything = {i.id: d for i, d, _ in view.near([0], radius=None)}
    assert everything == {"near": 3, "far": 16}


def test_collections_are_kept_apart_and_forgotten_when_dropped() -> None:
    recent = RecentWrites()
    recent.record("c", 10, [image("a", 0)])
    recent.record("d", 10, [image("b", 0)])
    recent.forget("c")
    assert recent.view("c", 0).latest == {}
    assert set(recent.view("d", 0).latest) == {"b"}
