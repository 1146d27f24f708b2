"""Code matches to image matches: the images that carry the codes a search found, and the
loop that asks the code index for more where images drop out of a top-k (below the quality
floor, or found through several of their codes)."""

from __future__ import annotations

from collections.abc import Sequence

from . import bounds
from .collection import LoadedCollection
from .fingerprint.crops import CROP_KEEPS
from .hamming import CodeMatch
from .query import Query, QueryCode
from .records import Match, SearchPath
from .store import Store, queries
from .store.queries import FloorRule

__all__ = ["floor_rule", "image_matches", "nearest_images"]

# A code carried by more images than this is looked up on its own, cut at the bound, rather
# than joined with every row. 16 is an estimate of where one statement of its own costs what
# joining that many rows does, not a measured crossover; only the far end is measured (2,000
# copies: >= 20x fewer SQLite steps, tests/index/test_engine.py).
_CROWDED_CODE_IMAGES = 16


def nearest_images(
    store: Store,
    coll: LoadedCollection,
    query: Query,
    send_crops: bool,
    top_k: int | None,
    within: int | None,
    *,
    exact: bool,
    exclude_id: str | None,
    limit: int,
    budget: float | None,
) -> tuple[list[Match], SearchPath, bool]:
    """The images nearest to the query, nearest first, ties by id: at most `top_k` (None:
    `limit`, plus one to tell a truncated answer), within `within`; the path that answered;
    whether the code index truncated its answer.

    A search with a radius goes to the collection's radius index with every code of the
    query (its crops' too, in a crop_hashes collection and when `send_crops`); a top-k alone
    ranks images by their own hash, in the index of those, with the picture's codes.
    Where images under the quality floor drop out of a top-k, or an image took several
    codes (its hash and its crops'), the index is asked for more."""
    by_radius = within is not None
    index = coll.radius_index if by_radius else coll.index
    via_every_code = index is coll.every_code
    sent = query.codes if via_every_code and send_crops else query.picture
    codes = [code.fingerprint.value for code in sent]
    rule = floor_rule(coll, query)
    bound = top_k if top_k is not None else limit
    # An image of a crop_hashes collection is up to 1 + len(CROP_KEEPS) of the nearest
    # codes of its index of every code: ask for that many at once rather than find out and
    # ask again.
    per_image = 1 + len(CROP_KEEPS) if via_every_code else 1
    fetch = None if top_k is None else (top_k + (exclude_id is not None)) * per_image
    while True:
        found = index.search(codes, k=fetch, radius=within, exact=exact, limit=limit, budget=budget)
        with store.read() as conn:
            matches = image_matches(
                conn, coll, found.matches, bound + 1, exclude_id, sent, via_every_code, rule
            )
        if fetch is None or len(matches) >= bound or len(found.matches) < fetch:
            break
        if fetch >= bounds.MAX_K * 4 or not (coll.info.min_quality or per_image > 1):
            break
        fetch *= 4
    return matches, found.path, found.truncated


def image_matches(
    conn: object,
    coll: LoadedCollection,
    code_matches: Sequence[CodeMatch],
    bound: int,
    exclude_id: str | None,
    sent: Sequence[QueryCode],
    crops: bool,
    rule: FloorRule,
) -> list[Match]:
    """The images carrying the matched codes (as their own hash, or with `crops`, the codes
    of an index of every code, as a crop hash too), nearest first, ties by id, at most
    `bound`. Below the quality floor `rule` keeps only the same file (`floor_rule`); a
    match whose content digest is the query's says it is identical.

    A code match's query number is its position in `sent`, whose code says which
    orientation and crop it was; a match is via a crop when the query's code or the
    image's is one."""
    if not code_matches:
        return []
    by_code = {m.code: m for m in code_matches}
    found = queries.nearest_images(
        conn,  # type: ignore[arg-type]
        coll.info.name,
        coll.info.algorithm,
        {code: m.distance for code, m in by_code.items()},
        bound,
        exclude_id,
        crowded={m.code for m in code_matches if m.images > _CROWDED_CODE_IMAGES},
        min_quality=coll.info.min_quality,
        crops=crops,
        floor_rule=rule,
    )
    matches = []
    for image, distance, code in found:
        query = sent[by_code[code].query]
        via_crop = query.crop != 0 or code != image.fingerprint.value
        identical = rule.digest is not None and image.digest == rule.digest
        matches.append(Match(image, distance, query.orientation, via_crop, identical))
    return matches


def floor_rule(coll: LoadedCollection, query: Query) -> FloorRule:
    """How the collection's quality floor applies to a query: whether its hash is below the
    floor, and its content digest (blank pictures match only the same file)."""
    return FloorRule(bool(coll.info.quality_note(query.quality)), query.digest)
