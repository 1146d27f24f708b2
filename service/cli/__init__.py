"""The `neardup` command line: one entry point, one module per subcommand.

    neardup hash [--algorithm NAME] [--orientations] PATH...
    neardup build SOURCE... [--data-dir DIR | --server HOST[:PORT]] [--collection NAME]
                  [--algorithm NAME] [--id-prefix P] [--errors FILE] [--update]
    neardup report [--data-dir DIR | --server HOST[:PORT]] [--collection NAME] [--radius R]
                   [--strict] [--json FILE] [--csv FILE] [--html FILE]
    neardup search [--data-dir DIR | --server HOST[:PORT]] (IMAGE | --hash HEX | --id ID)
                   [--collection NAME] [--k K] [--radius R] [--exact] [--orientations] [--json]
    neardup serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE]
    neardup add PATH... [--server HOST[:PORT]] [--collection NAME] [--replace | --skip-existing]
    neardup delete ID... [--server HOST[:PORT]] [--collection NAME]
    neardup stats [--server HOST[:PORT]] [--collection NAME]
    neardup collections (create|list|show|drop) [NAME] [--data-dir DIR | --server HOST[:PORT]]
    neardup token NAME [--scopes read,write,admin]

Commands that talk to a server ask --server, else $NEARDUP_SERVER, else the address `neardup
serve` listens on by default; those that can open a data dir do so with --data-dir. Every
refusal is one line on stderr and exit status 2 (`parser.py`).

Each command's module declares its arguments (`add_arguments`) beside its code (`run`), and
is imported only when its command runs: `neardup --help` imports no command, `neardup hash`
loads neither FAISS nor SQLite nor gRPC, and only commands that talk to a server load gRPC.
Output formats are part of the interface (scripts parse them); see each command's help.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module

from neardup.index.errors import AlreadyExists, NeardupError, NotFound, Unavailable

from .parser import CommandParser, Refused, hint_for, print_refusal

__all__ = ["main"]

# command -> its one-line help; the module of the same name (`neardup.service.cli.<name>`)
# has the description (its docstring), `add_arguments(parser)` and `run(args) -> int`, and
# may map request fields to its own arguments (`FLAGS`, see `parser.flag_of`).
COMMANDS = {
    "hash": "print the perceptual hash of image files",
    "build": "index image libraries into a data dir or a running server",
    "report": "report a collection's duplicate groups (JSON, CSV, HTML)",
    "search": "find the stored images nearest to an image, a hash or an id",
    "add": "store image files in a running server",
    "delete": "delete stored ids in a running server",
    "stats": "print a collection's figures (JSON)",
    "collections": "create, list, show and drop collections",
    "token": "make a bearer token for the server's tokens file",
    "serve": "run the gRPC server",
}


def _parser(selected: str | None) -> argparse.ArgumentParser:
    """The parser, with the arguments of the selected command only (the others are named
    and summarised, not imported)."""
    parser = CommandParser(prog="neardup", description="Near-duplicate image search.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if name != selected:
            commands.add_parser(name, help=summary)
            continue
        module = import_module(f".{name}", __name__)
        command = commands.add_parser(name, help=summary, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run, flags=getattr(module, "FLAGS", {}))
    return parser


def _refusal(exc: BaseException) -> tuple[str, str, str] | None:
    """A refused request's message, field and hint; None for an exception that is not a
    refusal (a bug: its traceback is shown)."""
    if isinstance(exc, Refused):
        return str(exc), "", exc.hint
    if isinstance(exc, NeardupError):
        kind = next((code for t, code in _KINDS if isinstance(exc, t)), "")
        return str(exc), exc.field, hint_for(kind, exc.field)
    client = sys.modules.get("neardup.service.client")  # imported only by server commands
    if client is not None and isinstance(exc, client.NeardupRpcError):
        return exc.message, exc.field, hint_for(exc.code.name, exc.field)
    return None


# The engine's errors that a hint is keyed on, by the status code the server gives them.
_KINDS = ((NotFound, "NOT_FOUND"), (AlreadyExists, "ALREADY_EXISTS"), (Unavailable, "UNAVAILABLE"))


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (2 for a refused request or a usage mistake,
    printed as one line)."""
    logging.basicConfig(level=logging.WARNING, format="neardup: %(message)s")
    # Pillow's warning for pictures past 89 MP: the decoder's own pixel limit decides (a
    # message filter: the category would import Pillow for every command).
    warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit")
    arguments = list(sys.argv[1:] if argv is None else argv)
    selected = arguments[0] if arguments and arguments[0] in COMMANDS else None
    args = _parser(selected).parse_args(arguments)
    try:
        status: int = args.run(args)
    except OSError as exc:
        print(f"neardup: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        found = _refusal(exc)
        if found is None:
            raise
        print_refusal(*found, flags=args.flags)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
