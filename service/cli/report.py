"""Reports the duplicate groups of a collection: images whose hashes are within R bits
(default: the collection's radius). By default a group is centred: the best copy starts it
and takes every image within R of it, so no group chains (--grouping components: connected
components; strict: every pair within R); mirrored and rotated copies join their original's
group (--no-orientations: they do not). The representative is the best copy: the largest
picture once its uniform borders are trimmed, then the least compressed file, then the id.
Largest groups first. Writes JSON ({"radius", "grouping", "groups": [{"ids",
"representative", "distances"}]}), CSV (a row per image) and an HTML contact sheet (pages
of groups loaded as they are opened, thumbnails beside them; no network) as asked; with none
of them, the JSON goes to stdout. A summary (groups, images, seconds, of which radius
searches) goes to stderr. With --data-dir it opens the data dir itself; otherwise it asks a
running server (List and SearchBatch)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from neardup.index.fingerprint import get_algorithm

from .arguments import count
from .arguments import radius as radius_bits
from .groups import GROUPINGS, Group, Near, ReportImage, below_floor, duplicate_groups
from .options import add_where_options
from .output import counted
from .parser import Refused
from .report_html import with_thumbnails

__all__ = ["add_arguments", "run"]

_PAGE = 1000


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The arguments of `neardup report`."""
    add_where_options(command)
    command.add_argument(
        "--radius", type=radius_bits, default=None, help="bits, 0..64 (default: the collection's)"
    )
    command.add_argument(
        "--grouping",
        choices=GROUPINGS,
        default="centred",
        help="centred: every member within the radius of the representative (default); "
        "components: chained; strict: every pair within the radius",
    )
    command.add_argument(
        "--no-orientations",
        dest="orientations",
        action="store_false",
        help="do not group mirrored and rotated copies with their originals",
    )
    command.add_argument("--json", type=Path, default=None, metavar="FILE")
    command.add_argument("--csv", type=Path, default=None, metavar="FILE")
    command.add_argument("--html", type=Path, default=None, metavar="FILE")
    command.add_argument(
        "--thumbnail-groups",
        type=count,
        default=500,
        metavar="N",
        help="embed thumbnails for the N largest groups in the HTML (default 500)",
    )


class _Source(Protocol):
    def algorithm(self) -> str: ...
    def radius(self) -> int: ...
    def min_quality(self) -> int: ...
    def images(self) -> Iterator[ReportImage]: ...
    def near(self, codes: Sequence[int], radius: int) -> list[list[tuple[int, int]]]: ...
    def thumbnails(self, ids: Sequence[str]) -> dict[str, bytes]: ...
    def close(self) -> None: ...


