"""The browser terminal: xterm.js (npm: @xterm/xterm, @xterm/addon-fit)
in a small React component of our own (terminal.jsx, beside this file),
which opens the websocket to /api/terminal/{server_id} itself.

The page learns what happens through `on_status(kind, reason)`: kind is
"connecting", "open" or "closed" (with why). Give the component a new `key`
to connect again."""

from __future__ import annotations

import reflex as rx

_SOURCE = rx.asset("terminal.jsx", shared=True)


class XTerm(rx.NoSSRComponent):
    library = _SOURCE.importable_path
    tag = "CroniumTerminal"
    lib_dependencies: list[str] = ["@xterm/xterm@6.0.0", "@xterm/addon-fit@0.11.0"]

    # The websocket's path (/api/terminal/{server_id}).
    path: rx.Var[str]
    # False closes the connection (the text stays on screen).
    active: rx.Var[bool]
    # The accessible name of the terminal's region.
    label: rx.Var[str]

    on_status: rx.EventHandler[rx.event.passthrough_event_spec(str, str)]


def terminal(path, active, label, on_status, key, **props) -> rx.Component:
    return XTerm.create(path=path, active=active, label=label, on_status=on_status, key=key, **props)
