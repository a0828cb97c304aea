"""The relay between the browser's websocket and the shell.

Frames, both ways bounded:
- browser → app: a binary frame is input for the shell (keys, a paste), at
  most MAX_INPUT_FRAME bytes; a text frame is a control message, JSON, at
  most MAX_CONTROL_FRAME bytes: `{"type": "resize", "cols": C, "rows": R}`.
- app → browser: binary frames of the shell's output, at most OUTPUT_CHUNK
  bytes each; text frames of JSON status (`ready`, `closed`).

The relay ends at the first of: the shell ends, the browser leaves, a frame
breaks the rules, no input for the idle time, or the sign-in or access no
longer holds (checked every CRONIUM_TERMINAL_RECHECK_SECONDS).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncssh

from cronium_app.terminal.shell import Shell, TerminalSize

logger = logging.getLogger(__name__)

MAX_INPUT_FRAME = 64 * 1024
MAX_CONTROL_FRAME = 1024
OUTPUT_CHUNK = 32 * 1024


class Close:
    """Close codes the page tells apart (4000-4999 are the application's)."""

    SHELL_ENDED = 1000
    BROWSER_LEFT = 1001
    BAD_MESSAGE = 4400
    SIGNED_OUT = 4401
    NOT_FOUND = 4404
    IDLE = 4408
    TOO_LARGE = 4413
    TOO_MANY = 4429
    NO_SHELL = 4502
    FAILED = 1011


@dataclass(frozen=True)
class Ending:
    code: int
    reason: str


def idle_words(seconds: float) -> str:
    """The idle time as the page and the close reason say it."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"


class Relay:
    def __init__(
        self,
        websocket: Any,
        shell: Shell,
        *,
        idle_s: float,
        recheck_s: float,
        still_valid: Callable[[], Awaitable[str | None]],
    ):
        self.websocket = websocket
        self.shell = shell
        self.idle_s = idle_s
        self.recheck_s = recheck_s
        self.still_valid = still_valid
        self.last_input = time.monotonic()
        self.bytes_in = 0
        self.bytes_out = 0

    async def run(self) -> Ending:
        tasks = [
            asyncio.create_task(self._from_browser()),
            asyncio.create_task(self._from_shell()),
            asyncio.create_task(self._watch()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        first = next(iter(done))
        if first.exception() is not None:
            # A failure of ours (the database unreachable for the recheck, say):
            # the terminal closes saying so, and the record is still made.
            logger.error("terminal relay failed", exc_info=first.exception())
            return Ending(Close.FAILED, "the terminal failed on the app's side: connect again")
        return first.result()

    # -- browser → shell ------------------------------------------------------------

    async def _from_browser(self) -> Ending:
        while True:
            try:
                message = await self.websocket.receive()
            except (RuntimeError, OSError):
                return Ending(Close.BROWSER_LEFT, "the browser closed the terminal")
            if message["type"] == "websocket.disconnect":
                return Ending(Close.BROWSER_LEFT, "the browser closed the terminal")
            data, text = message.get("bytes"), message.get("text")
            if data is not None:
                ending = await self._input(data)
            elif text is not None:
                ending = self._control(text)
            else:
                ending = None
            if ending is not None:
                return ending

    async def _input(self, data: bytes) -> Ending | None:
        if len(data) > MAX_INPUT_FRAME:
            return Ending(Close.TOO_LARGE, f"input frames are limited to {MAX_INPUT_FRAME // 1024} KiB")
        self.last_input = time.monotonic()
        self.bytes_in += len(data)
        try:
            self.shell.process.stdin.write(data)
            # A shell that reads slowly holds the browser back, not the app's memory.
            await self.shell.process.stdin.drain()
        except (asyncssh.Error, OSError, BrokenPipeError):
            return Ending(Close.NO_SHELL, "the connection to the server was lost")
        return None

    def _control(self, text: str) -> Ending | None:
        if len(text) > MAX_CONTROL_FRAME:
            return Ending(Close.TOO_LARGE, f"control messages are limited to {MAX_CONTROL_FRAME} bytes")
        try:
            message = json.loads(text)
        except ValueError:
            return Ending(Close.BAD_MESSAGE, "a control message must be JSON")
        if not isinstance(message, dict) or message.get("type") != "resize":
            return Ending(Close.BAD_MESSAGE, 'the only control message is {"type": "resize", "cols": C, "rows": R}')
        size = TerminalSize.parse(message.get("cols"), message.get("rows"))
        if size is None:
            return Ending(Close.BAD_MESSAGE, "resize needs whole cols (1-500) and rows (1-200)")
        try:
            self.shell.resize(size)
        except (asyncssh.Error, OSError):
            return Ending(Close.NO_SHELL, "the connection to the server was lost")
        return None

    # -- shell → browser ------------------------------------------------------------

    async def _from_shell(self) -> Ending:
        process = self.shell.process
        while True:
            try:
                data = await process.stdout.read(OUTPUT_CHUNK)
            except (asyncssh.Error, OSError):
                return Ending(Close.NO_SHELL, "the connection to the server was lost")
            if not data:
                return await self._shell_ended()
            self.bytes_out += len(data)
            try:
                await self.websocket.send_bytes(data)
            except (RuntimeError, OSError):
                return Ending(Close.BROWSER_LEFT, "the browser closed the terminal")

    async def _shell_ended(self) -> Ending:
        try:
            await asyncio.wait_for(self.shell.process.wait_closed(), 2)
        except (asyncio.TimeoutError, asyncssh.Error, OSError):
            pass
        status = self.shell.process.exit_status
        if status is None or status < 0:
            return Ending(Close.SHELL_ENDED, "the shell ended")
        return Ending(Close.SHELL_ENDED, f"the shell ended (exit status {status})")

    # -- the watch: idle time, sign-in and access ----------------------------------------

    async def _watch(self) -> Ending:
        while True:
            await asyncio.sleep(self.recheck_s)
            if time.monotonic() - self.last_input >= self.idle_s:
                return Ending(Close.IDLE, f"closed after {idle_words(self.idle_s)} without input")
            reason = await self.still_valid()
            if reason is not None:
                return Ending(Close.SIGNED_OUT, reason)
