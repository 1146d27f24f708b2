"""Uniform borders: the letterbox and pillarbox bars, frames and padding `phash` trims.

A border changes every coefficient of the 32x32 DCT the hash is taken from: the picture
shrinks and moves inside the frame, so a 5% white border put 20-30 bits between an image and
its bordered copy. Trimming it first gives the copy back the original's view.

A side is trimmed when its outermost lines are uniform (at least `_UNIFORM_SHARE` of their
pixels within `_TOLERANCE` grey levels of the edge line's median: JPEG leaves a few levels
of noise on a flat bar, and ringing near the picture) up to a straight edge: within a line
or two, a line mostly off the border's colour, textured or far from it. Only then is it a
border (bars, a frame, padding). An object on a plain background (a silhouette, a product
shot) ends the run in lines still mostly of that colour: the background belongs to the
picture and is kept, because an edit (a rotation's black corners, a contrast change) would
trim the original and its copy differently. A smooth sky or a vignette also starts with
uniform lines, but the run ends in a line as flat as the others, barely past the
tolerance; trimming there would move with every contrast or brightness edit, so such a
side is left whole. Nothing is trimmed beyond a third of a side, so a blank or near-blank
image keeps its whole frame.

Thresholds are principles, not fits: the tolerance is ~6% of the grey range (twice the
noise a JPEG at quality 30 leaves on a flat area); a line is flat below half of it in
standard deviation, and far beyond twice it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["DETECTION_SIDE", "content_box", "picture_box"]

# Borders are found on the image reduced to this longest side (a box filter), whatever its
# size: a 1600 px original and its 512 px copy are then judged on the same lines, where at
# their own sizes a flat region's edge fell on one side of the rules in one and the other
# side in the other (bench: 3 of 120 re-encodes moved 16-34 bits). 128 px keeps a 5% border
# at 6 lines.
DETECTION_SIDE = 128

_TOLERANCE = 16
_UNIFORM_SHARE = 0.97
_EDGE_SHARE = 0.5  # a line with at most this share at the border colour is past the edge
_EDGE_LINES = 3
_MAX_SHARE_TRIMMED = 1 / 3  # of a side


def _border_depth(lines: npt.NDArray[np.uint8], side: int) -> int:
    """How many of these lines (outermost first, one per row of `lines`) are a border."""
    edge = lines[0].astype(np.int16)
    colour = np.int16(np.median(edge))
    if (np.abs(edge - colour) <= _TOLERANCE).mean() < _UNIFORM_SHARE:
        return 0  # most pictures: the outermost line is not uniform, nothing more to read
    limit = int(side * _MAX_SHARE_TRIMMED)
    window = lines[: limit + 1].astype(np.int16)
    deviation = np.abs(window - colour)
    near = (deviation <= _TOLERANCE).mean(axis=1)
    uniform = near >= _UNIFORM_SHARE
    depth = len(uniform) if uniform.all() else int(np.argmin(uniform))
    if depth == 0 or depth >= limit:
        return 0
    # A border ends in a straight edge: within a line or two (resampling and JPEG ringing
    # blend the first), a line mostly off the border's colour. An object on a plain
    # background (a silhouette, a product shot) ends the run in a line still mostly at
    # that colour: the background is part of the picture and stays, whatever an edit
    # (black corners of a rotation, a contrast change) does to it.
    after = slice(depth, depth + _EDGE_LINES)
    straight = near[after] <= _EDGE_SHARE
    # The picture's first lines: textured, or far from the border's colour; a line as flat
    # as the run and only a little off its colour is a smooth gradient drifting past the
    # tolerance (a sky), no border.
    far = deviation[after].mean(axis=1) >= 2 * _TOLERANCE
    textured = window[after].std(axis=1) >= _TOLERANCE / 2
    if not (straight & (far | textured)).any():
        return 0
    # The line where border and picture blend comes off too.
    return depth + 1


def content_box(gray: npt.NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside any uniform border of a 2-D grey
    image; the whole image when it has none.

    One pass: a second one, once a frame's side bars are off, would trim more pale
    pictures' top and bottom bars, but measured on bench it moved more copies away from
    their originals (border05 recall 0.89 -> 0.88) than it brought closer.
    """
    height, width = gray.shape
    top = _border_depth(gray, height)
    bottom = height - _border_depth(gray[::-1], height)
    left = _border_depth(gray.T, width)
    right = width - _border_depth(gray.T[::-1], width)
    return left, top, right, bottom


def picture_box(gray: Image.Image) -> tuple[int, int, int, int]:
    """`content_box` of a grey Pillow image, found at `DETECTION_SIDE` and scaled back."""
    width, height = gray.size
    scale = DETECTION_SIDE / max(width, height)
    if scale >= 1:
        return content_box(np.asarray(gray))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = gray.resize(small_size, Image.Resampling.BOX)
    left, top, right, bottom = content_box(np.asarray(small))
    sx, sy = width / small_size[0], height / small_size[1]
    # rounded inwards: a sliver of border left in would weigh on the edge coefficients
    return (
        math.ceil(left * sx),
        math.ceil(top * sy),
        min(width, math.floor(right * sx)),
        min(height, math.floor(bottom * sy)),
    )