class _DataDir:
    """A data dir opened for the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        from .options import open_data_dir

        self._engine = open_data_dir(args)
        self._collection = args.collection
        try:
            self._info = self._engine.collection(args.collection)
        except BaseException:
            self._engine.close(final_snapshot=False)
            raise

    def algorithm(self) -> str:
        return self._info.algorithm

    def radius(self) -> int:
        return self._info.default_radius

    def min_quality(self) -> int:
        return self._info.min_quality

    def images(self) -> Iterator[ReportImage]:
        after = ""
        while page := self._engine.list_images(self._collection, after, _PAGE):
            for image in page:
                yield ReportImage(
                    image.id,
                    image.fingerprint.value,
                    image.metadata,
                    image.quality,
                    tuple(c.value for c in image.crops),
                    digest=image.digest,
                )
            after = page[-1].id

    def near(self, codes: Sequence[int], radius: int) -> list[list[tuple[int, int]]]:
        return self._engine.near_codes(self._collection, codes, radius)

    def thumbnails(self, ids: Sequence[str]) -> dict[str, bytes]:
        found = self._engine.get_many(self._collection, ids, thumbnails=True)
        return {i: image.thumbnail for i, image in found.items() if image.thumbnail}

    def close(self) -> None:
        self._engine.close(final_snapshot=False)


class _Server:
    """A running server: List for the images, SearchBatch (exact radius) for the edges."""

    def __init__(self, args: argparse.Namespace) -> None:
        from .options import connect

        self._client = connect(args)
        self._collection = args.collection
        try:  # the collection's definition, read once
            self._info = self._client.stats(args.collection).collection
        except BaseException:
            self._client.close()
            raise

    def algorithm(self) -> str:
        return str(self._info.algorithm)

    def radius(self) -> int:
        return int(self._info.default_radius)

    def min_quality(self) -> int:
        return int(self._info.min_quality)

    def images(self) -> Iterator[ReportImage]:
        from neardup.v1 import neardup_pb2 as pb

        token = ""
        while True:
            request = pb.ListRequest(
                collection=self._collection,
                page_size=_PAGE,
                page_token=token,
                include_metadata=True,
            )
            page = self._client.call("List", request)
            for image in page.images:
                quality = image.quality if image.HasField("quality") else None
                crops = tuple(int(c.hex, 16) for c in image.crop_hashes)
                digest = bytes.fromhex(image.digest) if image.digest else None
                yield ReportImage(
                    image.id,
                    int(image.hash.hex, 16),
                    dict(image.metadata),
                    quality,
                    crops,
                    digest=digest,
                )
            if not (token := page.next_page_token):
                return

    def near(self, codes: Sequence[int], radius: int) -> list[list[tuple[int, int]]]:
        from neardup.service.client import NeardupRpcError, search_request
        from neardup.v1 import neardup_pb2 as pb

        queries = [
            search_request(
                hash=f"{code:016x}", collection=self._collection, max_distance=radius, exact=True
            )
            for code in codes
        ]
        batch = self._client.call("SearchBatch", pb.SearchBatchRequest(queries=queries))
        found = []
        for result in batch.results:
            if result.HasField("error"):  # the server's refusal, as the CLI reports any
                error = result.error
                raise NeardupRpcError(_status(error.code), error.message, error.field)
            matches = {int(m.hash.hex, 16): m.distance for m in result.response.matches}
            found.append(sorted(matches.items(), key=lambda cd: (cd[1], cd[0])))
        return found

    def thumbnails(self, ids: Sequence[str]) -> dict[str, bytes]:
        found = self._client.get_many(ids, self._collection, include_thumbnails=True)
        return {image.id: image.thumbnail for image in found.images if image.thumbnail}

    def close(self) -> None:
        self._client.close()


def _status(code: int) -> Any:
    """The grpc.StatusCode of a numeric status code."""
    import grpc

    return next(c for c in grpc.StatusCode if c.value[0] == code)


def with_orientations(images: Sequence[ReportImage]) -> list[ReportImage]:
    """The images with the hashes of their 7 other orientations, predicted from their bits
    (`orient_hashes`), as aliases they are searched by."""
    import numpy as np
    from neardup.index.fingerprint import Orientation
    from neardup.index.fingerprint.orientations import orient_hashes

    codes = np.array([image.code for image in images], dtype=np.uint64)
    turned = [orient_hashes(codes, o).tolist() for o in list(Orientation)[1:]]
    return [
        replace(image, oriented=tuple(sorted({t[i] for t in turned} - {image.code})))
        for i, image in enumerate(images)
    ]


def _timed(near: Near, spent: list[float]) -> Near:
    def timed(codes: Sequence[int]) -> list[list[tuple[int, int]]]:
        started = time.perf_counter()
        try:
            return near(codes)
        finally:
            spent.append(time.perf_counter() - started)

    return timed


def group_json(group: Group) -> dict[str, Any]:
    """A group as the JSON report holds it."""
    return {
        "ids": group.ids,
        "representative": group.representative.id,
        "distances": group.distances,
        "qualities": {i.id: i.quality for i in group.images if i.quality is not None},
    }


def _write_csv(path: Path, groups: Sequence[Group]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "group",
                "id",
                "representative",
                "distance",
                "quality",
                "width",
                "height",
                "format",
                "bytes",
                "path",
            ]
        )
        for number, group in enumerate(groups, 1):
            for image in group.images:
                meta = image.metadata
                writer.writerow(
                    [
                        number,
                        image.id,
                        group.representative.id,
                        group.distances[image.id],
                        "" if image.quality is None else image.quality,
                        meta.get("width", ""),
                        meta.get("height", ""),
                        meta.get("format", ""),
                        meta.get("bytes", ""),
                        meta.get("path", ""),
                    ]
                )


def run(args: argparse.Namespace) -> int:
    """Computes the groups, writes what was asked, prints the summary."""
    for flag, path in (("--json", args.json), ("--csv", args.csv), ("--html", args.html)):
        if path is not None and not path.parent.is_dir():  # before the report's work
            raise Refused(f"{flag} {path}: no folder {path.parent}", "name a folder that exists")
    started = time.perf_counter()
    source: _Source = _DataDir(args) if args.data_dir else _Server(args)
    spent: list[float] = []
    try:
        radius = args.radius if args.radius is not None else source.radius()
        images = list(source.images())
        oriented = args.orientations and get_algorithm(source.algorithm()).orients_hashes
        if oriented:
            images = with_orientations(images)
        floor = source.min_quality()
        near = _timed(lambda codes: source.near(codes, radius), spent)
        groups = duplicate_groups(images, near, args.grouping, min_quality=floor)
        blank = len(below_floor(images, floor))
        kept: dict[str, bytes] = {}
        if args.html is not None:  # the previews the collection keeps, of what the sheet shows
            shown = [i.id for i in with_thumbnails(groups, args.thumbnail_groups)]
            for start in range(0, len(shown), _PAGE):
                kept.update(source.thumbnails(shown[start : start + _PAGE]))
    finally:
        source.close()
    report = {
        "radius": radius,
        "grouping": args.grouping,
        "orientations": oriented,
        "min_quality": floor,
        "below_min_quality": blank,
        "groups": [group_json(g) for g in groups],
    }
    if args.json is not None:
        args.json.write_text(json.dumps(report, ensure_ascii=False))
    if args.csv is not None:
        _write_csv(args.csv, groups)
    if args.html is not None:
        from .report_html import thumbnail_file, write_html

        def thumbnail(image: ReportImage) -> bytes | None:
            return kept.get(image.id) or thumbnail_file(image.metadata.get("path"))

        write_html(args.html, groups, radius, args.grouping, args.thumbnail_groups, thumbnail)
    if args.json is None and args.csv is None and args.html is None:
        json.dump(report, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    grouped = sum(len(g.images) for g in groups)
    print(
        f"neardup: {counted(len(groups), 'group')} of {counted(grouped, 'image')} among "
        f"{len(images):,} at radius {radius} ({args.grouping}"
        f"{', with orientations' if oriented else ''}); "
        f"{time.perf_counter() - started:.1f} s, of which radius searches {sum(spent):.1f} s; "
        f"{counted(blank, 'image')} below the collection's min_quality {floor} grouped only "
        "with copies of their own file",
        file=sys.stderr,
    )
    return 0
