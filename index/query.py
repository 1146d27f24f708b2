"""`Query`: what a search asks for, built in one place from what the caller has.

A caller has image bytes (hashed with or without its 8 orientations, and with the centre
crops of a `crop_hashes` collection), a hash given by value (with its quality and crop
hashes, when known), or the id of a stored image. Each becomes a `Query` here, and each code
of a query says what it is, the orientation and the crop it was hashed from, so a match can
say what it matched without a rule about list positions.

The service, the offline CLI and the engines all build their queries through this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .errors import InvalidArgument
from .fingerprint import (
    DEFAULT_LIMITS,
    DecodeLimits,
    Fingerprint,
    ImageHashes,
    Orientation,
    hash_image,
)
from .records import CollectionDefinition, StoredImage

__all__ = ["Query", "QueryCode", "query_of"]

_ORIENTATIONS = tuple(Orientation)  # by number, without an enum lookup a code


class QueryCode(NamedTuple):
    """One hash a query sends: the picture's (crop 0) or its c-th centre crop's
    (`fingerprint.crops.CROP_KEEPS[c - 1]`), in one orientation."""

    fingerprint: Fingerprint
    orientation: Orientation = Orientation.IDENTITY
    crop: int = 0


class Query(NamedTuple):
    """The codes a search sends (the picture's own hash first), the quality of the
    picture's hash (None: unknown), or, for a search by a stored image's id, that id (the
    engine reads its hash: `codes` is empty until then); the content digest of the query's
    file (None: unknown), which below the quality floor decides a match. A named tuple:
    every search makes one, and a tuple is the cheapest immutable value Python builds."""

    codes: tuple[QueryCode, ...] = ()
    quality: int | None = None
    stored_id: str | None = None
    digest: bytes | None = None

    @classmethod
    def of_image(cls, hashes: ImageHashes, orientations: bool = False) -> Query:
        """An image's hash (or its 8 orientations' when asked for and hashed) and its
        crops' hashes, in the same orientations, when they were hashed."""
        oriented = hashes.orientations if orientations and hashes.orientations else None
        picture = oriented if oriented is not None else (hashes.fingerprint,)
        codes = [QueryCode(f, _ORIENTATIONS[o]) for o, f in enumerate(picture)]
        for crop, crop_hashes in enumerate(hashes.crops, start=1):
            kept = crop_hashes if oriented is not None else crop_hashes[:1]
            codes += [QueryCode(f, _ORIENTATIONS[o], crop) for o, f in enumerate(kept)]
        return cls(tuple(codes), hashes.quality, digest=hashes.digest or None)

    @classmethod
    def of_hash(
        cls,
        fingerprint: Fingerprint,
        quality: int | None = None,
        crops: Sequence[Fingerprint] = (),
        orientations: Sequence[Fingerprint] = (),
        digest: bytes | None = None,
    ) -> Query:
        """A hash given by value, with its quality and its crops' upright hashes; with its
        8 orientation hashes (indexed by `Orientation`, element 0 the hash itself) when
        they are known, so that a mirrored or rotated copy is found too; with its file's
        content digest when known."""
        if orientations:
            if len(orientations) != len(_ORIENTATIONS) or orientations[0] != fingerprint:
                raise InvalidArgument(
                    "orientation hashes are 8, the hash itself first", "orientations"
                )
            codes = [QueryCode(f, _ORIENTATIONS[o]) for o, f in enumerate(orientations)]
        else:
            codes = [QueryCode(fingerprint)]
        codes += [QueryCode(f, crop=c) for c, f in enumerate(crops, start=1)]
        return cls(tuple(codes), quality, digest=digest)

    @classmethod
    def of_stored(cls, image: StoredImage) -> Query:
        """A stored image's hash, quality, crop hashes and digest."""
        return cls.of_hash(image.fingerprint, image.quality, image.crops, digest=image.digest)

    @classmethod
    def of_id(cls, image_id: str) -> Query:
        """The stored image of this id (the engine reads its hash)."""
        return cls(stored_id=image_id)

    @classmethod
    def of_layout(
        cls,
        oriented: Sequence[Fingerprint],
        crops: Sequence[Fingerprint] = (),
        quality: int | None = None,
    ) -> Query:
        """The positional form `Engine.search` has always taken: the hash, or its 8
        orientation hashes indexed by `Orientation`, then per crop as many hashes in the
        same layout."""
        if len(oriented) == 1 and not crops:  # the common case, without the loops
            return cls((QueryCode(oriented[0], _ORIENTATIONS[0], 0),), quality)
        if len(oriented) > len(_ORIENTATIONS):
            raise InvalidArgument(f"1..8 query hashes, got {len(oriented)}", "query")
        width = max(len(oriented), 1)
        codes = [QueryCode(f, _ORIENTATIONS[o]) for o, f in enumerate(oriented)]
        codes += [
            QueryCode(f, _ORIENTATIONS[i % width], 1 + i // width) for i, f in enumerate(crops)
        ]
        return cls(tuple(codes), quality)

    @property
    def fingerprint(self) -> Fingerprint:
        """The picture's own hash, upright (the first code)."""
        return self.codes[0].fingerprint

    @property
    def picture(self) -> tuple[QueryCode, ...]:
        """The codes of the picture itself (its orientations), without its crops' (which
        every constructor puts after them)."""
        codes = self.codes
        if not codes or codes[-1].crop == 0:
            return codes
        return tuple(code for code in codes if code.crop == 0)

    @property
    def crops(self) -> tuple[QueryCode, ...]:
        """The codes of the picture's crops."""
        codes = self.codes
        if not codes or codes[-1].crop == 0:
            return ()
        return tuple(code for code in codes if code.crop != 0)


def query_of(
    definition: CollectionDefinition,
    *,
    image: bytes | None = None,
    hashed: ImageHashes | None = None,
    fingerprint: Fingerprint | None = None,
    quality: int | None = None,
    crops: Sequence[Fingerprint] = (),
    image_id: str | None = None,
    orientations: bool = False,
    limits: DecodeLimits = DEFAULT_LIMITS,
    digest: bytes | None = None,
) -> Query:
    """The query of a search in this collection, from exactly one of: image bytes (hashed
    in the collection's algorithm, with its crops where the collection keeps them, and in
    8 orientations when asked), or the same image already hashed so (`hashed`, e.g. by a
    worker process), a hash given by value (with its quality, crop hashes and file
    digest), or a stored image's id. InvalidArgument (naming the request's field) for none
    or several, or for orientations without an image; the image's decoding errors as
    `hash_image` raises them."""
    given = [image is not None or hashed is not None, fingerprint is not None, image_id is not None]
    if sum(given) != 1 or (image is not None and hashed is not None):
        raise InvalidArgument("a search needs an image, a hash or an id", "query")
    if orientations and not given[0]:
        raise InvalidArgument("orientations need an image query", "orientations")
    if image is not None:
        hashed = hash_image(
            image,
            definition.algorithm,
            orientations=orientations,
            crops=definition.crop_hashes,
            limits=limits,
        )
    if hashed is not None:
        return Query.of_image(hashed, orientations)
    if fingerprint is not None:
        return Query.of_hash(fingerprint, quality, crops, digest=digest)
    assert image_id is not None
    return Query.of_id(image_id)
