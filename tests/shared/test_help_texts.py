"""Every help text of every command reaches `--help` as declared: Typer renders help with rich
markup, which reads square brackets such as ``regapps[mlflow]`` as a style tag and drops them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _commands(sub, (*path, name))


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_help_text_appears_intact(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer
    from regapps.apps.cli import app

    monkeypatch.setenv("COLUMNS", "5000")  # one line per option: nothing wraps
    monkeypatch.setenv("NO_COLOR", "1")
    commands = list(_commands(typer.main.get_command(app)))
    assert len(commands) >= 15  # the root, three apps and their commands
    checked = 0
    for path, command in commands:
        result = cli(*path, "--help")
        assert result.code == 0, (path, result.stderr)
        shown = _flat(result.stdout)
        first = (command.help or "").split("\n\n")[0]
        assert _flat(first) in shown, (path, first)
        for param in command.params:
            declared = getattr(param, "help", None)
            if declared:
                assert _flat(declared) in shown, (path, param.name, declared)
                checked += 1
    assert checked > 100
    assert "(needs regapps[mlflow])" in _flat(cli("image", "train", "--help").stdout)
