"""Run the `cronium` command line as a user would: in a pseudo-terminal
(what it prints arrives as it prints it, with the time each piece arrived),
or as a plain subprocess for scripts."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CRONIUM = str(Path(sys.executable).parent / "cronium")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def cli_env(url: str, token: str | None, config_home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRONIUM_")}
    env.update({"CRONIUM_URL": url, "XDG_CONFIG_HOME": str(config_home), "COLUMNS": "200", "TERM": "xterm"})
    if token:
        env["CRONIUM_TOKEN"] = token
    return env


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([CRONIUM, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


@dataclass
class Terminal:
    """`cronium ARGS` with a pseudo-terminal as its stdin, stdout and stderr."""

    env: dict[str, str]
    args: tuple[str, ...]
    chunks: list[tuple[float, str]] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def __enter__(self) -> "Terminal":
        master, slave = pty.openpty()
        self.process = subprocess.Popen([CRONIUM, *self.args], env=self.env, stdin=slave, stdout=slave,
                                        stderr=slave, start_new_session=True)
        os.close(slave)
        self._reader = threading.Thread(target=self._read, args=(master,), daemon=True)
        self._reader.start()
        return self

    def _read(self, master: int) -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not data:
                break
            self.chunks.append((time.time(), data.decode(errors="replace")))
        os.close(master)

    def text(self) -> str:
        return ANSI.sub("", "".join(chunk for _, chunk in self.chunks)).replace("\r\n", "\n")

    def lines(self) -> list[tuple[float, str]]:
        """Each complete line, with the time the piece ending it arrived."""
        out, pending = [], ""
        for received, chunk in self.chunks:
            pending += ANSI.sub("", chunk).replace("\r\n", "\n")
            *complete, pending = pending.split("\n")
            out.extend((received, line.split("\r")[-1]) for line in complete)
        return out

    def wait_for(self, needle: str, timeout: float = 120) -> float:
        """When a line holding `needle` arrived (fails if it never does while the command runs)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received, line in self.lines():
                if needle in line:
                    return received
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{needle!r} never appeared; the terminal showed:\n{self.text()}")

    def wait(self, timeout: float = 180) -> int:
        code = self.process.wait(timeout)
        self._reader.join(10)
        return code

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
