"""Duplicate groups from exact radius edges: centred groups (the default), components,
strict groups, the best copy as representative, orientations."""

from __future__ import annotations

from collections.abc import Sequence

from neardup.service.cli.groups import Near, ReportImage, duplicate_groups


def exact_near(codes: Sequence[int], radius: int) -> Near:
    """The exact radius search a collection of these codes answers (a brute-force scan)."""

    def near(batch: Sequence[int]) -> list[list[tuple[int, int]]]:
        return [
            sorted(
                ((c, (c ^ q).bit_count()) for c in set(codes) if (c ^ q).bit_count() <= radius),
                key=lambda cd: (cd[1], cd[0]),
            )
            for q in batch
        ]

    return near


def image(image_id: str, code: int, width: int = 0, height: int = 0, **meta: str) -> ReportImage:
    sizes = {"width": str(width), "height": str(height)} if width else {}
    return ReportImage(image_id, code, sizes | meta)


# a - b: 3 bits, b - c: 3 bits, a - c: 6 bits; far: 40 bits from all of them
A, B, C, FAR = 0, 0b111, 0b111111, (1 << 40) - 1
CHAIN = [image("a", A), image("b", B), image("c", C), image("far", FAR)]


def test_connected_components_join_a_chain_of_near_images() -> None:
    [group] = duplicate_groups(CHAIN, exact_near([A, B, C, FAR], 4), "components")
    assert sorted(group.ids) == ["a", "b", "c"]


def test_a_centred_group_does_not_chain_every_member_is_within_the_radius_of_its_best_copy() -> (
    None
):
    chain = [image("a", A, 100, 100), image("b", B, 4000, 3000), image("c", C, 100, 100)]
    groups = duplicate_groups(chain, exact_near([A, B, C], 4))  # the default: centred
    [group] = groups
    assert group.representative.id == "b" and sorted(group.ids) == ["a", "b", "c"]
    # the best copy at the chain's end: the far end stays out of its group
    chain = [image("a", A, 4000, 3000), image("b", B, 100, 100), image("c", C, 100, 100)]
    groups = duplicate_groups(chain, exact_near([A, B, C], 4))
    assert [sorted(g.ids) for g in groups] == [["a", "b"]]
    for group in groups:
        assert all(d <= 4 for d in group.distances.values())


def test_strict_groups_hold_only_pairs_within_the_radius() -> None:
    groups = duplicate_groups(CHAIN, exact_near([A, B, C, FAR], 4), "strict")
    for group in groups:
        for x in group.images:
            for y in group.images:
                assert (x.code ^ y.code).bit_count() <= 4
    assert sorted(sorted(g.ids) for g in groups) == [["a", "b"]] or sorted(
        sorted(g.ids) for g in groups
    ) == [["b", "c"]]


def test_images_of_one_hash_are_one_group_at_distance_zero() -> None:
    images = [image("x1", 42), image("x2", 42), image("lonely", 0xFFFF_FFFF_0000_0000)]
    [group] = duplicate_groups(images, exact_near([42, 0xFFFF_FFFF_0000_0000], 10))
    assert sorted(group.ids) == ["x1", "x2"]
    assert group.distances == {"x1": 0, "x2": 0}


def test_the_representative_has_the_most_pixels_and_distances_are_from_it() -> None:
    images = [image("small", A, 100, 100), image("big", B, 4000, 3000), image("mid", C, 800, 600)]
    [group] = duplicate_groups(images, exact_near([A, B, C], 4), "components")
    assert group.representative.id == "big"
    assert group.distances == {"big": 0, "small": 3, "mid": 3}


def test_the_best_copy_is_the_largest_picture_once_trimmed_then_the_least_compressed() -> None:
    original = image("original", A, 1000, 800, bytes="300000")
    bordered = image(  # more pixels, but a frame around a smaller picture
        "bordered", A, 1100, 880, bytes="310000", picture_width="990", picture_height="790"
    )
    recompressed = image("jpeg30", A, 1000, 800, bytes="60000")
    [group] = duplicate_groups([bordered, recompressed, original], exact_near([A], 0))
    assert group.ids == ["original", "jpeg30", "bordered"]  # 800,000 > 782,100 pixels


def test_groups_come_largest_first_and_singletons_are_not_groups() -> None:
    images = [image("p1", 0xFFFF_0000_FFFF_0000), image("p2", 0xFFFF_0000_FFFF_0000), *CHAIN]
    codes = [0xFFFF_0000_FFFF_0000, A, B, C, FAR]
    groups = duplicate_groups(images, exact_near(codes, 4), "components")
    assert [len(g.images) for g in groups] == [3, 2]


def test_images_below_the_quality_floor_join_no_group_not_even_at_distance_0() -> None:
    images = [
        image("a", A),
        ReportImage("blank", B, {}, 2),
        ReportImage("blank-twin", B, {}, 2),
        ReportImage("unknown", C, {}, None),
        image("far", FAR),
    ]
    [group] = duplicate_groups(images, exact_near([A, B, C, FAR], 6), min_quality=5)
    assert sorted(group.ids) == ["a", "unknown"]  # an unknown quality counts as full
    assert len(duplicate_groups(images, exact_near([A, B, C, FAR], 6))[0].ids) == 4


def test_below_the_quality_floor_only_copies_of_one_file_group_together() -> None:
    same_file, other_file = b"\1" * 32, b"\2" * 32
    images = [
        ReportImage("blank", B, {}, 2, digest=same_file),
        ReportImage("blank-copy", B, {}, 2, digest=same_file),
        ReportImage("other-blank", B, {}, 2, digest=other_file),
        ReportImage("blank-unknown", B, {}, 2),
        image("a", A),
    ]
    [group] = duplicate_groups(images, exact_near([A, B], 6), min_quality=5)
    assert sorted(group.ids) == ["blank", "blank-copy"]
    assert set(group.distances.values()) == {0}


def test_a_mirrored_copy_joins_its_original_through_its_predicted_orientation_hashes() -> None:
    import numpy as np
    from neardup.index.fingerprint import Orientation
    from neardup.index.fingerprint.orientations import orient_hashes
    from neardup.service.cli.report import with_orientations

    photo = 0x9A5C_33F0_0F1E_C369
    mirrored = int(orient_hashes(np.array([photo], dtype=np.uint64), Orientation.MIRROR)[0])
    images = [image("photo", photo, 1600, 1200), image("mirror", mirrored ^ 0b11, 800, 600)]
    near = exact_near([photo, mirrored ^ 0b11], 10)
    assert duplicate_groups(images, near) == []  # far apart as they are stored
    [group] = duplicate_groups(with_orientations(images), near)
    assert sorted(group.ids) == ["mirror", "photo"] and group.distances["mirror"] == 2
