"""Command-line options shared by the scripts that read the bench corpus in ../shared."""

from __future__ import annotations

import argparse
from pathlib import Path

from neardup.index.fingerprint import imagehash_math

DEFAULT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def corpus_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with --shared and the --draft-min-side experiment knob."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    parser.add_argument(
        "--draft-min-side",
        type=int,
        default=imagehash_math.DRAFT_MIN_SIDE,
        help="experiment: the side phash's JPEG draft keeps (reproduces the README's trade-off)",
    )
    return parser


def parse(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parses the command line and applies the experiment knob."""
    args = parser.parse_args()
    imagehash_math.DRAFT_MIN_SIDE = args.draft_min_side
    return args
