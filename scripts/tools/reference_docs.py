"""Writes the reference that is a fact of the code, from the code: docs/cli.md (every
command, subcommand and flag, from the CLI's own parsers), docs/configuration.md (every
server setting with its environment variable and default, from `ServerConfig`), and the
table of RPCs in docs/service.md (from the contract's comments).

    python -m scripts.tools.reference_docs          # rewrite both pages
    python -m scripts.tools.reference_docs --check  # exit 1 when a page is stale

tests/test_docs.py fails while a page differs from what this writes.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import MISSING, fields

from scripts import ROOT

DOCS = ROOT / "docs"
# The environment variables the CLI reads itself (the server's are NEARDUP_<SETTING>).
CLI_ENVIRONMENT = {
    "NEARDUP_SERVER": "the server client commands ask when --server is not given "
    "(default: 127.0.0.1:50051, where `neardup serve` listens)",
    "NEARDUP_TOKEN": "the bearer token client commands send when --token is not given",
}


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser (and every subcommand's, as "command action"), by name."""
    from neardup.service.cli import COMMANDS, _parser

    found: dict[str, argparse.ArgumentParser] = {}
    for name in COMMANDS:
        command = _subparsers(_parser(name))[name]
        found[name] = command
        for action, sub in _subparsers(command).items():
            found[f"{name} {action}"] = sub
    return found


def _flag_rows(parser: argparse.ArgumentParser) -> list[str]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        names = ", ".join(action.option_strings) or (action.metavar or action.dest)
        if action.option_strings and action.nargs != 0:
            names += f" {action.metavar or action.dest.upper()}"
        default = action.default
        shown = "" if default in (None, False, "", argparse.SUPPRESS) else f"`{default}`"
        choices = f" One of: {', '.join(map(str, action.choices))}." if action.choices else ""
        text = (action.help or "").replace("|", "\\|") + choices
        rows.append(f"| `{names}` | {text} | {shown} |")
    return rows


def cli_page() -> str:
    """docs/cli.md."""
    from neardup.service.cli import COMMANDS

    parts = [
        "# The `neardup` command\n",
        "Written by `python -m scripts.tools.reference_docs` from the CLI's own parsers; "
        "`neardup COMMAND --help` prints the same.\n",
        "Every refusal is one line on stderr naming the flag to change, and exit status 2; "
        "commands that talk to a server ask `--server`, else `$NEARDUP_SERVER`, else "
        "127.0.0.1:50051 (where `neardup serve` listens); a host without a port gets port "
        "50051.\n",
    ]
    for name, parser in command_parsers().items():
        top = name.split()[0]
        summary = COMMANDS[top] if name == top else (parser.description or "")
        usage = " ".join(parser.format_usage().split())[len("usage: ") :]
        parts.append(f"## `neardup {name}`\n\n{summary[0].upper()}{summary[1:]}.\n")
        parts.append(f"```text\n{usage}\n```\n")
        if parser.description and name == top:
            parts.append(" ".join(parser.description.split()) + "\n")
        rows = _flag_rows(parser)
        if rows:
            parts.append("| argument | what | default |\n|---|---|---|\n" + "\n".join(rows) + "\n")
    return "\n".join(parts)


def setting_notes() -> dict[str, str]:
    """Each ServerConfig field's line of its docstring ("name[, name]: text")."""
    from neardup.service.config import ServerConfig

    notes: dict[str, str] = {}
    doc = (ServerConfig.__doc__ or "").split("\n\n", 1)[1]
    for entry in re.split(r"\n(?=\s*[a-z_]+(?:, [a-z_]+)*: )", doc):
        head, _, text = entry.strip().partition(": ")
        for name in head.split(", "):
            notes[name] = " ".join(text.split())
    return notes


def configuration_page() -> str:
    """docs/configuration.md."""
    from neardup.service.config import ServerConfig

    notes = setting_notes()
    rows = []
    for field in fields(ServerConfig):
        default = field.default if field.default is not MISSING else "(computed)"
        if field.name in ("workers", "hash_processes"):
            default = "one per core"
        rows.append(
            f"| `{field.name}` | `NEARDUP_{field.name.upper()}` | `{default}` | "
            f"{notes.get(field.name, '')} |"
        )
    cli = "\n".join(f"| `{name}` | {text} |" for name, text in CLI_ENVIRONMENT.items())
    return (
        "# Configuration\n\n"
        "Written by `python -m scripts.tools.reference_docs` from `ServerConfig` "
        "(`service/config.py`), the one configuration object of the server.\n\n"
        "A server's settings come from, later ones winning: the defaults below, a TOML file "
        "(`neardup serve --config FILE`, the names below as keys), environment variables "
        "(`NEARDUP_<SETTING>`), and `neardup serve`'s flags. A setting out of its bounds "
        "stops the server before it serves, with a message naming it.\n\n"
        '```toml\n# neardup.toml\nlisten = "127.0.0.1:50051"\ndata_dir = "data"\n'
        'workers = 2\nlog_calls = "problems"\n```\n\n'
        "| setting | environment | default | what |\n|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n## The command line's own variables\n\n| variable | what |\n|---|---|\n"
        + cli
        + "\n"
    )


def rpcs_table() -> str:
    """Every RPC of the contract with its comment, as a table (in docs/service.md)."""
    proto = (ROOT / "proto" / "neardup" / "v1" / "neardup.proto").read_text()
    body = proto[
        proto.index("service Neardup {") : proto.index("\n}\n", proto.index("service Neardup {"))
    ]
    rows, comment = [], []
    for line in body.splitlines()[1:]:
        line = line.strip()
        if line.startswith("//"):
            comment.append(line.removeprefix("//").strip())
        elif line.startswith("rpc "):
            match = re.match(r"rpc (\w+)\((stream )?(\w+)\) returns \((stream )?(\w+)\)", line)
            assert match, line
            name, streamed_in, request, streamed_out, response = match.groups()
            shape = f"{streamed_in or ''}{request} -> {streamed_out or ''}{response}"
            rows.append(f"| `{name}` | `{shape}` | {' '.join(comment)} |")
            comment = []
    return "| RPC | request -> response | what |\n|---|---|---|\n" + "\n".join(rows) + "\n"


_RPCS_START = "<!-- rpcs: written by scripts/tools/reference_docs.py -->\n"
_RPCS_END = "<!-- /rpcs -->\n"


def service_page() -> str:
    """docs/service.md with its RPC table brought up to date (the rest is written by hand)."""
    page = (DOCS / "service.md").read_text()
    head, _, rest = page.partition(_RPCS_START)
    _, _, tail = rest.partition(_RPCS_END)
    return head + _RPCS_START + rpcs_table() + _RPCS_END + tail


PAGES = {"cli.md": cli_page, "configuration.md": configuration_page, "service.md": service_page}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a page is stale")
    args = parser.parse_args()
    stale = []
    for name, page in PAGES.items():
        text = page()
        path = DOCS / name
        if path.exists() and path.read_text() == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print(f"stale: {', '.join(stale)}; run python -m scripts.tools.reference_docs")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
