"""`cronium --help` and every subcommand's help are complete: each command
says what it does, and each option and argument says what it takes."""

from __future__ import annotations

import typer.main
from typer.testing import CliRunner

from cronium_cli.main import app
from tests.unit.test_worker_boundaries import APP_PACKAGE, _modules_loaded_by

ROOT = typer.main.get_command(app)


def commands(command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    """Every command below `command` (typer's own click), with its path of names."""
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found.extend(commands(sub, (*path, name)))
    return found


ALL = commands(ROOT)


def test_the_command_tree_has_every_command_the_readme_lists():
    names = {" ".join(path) for path, _ in ALL}
    assert {"login", "logout", "run", "export", "apply", "events ls", "events show", "events run", "jobs ls",
            "jobs show", "jobs logs", "jobs cancel", "workflows ls", "workflows run", "variables get",
            "variables set", "variables export", "variables ls", "tokens ls", "tokens create",
            "tokens revoke"} <= names


def test_every_command_option_and_argument_has_help():
    missing = []
    for path, command in ALL:
        if not (command.help or "").strip():
            missing.append(" ".join(path) or "cronium")
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip() and param.name != "help":
                missing.append(f"{' '.join(path)} {param.name}")
    assert missing == []


def test_help_prints_for_each_command_with_the_exit_codes_at_the_top():
    runner = CliRunner()
    for path, _command in ALL:
        result = runner.invoke(app, [*path, "--help"], prog_name="cronium")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: cronium" in result.output
    top = runner.invoke(app, ["--help"], prog_name="cronium").output
    assert "Exit codes:" in top and "124 the job timed out" in top


def test_the_command_line_loads_nothing_of_the_app():
    # It installs alone (pyproject.toml): a client of the HTTP API only.
    loaded = _modules_loaded_by("import cronium_cli.main")
    assert "typer" in loaded and loaded & {APP_PACKAGE, "orchestrator_worker", "sqlmodel", "reflex"} == set()
