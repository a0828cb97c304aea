"""The built web UI, pointed at the public URL it is served at.

Reflex writes the backend's address (`api_url`) into the UI when it builds
it, and the browser opens the websocket there. A container image is built
once and then run at many addresses, so its UI is built with a placeholder
origin (deploy/app.Dockerfile) and, when the app starts, a copy of the built
UI gets CRONIUM_PUBLIC_URL in its place (`http://` and `ws://` forms, in
plain and gzip-compressed files alike).
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

# Reflex's file of the addresses the UI calls ({"PING": "<api_url>/ping", ...}).
ENV_JSON = "env.json"
PING_SUFFIX = "/ping"
# Files of the built UI that may hold the address (the rest are images, fonts, ...).
TEXT_SUFFIXES = (".js", ".mjs", ".html", ".json", ".css", ".map", ".txt")
PRECOMPRESSED = (".br", ".zst")


def built_origin(web_dir: Path) -> str:
    """The origin the UI in `web_dir` was built to call."""
    ping = json.loads((web_dir / ENV_JSON).read_text(encoding="utf-8"))["PING"]
    return ping.removesuffix(PING_SUFFIX)


def websocket_form(origin: str) -> str:
    """The websocket origin Reflex derives from an http(s) origin."""
    return origin.replace("https://", "wss://", 1).replace("http://", "ws://", 1)


def replacements(old_origin: str, new_origin: str) -> list[tuple[bytes, bytes]]:
    new_origin = new_origin.rstrip("/")
    return [
        (websocket_form(old_origin).encode(), websocket_form(new_origin).encode()),
        (old_origin.encode(), new_origin.encode()),
    ]


def _replace(data: bytes, pairs: list[tuple[bytes, bytes]]) -> bytes:
    for old, new in pairs:
        data = data.replace(old, new)
    return data


def _rewrite(path: Path, pairs: list[tuple[bytes, bytes]]) -> bool:
    """Put the new origin into one file (kept as it is when it has no old
    one); gzip files are rewritten compressed. True when it changed."""
    compressed = path.suffix == ".gz"
    if not path.name.removesuffix(".gz").endswith(TEXT_SUFFIXES):
        return False
    raw = path.read_bytes()
    data = gzip.decompress(raw) if compressed else raw
    changed = _replace(data, pairs)
    if changed == data:
        return False
    path.write_bytes(gzip.compress(changed, compresslevel=9, mtime=0) if compressed else changed)
    # Other precompressed forms of the file would still hold the old origin.
    for suffix in PRECOMPRESSED:
        path.with_name(path.name.removesuffix(".gz") + suffix).unlink(missing_ok=True)
    return True


def point_at(source: Path, target: Path, origin: str) -> int:
    """Copy the built UI in `source` (a Reflex web dir) to `target` with
    `origin` wherever the build put its own; the number of files changed.
    `target` is replaced as a whole."""
    pairs = replacements(built_origin(source), origin)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True)
    return sum(_rewrite(path, pairs) for path in sorted(target.rglob("*")) if path.is_file())
