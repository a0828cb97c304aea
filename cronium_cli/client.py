"""The HTTP side: one client per command, every failure turned into a
one-line message and an exit code."""

from __future__ import annotations

from typing import Any

import httpx

from cronium_cli import config, exits
from cronium_cli.exits import CliError, Unreachable

CLI_USER_AGENT = "cronium-cli/1"


def _message(response: httpx.Response) -> str:
    try:
        error = response.json()["error"]
        return str(error.get("message") or error.get("code"))
    except (ValueError, KeyError, TypeError):
        return response.text.strip()[:300] or response.reason_phrase


def _code_for(status: int) -> int:
    if status == 401:
        return exits.NOT_SIGNED_IN
    if status in (429, 503):
        return exits.TRY_LATER
    if status >= 500:
        return exits.SERVER_ERROR
    return exits.REFUSED


class Api:
    def __init__(self, url: str, token: str | None, *, timeout: float = 30):
        self.url = url
        self.http = httpx.Client(
            base_url=url, timeout=timeout,
            # The app's audit log tells the command line from other API clients by it.
            headers={"User-Agent": CLI_USER_AGENT, **({"Authorization": f"Bearer {token}"} if token else {})},
        )

    @classmethod
    def from_config(cls) -> "Api":
        cfg = config.load()
        if not cfg.token:
            raise CliError("not signed in: run `cronium login` (or set CRONIUM_TOKEN)", exits.NOT_SIGNED_IN)
        return cls(cfg.url, cfg.token)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {self.url}: {exc or type(exc).__name__}") from None
        if response.status_code >= 400:
            message = _message(response)
            if response.status_code == 401:
                message += " (run `cronium login`)"
            if retry := response.headers.get("retry-after"):
                message += f" (try again in {retry} s)"
            if response.status_code in (502, 504):
                raise Unreachable(f"{self.url}: {response.status_code} {message}")
            raise CliError(message, _code_for(response.status_code))
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.request("POST", path, json=body, **kwargs)

    def paged(self, path: str, *, limit: int, **params: Any) -> list[dict[str, Any]]:
        """Up to `limit` items of a list the API pages by offset."""
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            page = self.get(path, limit=min(200, limit - len(items)), offset=len(items), **params)
            items.extend(page["items"])
            if len(page["items"]) < page["limit"]:
                break
        return items

    def find_event(self, ref: str) -> dict[str, Any]:
        return self._find("/api/v1/events", "event", ref)

    def find_workflow(self, ref: str) -> dict[str, Any]:
        return self._find("/api/v1/workflows", "workflow", ref)

    def _find(self, path: str, kind: str, ref: str) -> dict[str, Any]:
        """An event or a workflow by id, or by its exact name."""
        if ref.isdigit():
            return self.get(f"{path}/{ref}")
        matches = [item for item in self.paged(path, limit=10_000, q=ref) if item["name"] == ref]
        if not matches:
            raise CliError(f"no {kind} named {ref!r}", exits.REFUSED)
        if len(matches) > 1:
            ids = ", ".join(str(m["id"]) for m in matches)
            raise CliError(f"{len(matches)} {kind}s are named {ref!r} (ids {ids}): give the id", exits.REFUSED)
        return self.get(f"{path}/{matches[0]['id']}")
