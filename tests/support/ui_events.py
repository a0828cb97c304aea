"""A browser tab's websocket without the browser: Reflex's socket.io
protocol on /_event, speaking to the real app, so that a test can send any
UI event handler by name with the arguments it chooses, as a page's
scripts (or someone who rewrote them) would.

Engine.IO v4 over a websocket carries text packets: "0{...}" opens, "2" is
the server's ping (answered "3"), "4..." a socket.io packet: "40/_event,"
connects to Reflex's namespace, '42/_event,["event", {...}]' is an event
either way.

A tab's events are processed one after another (each holds the tab's state
lock while it runs, yields included), so a short event sent after an action
comes back only once the action is done: `call` waits for that marker
(`AppState.set_shortcuts_open`, whose value shows in the reply), or for the
page reload the app orders when the tab's session has ended (the session
check runs before the handler, which then never runs)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import simple_websocket

from reflex_base.event import EventHandler
from reflex_base.utils.format import format_event_handler

from cronium_app.auth.sessions import SESSION_COOKIE
from cronium_app.state.base import AppState

NAMESPACE = "/_event"
RELOAD = "window.location.reload()"


def _find_key(delta: Any, prefix: str) -> list[Any]:
    """The values of every key starting with `prefix` anywhere in `delta`."""
    found: list[Any] = []
    if isinstance(delta, dict):
        for key, value in delta.items():
            if isinstance(key, str) and key.startswith(prefix):
                found.append(value)
            found.extend(_find_key(value, prefix))
    return found


@dataclass
class UiTab:
    port: int
    cookie: str | None = None  # the session cookie's value; None: nobody signed in
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    updates: list[dict[str, Any]] = field(default_factory=list)
    _ws: simple_websocket.Client | None = None
    _marker: bool = False

    def __enter__(self) -> "UiTab":
        headers = {"Origin": f"http://localhost:{self.port}"}
        if self.cookie:
            headers["Cookie"] = f"{SESSION_COOKIE}={self.cookie}"
        self._ws = simple_websocket.Client.connect(
            f"ws://127.0.0.1:{self.port}/_event/?EIO=4&transport=websocket&token={self.token}", headers=headers
        )
        # The namespace's connect goes out before the server's "open" packet
        # is read: that packet may have come in with the handshake's reply,
        # where simple_websocket leaves it unread until more data arrives
        # (the answer to this connect; else the server's ping, 25 s later).
        self._ws.send(f"40{NAMESPACE},")
        while not self._receive_packet(60).startswith(f"40{NAMESPACE},"):
            pass
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _receive_packet(self, timeout: float) -> str:
        assert self._ws is not None
        while True:
            packet = self._ws.receive(timeout=timeout)
            if packet is None:
                raise TimeoutError("the app sent nothing")
            if packet == "2":
                self._ws.send("3")
                continue
            return packet

    def send(self, handler: EventHandler, payload: dict[str, Any] | None = None, *, path: str = "/") -> None:
        """Send `handler` (e.g. `VariablesState.save`) as the page at `path` would."""
        assert self._ws is not None
        event = {
            "name": format_event_handler(handler),
            "payload": payload or {},
            "router_data": {"pathname": path, "asPath": path, "query": {}},
        }
        self._ws.send(f"42{NAMESPACE}," + json.dumps(["event", event]))

    def _next_update(self, deadline: float) -> dict[str, Any]:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no reply from the app in time")
            packet = self._receive_packet(remaining)
            if packet.startswith(f"42{NAMESPACE},"):
                name, body = json.loads(packet[len(NAMESPACE) + 3:])[:2]
                if name == "event":
                    self.updates.append(body)
                    return body

    def call(self, handler: EventHandler, payload: dict[str, Any] | None = None, *, path: str = "/",
             timeout: float = 60) -> list[dict[str, Any]]:
        """Send one event and wait until the app is done with it; the
        updates it sent meanwhile."""
        first = len(self.updates)
        self.send(handler, payload, path=path)
        self._marker = not self._marker
        self.send(AppState.set_shortcuts_open, {"value": self._marker}, path=path)
        deadline = time.monotonic() + timeout
        while True:
            update = self._next_update(deadline)
            if self._marker in _find_key(update.get("delta") or {}, "shortcuts_open"):
                return self.updates[first:]
            if self.reloaded(update):
                return self.updates[first:]

    @staticmethod
    def reloaded(update: dict[str, Any]) -> bool:
        """Whether the app told the page to load again (a session that ended)."""
        return any(RELOAD in json.dumps(event.get("payload", {})) for event in update.get("events") or [])
