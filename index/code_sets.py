"""Which codes a code index of a collection holds, and what follows from it.

Every collection has an index of its images' own hashes (`CodeSet.IMAGES`), of the kind its
settings name: top-k searches rank images by their own hash there, and where a graph serves
them it holds one node an image. A `crop_hashes` collection keeps beside it one exact index
of every code its images carry, own and crop hashes alike (`CodeSet.EVERY_CODE`, always the
compact "tables" kind): radius searches and duplicate checks, the searches crop hashes are
for, probe it once with every code of the query (one probe pass of its tables a code,
where two indexes would take two). So crop codes never
enter a graph or crowd a top-k, and the thresholds that choose a top-k's path count images.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum

from .params import TABLES_KIND, IndexParams
from .records import CollectionDefinition, CollectionInfo

__all__ = ["CodeSet", "code_sets", "index_params", "snapshot_key"]


class CodeSet(Enum):
    """The codes one index of a collection holds."""

    IMAGES = "images"  # each image's own hash
    EVERY_CODE = "codes"  # own hashes and crop hashes


def code_sets(definition: CollectionDefinition | CollectionInfo) -> tuple[CodeSet, ...]:
    """The indexes a collection keeps."""
    if definition.crop_hashes:
        return (CodeSet.IMAGES, CodeSet.EVERY_CODE)
    return (CodeSet.IMAGES,)


def index_params(definition: CollectionDefinition | CollectionInfo, codes: CodeSet) -> IndexParams:
    """The settings of the collection's index of `codes`: its own for its images' hashes;
    the compact kind, exact, for every code."""
    if codes is CodeSet.IMAGES:
        return definition.params
    return replace(definition.params, kind=TABLES_KIND)


def snapshot_key(info: CollectionInfo, codes: CodeSet = CodeSet.IMAGES) -> str:
    """The snapshot file stem of a collection's index of `codes`: by the collection's uid, so
    a dropped and re-created collection of the same name never loads the old one's. A
    crop_hashes collection's index of own hashes has a name of its own: the snapshots that
    releases before schema 6 wrote under the plain name held its crop codes too."""
    if codes is CodeSet.EVERY_CODE:
        return f"c{info.uid}-codes"
    return f"c{info.uid}-images" if info.crop_hashes else f"c{info.uid}"
