"""The documentation names only what exists: every flag it shows a `neardup` command with is
that command's, every setting and environment variable is the server's or the CLI's, and
the pages written from the code (the CLI, the configuration, the RPC table) are current."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
from neardup.service.config import ServerConfig

from scripts.tools.reference_docs import CLI_ENVIRONMENT, PAGES, command_parsers

ROOT = Path(__file__).resolve().parents[1]
# What a person reads: the README and the pages of docs/ (the benchmark pages are what the
# scripts printed, under the commands that printed it).
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SETTINGS = {f.name for f in fields(ServerConfig)}
ENVIRONMENT = (
    {f"NEARDUP_{name.upper()}" for name in SETTINGS}
    | set(CLI_ENVIRONMENT)
    | {
        "NEARDUP_BENCH_PAGES"  # where benchmarks publish (scripts/bench/common.py)
    }
)


def code_of(text: str) -> list[str]:
    """The code in a page: its fenced blocks' lines and its inline code spans."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    prose = re.sub(r"```[a-z]*\n.*?```", "", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines()] + re.findall(
        r"`([^`\n]+)`", prose
    )


def command_flags() -> dict[str, set[str]]:
    """Each command's flags; a command with subcommands has theirs too."""
    flags: dict[str, set[str]] = {}
    for name, parser in command_parsers().items():
        options = {o for action in parser._actions for o in action.option_strings}
        flags.setdefault(name.split()[0], set()).update(options)
    return flags


def invocations(line: str) -> list[tuple[str, list[str]]]:
    """The `neardup COMMAND ...` invocations on a line, with the flags each passes."""
    found = []
    for part in re.split(r"[|;&]|\s#", line):
        match = re.search(r"(?:^|[\s/])neardup\s+([a-z]+)\b(.*)", part)
        if match:
            found.append((match.group(1), re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", match[2])))
    return found


@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_pages_written_from_the_code_are_current(page: str) -> None:
    assert (ROOT / "docs" / page).read_text() == PAGES[page](), (
        f"docs/{page} is stale: run python -m scripts.tools.reference_docs"
    )


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_flag_a_document_shows_a_command_with_is_that_command_s(document: Path) -> None:
    flags = command_flags()
    wrong = [
        (command, flag, line)
        for line in code_of(document.read_text())
        for command, passed in invocations(line)
        if command in flags
        for flag in passed
        if flag not in flags[command]
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_environment_variable_and_setting_a_document_names_exists(document: Path) -> None:
    text = document.read_text()
    unknown_variables = set(re.findall(r"NEARDUP_[A-Z_]+[A-Z]", text)) - ENVIRONMENT
    assert not unknown_variables
    # settings as a TOML file or a `key = value` span writes them
    toml = [
        line
        for block in re.findall(r"```toml\n(.*?)```", text, flags=re.S)
        for line in block.splitlines()
    ]
    spans = re.findall(r"`([a-z_]+ = (?:\"[^\"`]*\"|[\d.]+))`", text)
    assignments = {
        match[1] for line in toml + spans if (match := re.match(r"\s*([a-z_]+)\s*=", line))
    }
    assert not assignments - SETTINGS, assignments - SETTINGS


def test_a_misnamed_flag_setting_or_variable_would_be_found() -> None:
    """The checks above read what a page says, so a page that names a flag, a setting or a
    variable that does not exist fails them."""
    flags = command_flags()
    assert invocations("neardup search a.jpg --radius 8 --server x") == [
        ("search", ["--radius", "--server"])
    ]
    assert "--radius" in flags["search"] and "--distance" not in flags["search"]
    assert code_of('run `log_calls = "all"`') == ['log_calls = "all"']
    assert "log_call" not in SETTINGS and "log_calls" in SETTINGS
    assert "NEARDUP_LISTEN" in ENVIRONMENT and "NEARDUP_PORT" not in ENVIRONMENT


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_link_to_a_file_of_the_repository_leads_to_one(document: Path) -> None:
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text())
    local = [link for link in links if "://" not in link]
    missing = [link for link in local if not (document.parent / link).exists()]
    assert not missing, missing
