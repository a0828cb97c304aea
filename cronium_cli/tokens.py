"""`cronium tokens ...`."""

from __future__ import annotations

import typer

from cronium_cli.client import Api
from cronium_cli.options import AS_JSON
from cronium_cli.output import emit, err, out, table

app = typer.Typer(help="API tokens: list, create (shown once), revoke.", no_args_is_help=True)

COLUMNS = [("id", "ID"), ("name", "NAME"), ("prefix", "PREFIX"), ("workspaceName", "WORKSPACE"), ("role", "ROLE"),
           ("createdAt", "CREATED"), ("lastUsedAt", "LAST USED"), ("expiresAt", "EXPIRES"), ("scopes", "SCOPES")]


@app.command("ls")
def list_tokens(as_json: bool = AS_JSON) -> None:
    """List your API tokens (never the tokens themselves)."""
    items = Api.from_config().get("/api/v1/tokens")["items"]
    emit(items, as_json, lambda rows: table(rows, COLUMNS, empty="No tokens."))


@app.command("create")
def create_token(
    name: str = typer.Argument(..., help="A name to tell it apart (e.g. 'ci')."),
    expires_at: str = typer.Option(None, "--expires-at", help="When it stops working, ISO 8601 "
                                                              "(e.g. 2027-01-01T00:00:00Z); never when left out."),
    mcp: bool = typer.Option(False, "--mcp", help="Limit it to MCP: it may call /api/mcp (what `cronium mcp` "
                                                  "and AI apps use) and nothing else."),
    as_json: bool = AS_JSON,
) -> None:
    """Create an API token and print it (it is shown this once)."""
    body = {"name": name, "expiresAt": expires_at, **({"scopes": ["mcp"]} if mcp else {})}
    made = Api.from_config().post("/api/v1/tokens", body)

    def human(row: dict) -> None:
        out.print(row["token"], markup=False)
        err.print(f"token {row['id']} ({row['name']}): store it now, it is not shown again", markup=False)

    emit(made, as_json, human)


@app.command("revoke")
def revoke_token(token_id: int = typer.Argument(..., help="The token's id (see `cronium tokens ls`).")) -> None:
    """Revoke a token: requests made with it are refused from now on."""
    Api.from_config().request("DELETE", f"/api/v1/tokens/{token_id}")
    err.print(f"token {token_id} revoked", markup=False)
