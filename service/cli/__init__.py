"""The `neardup` command line: one entry point, one module per subcommand.

    neardup hash [--algorithm NAME] [--orientations] PATH...
    neardup build SOURCE... (--data-dir DIR | --server HOST:PORT) [--collection NAME]
                  [--algorithm NAME] [--id-prefix P] [--errors FILE] [--update]
    neardup report (--data-dir DIR | --server HOST:PORT) [--collection NAME] [--radius R]
                   [--strict] [--json FILE] [--csv FILE] [--html FILE]
    neardup search (--data-dir DIR | --server HOST:PORT) (IMAGE | --hash HEX | --id ID)
                   [--collection NAME] [--k K] [--radius R] [--exact] [--orientations] [--json]
    neardup serve [--data-dir DIR] [--listen HOST:PORT] [--config FILE]
    neardup add PATH... --server HOST:PORT [--collection NAME] [--replace | --skip-existing]
    neardup delete ID... --server HOST:PORT [--collection NAME]
    neardup stats --server HOST:PORT [--collection NAME]
    neardup token NAME [--scopes read,write,admin]

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

from neardup.index.errors import NeardupError

__all__ = ["main"]

# command -> its one-line help; the module of the same name (`neardup.service.cli.<name>`)
# has the description (its docstring), `add_arguments(parser)` and `run(args) -> int`.
COMMANDS = {
    "hash": "print the perceptual hash of image files",
    "build": "index image libraries into a data dir or a running server",
    "report": "report a collection's duplicate groups (JSON, CSV, HTML)",
    "search": "find the stored images nearest to an image, a hash or an id",
    "add": "store image files in a running server",
    "delete": "delete stored ids in a running server",
    "stats": "print a collection's figures (JSON)",
    "token": "make a bearer token for the server's tokens file",
    "serve": "run the gRPC server",
}


def _parser(selected: str | None) -> argparse.ArgumentParser:
    """The parser, with the arguments of the selected command only (the others are named
    and summarised, not imported)."""
    parser = argparse.ArgumentParser(prog="neardup", description="Near-duplicate image search.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if name != selected:
            commands.add_parser(name, help=summary)
            continue
        module = import_module(f".{name}", __name__)
        command = commands.add_parser(name, help=summary, description=module.__doc__)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def _refusals() -> tuple[type[BaseException], ...]:
    """What a refused request raises: the engine's errors, and the server's when a command
    has loaded the client (it is not imported otherwise)."""
    client = sys.modules.get("neardup.service.client")
    return (NeardupError,) if client is None else (NeardupError, client.NeardupRpcError)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the CLI; returns the exit status (2 for a refused request)."""
    logging.basicConfig(level=logging.WARNING, format="neardup: %(message)s")
    # Pillow's warning for pictures past 89 MP: the decoder's own pixel limit decides (a
    # message filter: the category would import Pillow for every command).
    warnings.filterwarnings("ignore", message=r"Image size \(\d+ pixels\) exceeds limit")
    arguments = list(sys.argv[1:] if argv is None else argv)
    selected = arguments[0] if arguments and arguments[0] in COMMANDS else None
    args = _parser(selected).parse_args(arguments)
    try:
        status: int = args.run(args)
    except _refusals() as exc:
        print(f"neardup: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"neardup: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(main())
