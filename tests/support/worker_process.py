"""Run the real worker (`python -m orchestrator_worker`) as a subprocess."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.app_server import ORCHESTRATOR_TOKEN, REPO_ROOT, with_overrides

# Settings every worker of this test session gets (a test's own
# env_overrides win); tests/conftest.py names the session's job network here.
SESSION_ENV: dict[str, str] = {}


@dataclass
class WorkerProcess:
    app_url: str
    worker_id: str = field(default_factory=lambda: f"test-worker-{secrets.token_hex(3)}")
    concurrency: int = 8
    # A value of None removes the variable.
    env_overrides: dict[str, str | None] = field(default_factory=dict)
    # Another interpreter and directory run a worker outside the repo's venv.
    python: str = sys.executable
    cwd: Path = REPO_ROOT
    process: subprocess.Popen | None = None
    log_path: Path | None = None
    _log_offset: int = 0

    def start(self) -> "WorkerProcess":
        log_dir = REPO_ROOT / "test-output" / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{self.worker_id}.log"
        # A restarted worker with the same id appends to the same file: read
        # only what this process wrote.
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        env = dict(os.environ)
        env.update(
            {
                "ORCHESTRATOR_URL": self.app_url,
                "ORCHESTRATOR_TOKEN": ORCHESTRATOR_TOKEN,
                "CRONIUM_WORKER_ID": self.worker_id,
                "CRONIUM_WORKER_CONCURRENCY": str(self.concurrency),
                "CRONIUM_WORKER_CLAIM_WAIT": "5",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(SESSION_ENV)
        env = with_overrides(env, self.env_overrides)
        self.process = subprocess.Popen(
            [self.python, "-m", "orchestrator_worker"],
            cwd=self.cwd,
            env=env,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
        )
        # The worker has checked the engine, one way (" reachable") or the
        # other ("unreachable": a test may mean it to be).
        self.wait_for_log((" reachable", "Docker Engine unreachable"), timeout=30)
        return self

    def log_text(self) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as log:
            log.seek(self._log_offset)
            return log.read().decode(errors="replace")

    def wait_for_log(self, needle: str | tuple[str, ...], timeout: float = 30) -> None:
        needles = (needle,) if isinstance(needle, str) else needle
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log_text()
            if any(n in text for n in needles):
                return
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}: {self.log_text()[-2000:]}")
            time.sleep(0.1)
        raise AssertionError(f"worker log never said {needle!r}: {self.log_text()[-2000:]}")

    def signal(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, timeout: float = 60) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> "WorkerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
