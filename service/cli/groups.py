"""Duplicate groups of a collection: its images joined when their hashes are within R bits.

Three groupings (`GROUPINGS`):
- "centred" (the default): the best copy left starts a group, which takes every image
  within R of it, and so on; every member is within R of its group's representative, so a
  group spreads at most 2R and never chains (a watermark shared by three wallpapers joins
  none of them to another's group unless each is within R of that group's best copy);
- "components": connected components (two images are together when a chain of images, each
  within R of the next, joins them): the widest groups, and the chains;
- "strict": groups in which every pair is within R (greedy cliques).

The edges come from exact radius searches of each distinct code (`near`: the engine's
substring tables or flat scan, or a server's SearchBatch), never from comparing every pair;
images that share a code are one group's members at distance 0. An image is also searched
by its aliases: its crop hashes in a collection with crop hashes (a crop joins its
original's group), and the hashes of its 7 other orientations predicted from its bits
(`orient_hashes`: a mirrored or rotated copy joins its original's group); a distance is that
of the images' nearest two codes. Images whose hash quality is below the collection's floor
join no group (blank pictures).

The representative of a group, and the order in which centred groups are started, is the
best copy (`best_first`): the largest picture after its uniform borders are trimmed (what
the hash saw: a bordered copy counts its picture, not its frame), then the least
compressed (most file bytes a pixel), then the id. Largest groups first.

Plain functions over values; no state, thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["GROUPINGS", "Group", "ReportImage", "best_first", "duplicate_groups"]

GROUPINGS = ("centred", "components", "strict")

# Codes asked about per call of `near` (a SearchBatch holds at most 1000 queries).
NEAR_BATCH = 1000

Near = Callable[[Sequence[int]], list[list[tuple[int, int]]]]


@dataclass(frozen=True, slots=True)
class ReportImage:
    """One stored image as the report sees it."""

    id: str
    code: int
    metadata: Mapping[str, str]
    quality: int | None = None  # None: unknown (a bare hash)
    crops: tuple[int, ...] = ()  # its crop hashes, in a collection with crop hashes
    oriented: tuple[int, ...] = ()  # its other orientations' hashes, when grouping with them
    digest: bytes | None = None  # the SHA-256 of its file (None: unknown)

    @property
    def aliases(self) -> tuple[int, ...]:
        """The codes it is also searched by: crop hashes and other orientations."""
        return (*self.crops, *self.oriented)

    def distance(self, other: ReportImage) -> int:
        """Bits between the two images' nearest codes (hash, crop or orientation hash)."""
        return min(
            (a ^ b).bit_count()
            for a in (self.code, *self.aliases)
            for b in (other.code, *other.crops)
        )

    def _size(self, width: str, height: str) -> int:
        try:
            return int(self.metadata.get(width, 0)) * int(self.metadata.get(height, 0))
        except ValueError:
            return 0

    @property
    def pixels(self) -> int:
        """Width x height of the file's header, 0 when not recorded."""
        return self._size("width", "height")

    @property
    def picture_pixels(self) -> int:
        """The picture's pixels less the uniform borders the hash trimmed (as `build`
        records them); the header's pixels for images stored without that."""
        return self._size("picture_width", "picture_height") or self.pixels

    @property
    def bytes(self) -> int:
        value = self.metadata.get("bytes", "0")
        return int(value) if value.isdigit() else 0


def best_first(image: ReportImage) -> tuple[int, float, str]:
    """The sort key of the best copy first: the largest picture after its borders are
    trimmed, then the most file bytes a pixel (the least compressed), then the id."""
    return (-image.picture_pixels, -image.bytes / max(image.pixels, 1), image.id)


@dataclass(frozen=True, slots=True)
class Group:
    """Images that duplicate each other, the representative first, and each member's
    Hamming distance from the representative."""

    images: list[ReportImage]
    distances: dict[str, int]

    @property
    def representative(self) -> ReportImage:
        return self.images[0]

    @property
    def ids(self) -> list[str]:
        return [image.id for image in self.images]


class _Components:
    """Union-find over code numbers."""

    def __init__(self, size: int) -> None:
        self._parent = list(range(size))

    def find(self, item: int) -> int:
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self._parent[max(root_a, root_b)] = min(root_a, root_b)


