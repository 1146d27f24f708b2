"""`imagehash-4` and `phash-c` reproduce their reference implementations bit for bit.

The golden values come from ImageHash 4.3.2 and the pHash C library run on the same files
(shared/golden); every format and mode of the corpus is covered here. The whole corpus is
checked by scripts/tools/check_golden.py.
"""

from __future__ import annotations

import pytest
from neardup.index import hash_image

from ...conftest import golden_rows, read_image

ROWS = golden_rows()


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_imagehash_4_equals_imagehash_4_3_2(row: dict[str, str]) -> None:
    assert (
        hash_image(read_image(row["file"]), "imagehash-4").fingerprint.hex == row["imagehash_phash"]
    )


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_phash_c_equals_the_c_library(row: dict[str, str]) -> None:
    assert hash_image(read_image(row["file"]), "phash-c").fingerprint.hex == row["phash_c"]


def test_fixtures_cover_every_format_and_mode_of_the_corpus() -> None:
    seen = {(r["file"].rsplit(".", 1)[1], r["mode"]) for r in ROWS}
    for kind in [
        ("jpg", "RGB"),
        ("jpg", "CMYK"),
        ("jpg", "L"),
        ("png", "RGBA"),
        ("png", "P"),
        ("png", "L"),
        ("png", "RGB"),
        ("gif", "P"),
        ("webp", "RGB"),
        ("tif", "RGB"),
        ("bmp", "RGB"),
    ]:
        assert kind in seen


def test_a_mirror_symmetric_image_keeps_imagehash_s_exact_zero_ties() -> None:
    # Its 32x32 gray image is exactly left-right symmetric: odd horizontal frequencies are
    # exactly 0, and so is the median. A matrix-product DCT would flip those bits.
    assert hash_image(read_image("debian__joy__jpeg30.jpg"), "imagehash-4").fingerprint.hex == (
        "802022a008202228"
    )


def test_phash_c_always_leaves_bit_0_clear() -> None:
    for row in ROWS:
        assert hash_image(read_image(row["file"]), "phash-c").fingerprint.value & 1 == 0
