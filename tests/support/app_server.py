"""Start the real app (Reflex backend with its API) as a subprocess, the way
`make run` does, on a free port and a database of the test's choosing.

The port is free when it is picked, but another test session on the machine
may take it before the app binds it: the app then exits (reflex refuses a
port in use), or, while it is still starting, the other session's app answers
on that port. So the app counts as ready only once the answer comes from a
process of its own, and a first start whose port was taken picks another."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.ports import PortTaken, free_port, session_listens_on

REPO_ROOT = Path(__file__).resolve().parents[2]
ORCHESTRATOR_TOKEN = "test-orchestrator-token-0123456789abcdef"
SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"
PER_ADDRESS_LIMITS_FOR_TESTS = {"CRONIUM_REGISTER_IP_LIMIT": "1000000", "CRONIUM_SIGN_IN_IP_LIMIT": "1000000"}
PORT_ATTEMPTS = 5
_PORT_IN_USE = re.compile(r"already in use", re.IGNORECASE)


def with_overrides(env: dict[str, str], overrides: dict[str, str | None]) -> dict[str, str]:
    """`env` with `overrides` applied; an override of None removes the variable."""
    env = {**env, **{name: value for name, value in overrides.items() if value is not None}}
    return {name: value for name, value in env.items() if overrides.get(name, "") is not None}


@dataclass
class AppServer:
    database_url: str
    # A value of None removes the variable (e.g. the secrets, to have them generated).
    env_overrides: dict[str, str | None] = field(default_factory=dict)
    # None: a free port, picked again if the first start finds it taken
    # (a restart keeps the port: the workers and clients know the URL).
    port: int | None = None
    # Where the app listens; the URL the tests use is loopback either way.
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _may_pick_another_port: bool = field(default=False, init=False, repr=False)
    _log_offset: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.port is None:
            self.port = free_port()
            self._may_pick_another_port = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        env = dict(os.environ)
        env.update(
            {
                "PATH": f"{venv_bin}:{env.get('PATH', '')}",
                "DATABASE_URL": self.database_url,
                "ORCHESTRATOR_TOKEN": ORCHESTRATOR_TOKEN,
                "SECRET_KEY": SECRET_KEY,
                "CRONIUM_PORT": str(self.port),
                "REFLEX_USE_NPM": "1",
                "PYTHONUNBUFFERED": "1",
                # Every test signs up and in from 127.0.0.1: the per-address
                # throttles would count the whole suite as one visitor (the
                # throttle tests run apps with the defaults).
                **PER_ADDRESS_LIMITS_FOR_TESTS,
            }
        )
        return with_overrides(env, self.env_overrides)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "reflex", "run", "--env", "prod", "--backend-only",
                "--backend-port", str(self.port), "--backend-host", self.host]

    def log_name(self) -> str:
        return f"app-{self.port}.log"

    def start(self, timeout: float = 90.0) -> "AppServer":
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self._launch()
            try:
                self.wait_ready(timeout)
                break
            except PortTaken:
                self._end_process()
                if not self._may_pick_another_port or attempt == PORT_ATTEMPTS:
                    raise
                self.port = free_port()
        self._may_pick_another_port = False
        return self

    def _launch(self) -> None:
        log_dir = REPO_ROOT / "test-output" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / self.log_name()
        with open(self.log_path, "ab") as log:
            self._log_offset = log.tell()
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                if _PORT_IN_USE.search(self._log_tail()):
                    raise PortTaken(f"port {self.port} was taken before the app could bind it; see {self.log_path}")
                raise RuntimeError(f"app exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 200 and self._holds_port():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"app did not answer within {timeout}s; see {self.log_path}")

    def _holds_port(self) -> bool:
        """The answer came from this app, not from another session's app on
        the port (the app runs in a session of its own: see _launch)."""
        return self.process is not None and session_listens_on(self.process.pid, self.port) is not False

    def _log_tail(self) -> str:
        """The end of what this start of the app wrote to its log."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(max(self._log_offset, log.seek(0, os.SEEK_END) - 4000))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        self._end_process(sig, timeout)

    def _end_process(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # The app runs in its own session: signal the whole group (reflex
        # starts the server as a child process).
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_for_readiness(base_url: str, status: int, timeout: float = 60) -> httpx.Response:
    """GET /readyz until it answers `status`; the last answer when the time
    is up (a failed connection, e.g. while a proxy has no replica to send
    it to, is tried again)."""
    deadline = time.monotonic() + timeout
    response = None
    while True:
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=10)
        except httpx.TransportError:
            pass
        if (response is not None and response.status_code == status) or time.monotonic() > deadline:
            assert response is not None, f"{base_url}/readyz did not answer within {timeout:.0f} s"
            return response
        time.sleep(0.5)
