"""`cronium`: the command line of Cronium's API. Every command says what it
does in `--help`; exit codes are in `exits.py` (and the README)."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

import typer

from cronium_cli import ascode, config, exits, events, jobs, mcp_bridge, tokens, variables, workflows
from cronium_cli.client import Api
from cronium_cli.exits import CliError
from cronium_cli.output import err

EPILOG = (
    "Exit codes: 0 done; with --follow, the script's own exit code; 1 the job failed without one; "
    "2 bad usage; 65 refused by the server (not found, invalid); 69 server unreachable; 70 server error; "
    "75 busy, try later; 77 not signed in; 124 the job timed out; 125 cancelled; 130 interrupted."
)

app = typer.Typer(
    name="cronium",
    help="Cronium from the terminal: run events and follow their logs, list jobs, keep events as code. "
         "Sign in once with `cronium login`; CRONIUM_URL and CRONIUM_TOKEN override what it stored.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(events.app, name="events")
app.add_typer(jobs.app, name="jobs")
app.add_typer(workflows.app, name="workflows")
app.add_typer(variables.app, name="variables")
app.add_typer(tokens.app, name="tokens")
app.command("run", help=events.RUN_HELP, epilog=EPILOG)(events.run)
app.command("export")(ascode.export)
app.command("apply", epilog=EPILOG)(ascode.apply)


@app.command()
def login(
    url: str = typer.Option(None, "--url", help=f"The server's address (default: CRONIUM_URL, the stored one, "
                                                 f"or {config.DEFAULT_URL})."),
    token: str = typer.Option(None, "--token", help="An API token (crn_...); asked for when left out. "
                                                     "Make one in the web UI's Settings or with `cronium tokens create`."),
    email: str = typer.Option(None, "--email", help="Sign in with this account's password instead "
                                                     "(asked for), and store a new token named 'cronium-cli'."),
) -> None:
    """Store the server's URL and an API token for the other commands
    (in your config directory, readable by you alone)."""
    url = (url or config.load().url).rstrip("/")
    if email:
        password = typer.prompt("Password", hide_input=True)
        reply = Api(url, None).post("/api/v1/auth/login",
                                    {"email": email, "password": password, "tokenName": "cronium-cli"})
        token = reply["token"]
    elif not token:
        token = typer.prompt("API token", hide_input=True)
    api = Api(url, token.strip())
    api.get("/api/v1/tokens")  # refused (77) when the token is not good
    path = config.store(url, token.strip())
    err.print(f"Signed in to {url}; the token is in {path} (mode 0600).", markup=False)


@app.command("mcp")
def mcp() -> int:
    """Serve the Model Context Protocol on stdin/stdout for a local AI app
    (Claude Desktop, Claude Code...), forwarding to this server's /api/mcp
    with your token: set CRONIUM_URL and CRONIUM_TOKEN (a token limited to
    MCP, made in Settings or with `cronium tokens create --mcp`), or use the
    stored ones."""
    return mcp_bridge.serve()


@app.command()
def logout() -> None:
    """Forget the stored URL and token (the token itself stays valid: revoke
    it with `cronium tokens revoke` or in Settings)."""
    err.print("Forgot the stored token." if config.forget() else "No token was stored.", markup=False)


def _run(entry: Callable[[], Any]) -> int:
    try:
        result = entry()
        return result if isinstance(result, int) else 0
    except CliError as exc:
        err.print(f"error: {exc.message}", style="red", markup=False)
        return exc.code
    except KeyboardInterrupt:
        err.print("interrupted", markup=False)
        return exits.INTERRUPTED
    except json.JSONDecodeError as exc:
        err.print(f"error: not JSON: {exc}", style="red", markup=False)
        return exits.USAGE


def main() -> None:
    # Commands return their exit code (typer passes it on with standalone_mode off).
    def entry() -> Any:
        return app(standalone_mode=False)

    try:
        code = _run(entry)
    except typer.Exit as done:
        code = done.exit_code
    except Exception as exc:  # click's usage errors, with their message and code 2
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        code = getattr(exc, "exit_code", exits.USAGE)
    sys.exit(code)
