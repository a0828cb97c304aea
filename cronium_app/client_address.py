"""Where a request comes from, for the audit log, the sign-in throttles and
the terminal's record: one rule for every way in (the REST API, MCP, the
terminal's websocket)."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from cronium_app.settings import Settings


def client_address(request: HTTPConnection, settings: Settings) -> str:
    """The peer's address, or behind CRONIUM_TRUSTED_PROXY_HOPS reverse
    proxies the address the farthest of them saw (X-Forwarded-For entries
    before that are the client's to make up)."""
    peer = request.client.host if request.client else "unknown"
    hops = settings.trusted_proxy_hops
    if not hops:
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    return forwarded[-hops] if len(forwarded) >= hops else peer
