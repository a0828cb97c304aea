"""The secrets an installation generates for itself when none are given:
`secrets.json` (mode 0600) in the data directory, shared by the app and a
worker started beside it on the same machine (`make run`).

No secret ships in the code: two installations never share one, and the
first start of each makes its own. A worker on another host is not given
the file; it must be given ORCHESTRATOR_TOKEN.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

FILE_NAME = "secrets.json"
# What the file holds: the app's signing key and the token workers present.
NAMES = ("secret_key", "orchestrator_token")


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / FILE_NAME


def read(data_dir: Path) -> dict[str, str] | None:
    """The generated secrets, or None when the file does not exist yet."""
    try:
        return json.loads(path_in(data_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def read_or_create(data_dir: Path) -> dict[str, str]:
    """The generated secrets, made on the first call for this data directory.

    Several processes starting at once agree: each writes its candidate to a
    private temporary file and links it into place only if no file is there
    yet; whoever loses reads the winner's."""
    found = read(data_dir)
    if found is not None and all(found.get(name) for name in NAMES):
        return found
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = {name: secrets.token_urlsafe(48) for name in NAMES}
    temporary = data_dir / f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(candidate, handle)
        try:
            os.link(temporary, path_in(data_dir))
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
    return read(data_dir) or candidate