def _neighbours(by_code: Mapping[int, list[ReportImage]], near: Near) -> list[dict[int, int]]:
    """Per code number (the hashes of `by_code`, in order): the numbers of the other codes
    within the radius of any of their images' codes (hash or crop hash), and the distance."""
    number = {code: i for i, code in enumerate(by_code)}
    # an alias (crop or orientation hash) -> the numbers of its images' hashes
    crop_owners: dict[int, list[int]] = {}
    for code, carriers in by_code.items():
        for alias in {c for image in carriers for c in image.aliases} - {code}:
            crop_owners.setdefault(alias, []).append(number[code])

    def owners(code: int) -> Sequence[int]:
        of_crop = crop_owners.get(code, ())
        own = number.get(code)
        return of_crop if own is None else (own, *of_crop)

    found: list[dict[int, int]] = [{} for _ in by_code]

    def link(a: int, b: int, distance: int) -> None:
        if a != b and distance < found[a].get(b, 65):
            found[a][b] = found[b][a] = distance

    if not crop_owners:  # each stored code is one hash: the plain collection's fast path
        codes = list(number)
        for start in range(0, len(codes), NEAR_BATCH):
            chunk = codes[start : start + NEAR_BATCH]
            for code, matches in zip(chunk, near(chunk), strict=True):
                found[number[code]] = {
                    number[c]: d for c, d in matches if c != code and c in number
                }
        return found
    asked = [*number, *(c for c in crop_owners if c not in number)]
    for start in range(0, len(asked), NEAR_BATCH):
        chunk = asked[start : start + NEAR_BATCH]
        for code, matches in zip(chunk, near(chunk), strict=True):
            sources = owners(code)
            for other, distance in matches:
                # The hashes first, as a plain collection has only them; then crop owners.
                plain = number.get(other)
                for a in sources:
                    if plain is not None:
                        link(a, plain, distance)
                    for b in crop_owners.get(other, ()):
                        link(a, b, distance)
    return found


def _strict_split(
    members: list[int], adjacent: list[dict[int, int]], weight: list[int]
) -> list[list[int]]:
    """Greedy cliques: the heaviest code left starts a group, which takes its neighbours,
    nearest first, that are within the radius of every member so far."""
    left = set(members)
    cliques = []
    for seed in sorted(members, key=lambda c: (-weight[c], -len(adjacent[c]), c)):
        if seed not in left:
            continue
        clique = [seed]
        left.discard(seed)
        for candidate in sorted(adjacent[seed], key=lambda c: (adjacent[seed][c], c)):
            if candidate in left and all(candidate in adjacent[m] for m in clique):
                clique.append(candidate)
                left.discard(candidate)
        cliques.append(clique)
    return cliques


def _centred_split(
    members: list[int], adjacent: list[dict[int, int]], rank: list[tuple[int, float, str]]
) -> list[list[int]]:
    """The best code left starts a group, which takes every code left within the radius
    of it (its neighbours)."""
    left = set(members)
    groups = []
    for centre in sorted(members, key=lambda c: rank[c]):
        if centre not in left:
            continue
        group = [centre, *(c for c in adjacent[centre] if c in left)]
        left.difference_update(group)
        groups.append(group)
    return groups


def _group(images: Iterable[ReportImage]) -> Group:
    ordered = sorted(images, key=best_first)
    head = ordered[0]
    return Group(ordered, {i.id: head.distance(i) for i in ordered})


def below_floor(images: Iterable[ReportImage], min_quality: int) -> list[ReportImage]:
    """The images whose hashes score below the collection's quality floor: their bits are
    noise, so only copies of the same file (the same content digest) group with them."""
    return [i for i in images if i.quality is not None and i.quality < min_quality]


def duplicate_groups(
    images: Sequence[ReportImage], near: Near, grouping: str = "centred", min_quality: int = 0
) -> list[Group]:
    """The groups of two or more images (`grouping`: one of `GROUPINGS`), largest first
    (then by representative id); an image below `min_quality` only with copies of its file
    (`identical_groups`)."""
    blank = below_floor(images, min_quality)
    left_out = {i.id for i in blank}
    by_code: dict[int, list[ReportImage]] = {}
    for image in images:
        if image.id not in left_out:
            by_code.setdefault(image.code, []).append(image)
    codes = list(by_code)
    adjacent = _neighbours(by_code, near)
    components = _Components(len(codes))
    for number, neighbours in enumerate(adjacent):
        for other in neighbours:
            components.union(number, other)
    members: dict[int, list[int]] = {}
    for number in range(len(codes)):
        members.setdefault(components.find(number), []).append(number)
    weight = [len(by_code[code]) for code in codes]
    rank = [min(best_first(i) for i in by_code[code]) for code in codes]

    def split(component: list[int]) -> list[list[int]]:
        if grouping == "strict":
            return _strict_split(component, adjacent, weight)
        if grouping == "centred":
            return _centred_split(component, adjacent, rank)
        return [component]

    parts = [part for component in members.values() for part in split(component)]
    groups = [
        _group(image for number in part for image in by_code[codes[number]])
        for part in parts
        if sum(weight[number] for number in part) > 1
    ]
    groups += identical_groups(blank)
    groups.sort(key=lambda g: (-len(g.images), g.representative.id))
    return groups


def identical_groups(images: Iterable[ReportImage]) -> list[Group]:
    """The images that are copies of one file (the same known content digest), two or more
    a group: how blank pictures group, whose hashes say nothing."""
    by_digest: dict[bytes, list[ReportImage]] = {}
    for image in images:
        if image.digest is not None:
            by_digest.setdefault(image.digest, []).append(image)
    return [_group(copies) for copies in by_digest.values() if len(copies) > 1]
