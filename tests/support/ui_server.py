"""Start the whole app (UI and API on one port) the way `make run` does:
`reflex run --env prod --single-port --backend-port PORT` from the repository
root, with the virtualenv's bin/ first on PATH and REFLEX_USE_NPM=1.

The first start installs the frontend's npm packages and builds it (1 to 3
minutes on a small machine); later starts reuse .web/node_modules but still
run the production build (reflex always does in prod), so allow a generous
startup timeout.

The compiled frontend talks to the backend at ws://localhost:PORT (reflex
writes that address into .web/env.json at build time), so a browser should
open `browser_url` (localhost), not 127.0.0.1. API clients may use either.

Each start rebuilds the frontend, and the build has the port baked in
(env.json): two full apps serving one .web at once break each other (the
second start replaces the first one's bundle, which then talks to the wrong
port, and its assets are missing while it builds). So when .web is already
set up, a UIServer builds in a private copy of it (REFLEX_WEB_WORKDIR, under
test-output/web/; node_modules hard-linked, so it takes a second) and removes
it when it stops. With no .web yet (a fresh checkout) it sets up .web itself,
exactly as `make run` does, which also serves the later runs; test sessions
running at once in one checkout take turns there (a lock), so that only the
first one sets .web up and the others copy it once it is built.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.app_server import REPO_ROOT, AppServer

# First build with an empty npm cache, on a loaded 2-core machine.
UI_STARTUP_TIMEOUT_S = 600.0

SHARED_WEB_DIR = REPO_ROOT / ".web"
PRIVATE_WEB_ROOT = REPO_ROOT / "test-output" / "web"
# Held while .web is copied, and while a start that has nothing to copy sets
# .web up, by the test sessions of this checkout.
WEB_SETUP_LOCK = REPO_ROOT / "test-output" / "web-setup.lock"


# Files that npm and vite rewrite in place: copied, not hard-linked, so that
# the private copy never writes through to the shared .web.
_REWRITTEN_IN_NODE_MODULES = (".package-lock.json", ".vite", ".vite-temp", ".cache")


@contextlib.contextmanager
def web_setup_turn() -> Iterator[None]:
    """This session's turn at .web: no other session of this checkout copies
    it or sets it up meanwhile."""
    WEB_SETUP_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(WEB_SETUP_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def clone_web_dir(dest: Path, source: Path = SHARED_WEB_DIR) -> Path | None:
    """A private copy of an installed .web (node_modules hard-linked, the old
    build left out); None when `source` has no installed frontend yet, or
    the copy failed (then the caller uses .web itself)."""
    if not (source / "node_modules").is_dir() or not (source / "reflex.json").exists():
        return None
    try:
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        for child in source.iterdir():
            if child.name in ("build", "node_modules"):
                continue
            if child.is_dir():
                shutil.copytree(child, dest / child.name, symlinks=True)
            else:
                shutil.copy2(child, dest / child.name)
        # cp -l: hard links, a second for ~20,000 files (same file system).
        subprocess.run(["cp", "-al", str(source / "node_modules"), str(dest / "node_modules")],
                       capture_output=True, text=True, check=True)
        for name in _REWRITTEN_IN_NODE_MODULES:
            linked, original = dest / "node_modules" / name, source / "node_modules" / name
            if linked.is_dir():
                shutil.rmtree(linked)
                shutil.copytree(original, linked, symlinks=True)
            elif linked.exists():
                linked.unlink()
                shutil.copy2(original, linked)
    except (OSError, subprocess.CalledProcessError):
        shutil.rmtree(dest, ignore_errors=True)
        return None
    return dest


@dataclass
class UIServer(AppServer):
    """The full app: the frontend build served by the backend on one port.

    private_web: build in a private copy of .web when there is one to copy
    (see the module's docstring); False always uses .web itself."""

    private_web: bool = True
    web_dir: Path | None = field(default=None, init=False)

    @property
    def browser_url(self) -> str:
        return f"http://localhost:{self.port}"

    def command(self) -> list[str]:
        reflex = Path(sys.executable).parent / "reflex"
        program = [str(reflex)] if reflex.exists() else [sys.executable, "-m", "reflex"]
        return [*program, "run", "--env", "prod", "--single-port", "--backend-port", str(self.port)]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        if self.web_dir is not None:
            env["REFLEX_WEB_WORKDIR"] = str(self.web_dir)
        return env

    def start(self, timeout: float = UI_STARTUP_TIMEOUT_S) -> "UIServer":
        if not self.private_web or self.web_dir is not None:
            return self._start(timeout)
        with web_setup_turn():
            self.web_dir = clone_web_dir(PRIVATE_WEB_ROOT / f"web-{self.port}")
            if self.web_dir is None:
                # Nothing to copy yet: this start sets .web up, and the
                # others wait until it is built, then copy it.
                return self._start(timeout)
        return self._start(timeout)

    def _start(self, timeout: float) -> "UIServer":
        try:
            super().start(timeout)
            self.wait_frontend(60)
        except BaseException:
            self.stop()
            raise
        return self

    def log_name(self) -> str:
        return f"ui-app-{self.port}.log"

    def wait_frontend(self, timeout: float) -> None:
        """The backend answers /ping once the build is done; check that the
        built pages are served too."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.url}/login", timeout=5, follow_redirects=True)
                if response.status_code == 200 and "<html" in response.text.lower():
                    return
                last = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise RuntimeError(f"the app does not serve its pages ({last}); see {self.log_path}")

    def stop(self, *args, **kwargs) -> None:
        try:
            super().stop(*args, **kwargs)
        finally:
            if self.web_dir is not None and self.web_dir.is_relative_to(PRIVATE_WEB_ROOT):
                shutil.rmtree(self.web_dir, ignore_errors=True)
                self.web_dir = None

    def __enter__(self) -> "UIServer":
        return self.start()
