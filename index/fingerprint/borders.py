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

Borders come in opposite pairs (`Trim.OPPOSITE_SIDES`, `phash`): letterbox bars, pillarbox
bars, a frame and centred padding put the same colour at the same depth on both sides. A
pair comes off when the two sides are uniform in one colour to the same depth (within
`_PAIR_SLACK` lines) and at least one of them ends in a crisp edge: a line at most
`_CRISP_EDGE_SHARE` at the border's colour, a picture running along the whole side. A
drawing on a white ground (an icon, a diagram, a product shot) has straight outlines too,
but they end the white where the object does: one side, or a line still partly white; the
first rule (`Trim.EACH_SIDE`, `phash-2`) trimmed such sides alone, at some sizes and not
others, and moved their plain resizes (scripts/bench/resizes.py, 69 drawings of this
machine, 12 resized copies each: 112 of 828 beyond 10 bits, 7 with pairs; no trim: 1). A
frame on an object whose own ground is the frame's colour is then kept whole: there is no
telling the two apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["DETECTION_SIDE", "Trim", "content_box", "picture_box"]

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
_CRISP_EDGE_SHARE = 0.15  # a pair's edge: at most this share of the line at the border colour
_PAIR_SLACK = 2  # lines of DETECTION_SIDE two sides of a pair may differ by


class Trim(Enum):
    """Which border rule an algorithm applies (the module docstring has both)."""

    NONE = "none"  # `phash-1`
    EACH_SIDE = "each-side"  # `phash-2`: every side judged alone
    OPPOSITE_SIDES = "opposite-sides"  # `phash`: borders come off in opposite pairs


@dataclass(frozen=True, slots=True)
class _Side:
    """What the lines of one side of an image say about a border there."""

    colour: int
    run: int  # uniform lines at `colour`, outermost first (0: the outer line is not uniform)
    depth: int  # lines a border takes judged alone (0: none)
    edge_share: float  # share at `colour` of the picture's first line, within the span
    # asked for (the lines between the other pair of bars); 1.0: no picture line


_NO_BORDER = _Side(0, 0, 0, 1.0)


def _side(lines: npt.NDArray[np.uint8], side: int, span: slice = slice(None)) -> _Side:
    """The border evidence of these lines (outermost first, one per row of `lines`); the
    edge share is read within `span` of each line."""
    edge = lines[0].astype(np.int16)
    colour = np.int16(np.median(edge))
    if (np.abs(edge - colour) <= _TOLERANCE).mean() < _UNIFORM_SHARE:
        return _NO_BORDER  # most pictures: the outermost line is not uniform, nothing to read
    limit = int(side * _MAX_SHARE_TRIMMED)
    window = lines[: limit + 1].astype(np.int16)
    deviation = np.abs(window - colour)
    near = (deviation <= _TOLERANCE).mean(axis=1)
    uniform = near >= _UNIFORM_SHARE
    depth = len(uniform) if uniform.all() else int(np.argmin(uniform))
    if depth == 0 or depth >= limit:
        return _Side(int(colour), depth, 0, 1.0)
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
    picture = far | textured
    spanned = (deviation[after, span] <= _TOLERANCE).mean(axis=1)
    edge_share = float(spanned[picture].min()) if picture.any() else 1.0
    # The line where border and picture blend comes off too.
    alone = depth + 1 if (straight & picture).any() else 0
    return _Side(int(colour), depth, alone, edge_share)


def _opposite_pair(a: _Side, b: _Side) -> tuple[int, int]:
    """The lines two opposite sides lose as a pair of borders (0, 0: not one)."""
    if abs(a.colour - b.colour) > _TOLERANCE or min(a.edge_share, b.edge_share) > _CRISP_EDGE_SHARE:
        return 0, 0
    depth = a.depth if a.edge_share <= b.edge_share else b.depth
    if min(a.run, b.run) + 1 < depth - _PAIR_SLACK:
        return 0, 0
    # A side whose own edge is blurred (a pale stretch of picture) takes its partner's depth.
    return a.depth or min(a.run + 1, depth), b.depth or min(b.run + 1, depth)


def content_box(
    gray: npt.NDArray[np.uint8], trim: Trim = Trim.OPPOSITE_SIDES
) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the picture inside any uniform border of a 2-D grey
    image, by the `trim` rule; the whole image when it has none.

    No second trim of the trimmed picture: with the first rule it cut more pale pictures'
    top and bottom bars, and on bench moved more copies away from their originals (border05
    recall 0.89 -> 0.88) than it brought closer.
    """
    height, width = gray.shape
    if trim is Trim.NONE:
        return 0, 0, width, height
    sides = (_side(gray, height), _side(gray[::-1], height))
    across = (_side(gray.T, width), _side(gray.T[::-1], width))
    if trim is Trim.EACH_SIDE:
        (top, bottom), (left, right) = [(s.depth for s in pair) for pair in (sides, across)]
        return left, top, width - right, height - bottom
    (top, bottom), (left, right) = _opposite_pair(*sides), _opposite_pair(*across)
    # A frame's lines begin and end in its other pair of bars: once one pair is a border,
    # the other's edges are read between its bars.
    if (top or bottom) and not (left or right):
        rows = slice(top, height - bottom)
        left, right = _opposite_pair(_side(gray.T, width, rows), _side(gray.T[::-1], width, rows))
    elif (left or right) and not (top or bottom):
        columns = slice(left, width - right)
        top, bottom = _opposite_pair(
            _side(gray, height, columns), _side(gray[::-1], height, columns)
        )
    return left, top, width - right, height - bottom


def picture_box(gray: Image.Image, trim: Trim = Trim.OPPOSITE_SIDES) -> tuple[int, int, int, int]:
    """`content_box` of a grey Pillow image, found at `DETECTION_SIDE` and scaled back."""
    width, height = gray.size
    if trim is Trim.NONE:
        return 0, 0, width, height
    scale = DETECTION_SIDE / max(width, height)
    if scale >= 1:
        return content_box(np.asarray(gray), trim)
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = gray.resize(small_size, Image.Resampling.BOX)
    left, top, right, bottom = content_box(np.asarray(small), trim)
    sx, sy = width / small_size[0], height / small_size[1]
    # rounded inwards: a sliver of border left in would weigh on the edge coefficients
    return (
        math.ceil(left * sx),
        math.ceil(top * sy),
        min(width, math.floor(right * sx)),
        min(height, math.floor(bottom * sy)),
    )
