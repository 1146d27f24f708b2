"""Centre crops: the views of an image a `crop_hashes` collection also indexes.

A crop of 10-20% moves a DCT hash 20-30 bits (every coefficient sees the picture shift and
grow), far past any useful radius. Hashing a few centre crops of each image gives its crops
their own codes: a cropped upload lands near one of its original's crop hashes, and an
original's crop hashes near a stored crop. Which crops: measured by scripts/bench/crops.py
(crop15 recall at r=10 against false pairs and codes per image): 90% and 80% of each side
(3 codes an image) find crops of 5-20% as well as four crops did, and bracket a 15% crop
rather than sit on it, so other crop amounts are found too.

A crop is taken of the picture a hash sees (after EXIF orientation, alpha and the border
trim), so it commutes with the 8 orientations: the orientation hashes of a crop follow from
its DCT as the plain ones do.
"""

from __future__ import annotations

__all__ = ["CROP_KEEPS", "centre_box"]

# The share of the width and of the height each crop keeps.
CROP_KEEPS = (0.9, 0.8)


def centre_box(width: int, height: int, keep: float) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) box of the centre `keep` of each side (at least 1 px)."""
    left = min(round(width * (1 - keep) / 2), (width - 1) // 2)
    top = min(round(height * (1 - keep) / 2), (height - 1) // 2)
    return left, top, width - left, height - top
