"""Where the command line finds the server and its token: CRONIUM_URL and
CRONIUM_TOKEN, else what `cronium login` stored in the user's config
directory (`~/.config/cronium/config.json`, mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import typer

from cronium_cli.exits import NOT_SIGNED_IN, CliError

DEFAULT_URL = "http://localhost:8000"


def config_path() -> Path:
    return Path(typer.get_app_dir("cronium")) / "config.json"


@dataclass(frozen=True)
class Config:
    url: str
    token: str | None


def read_stored() -> dict[str, str]:
    path = config_path()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc} (run `cronium login` again)", NOT_SIGNED_IN) from None


def load() -> Config:
    stored = read_stored()
    url = os.environ.get("CRONIUM_URL") or stored.get("url") or DEFAULT_URL
    token = os.environ.get("CRONIUM_TOKEN") or stored.get("token")
    return Config(url.rstrip("/"), token)


def store(url: str, token: str) -> Path:
    """Write the URL and token readable by the user alone (the directory 0700, the file 0600)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump({"url": url.rstrip("/"), "token": token}, out)
    return path


def forget() -> bool:
    try:
        config_path().unlink()
        return True
    except FileNotFoundError:
        return False
