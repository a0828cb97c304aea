"""What a remote run needs on the server, packed as one tar stream: the
script, the environment file and the runtime helpers. One upload (`tar -x`
reading stdin) instead of a round trip per file."""

from __future__ import annotations

import shlex
import tarfile
from functools import lru_cache
from pathlib import Path

from orchestrator_worker.languages import LANGUAGES

HELPERS_DIR = Path(__file__).resolve().parents[1] / "images" / "runtime" / "helpers"

# The helpers are written in the languages they serve (README.md there is not uploaded).
HELPER_SUFFIXES = frozenset(language.suffix for language in LANGUAGES.values())
ENV_FILE = "env.sh"
DOCKER_ENV_FILE = "env.list"


def env_script(env: dict[str, str]) -> str:
    """`export K='v'` lines: sourced by the run, never on a command line
    (where other users of the server could read it in `ps`)."""
    return "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())


def docker_env_list(env: dict[str, str]) -> str:
    """docker --env-file lines; values cannot span lines there, so such a
    value is refused rather than cut."""
    for key, value in env.items():
        if "\n" in value:
            raise ValueError(f"environment variable {key} holds a line break, which `docker run --env-file` cannot pass")
    return "".join(f"{key}={value}\n" for key, value in env.items())


def build(kind: str, script: str, env_text: str, docker_env: str | None) -> bytes:
    """A tar stream of the run's files. Built by hand from member blocks,
    with the helpers' part made once: a job on many servers builds one per
    server, and tarfile's general path costs milliseconds each."""
    parts = [_member(LANGUAGES[kind].script_file, script.encode("utf-8")), _member(ENV_FILE, env_text.encode("utf-8"))]
    if docker_env is not None:
        parts.append(_member(DOCKER_ENV_FILE, docker_env.encode("utf-8")))
    parts.append(_helper_members())
    body = b"".join(parts) + b"\0" * (2 * tarfile.BLOCKSIZE)  # end of archive
    return body + b"\0" * (-len(body) % tarfile.RECORDSIZE)


@lru_cache(maxsize=1)
def _helper_members() -> bytes:
    return b"".join(
        _member(f"helpers/{path.relative_to(HELPERS_DIR)}", path.read_bytes())
        for path in sorted(HELPERS_DIR.rglob("*"))
        if path.is_file() and path.suffix in HELPER_SUFFIXES
    )


def _member(name: str, data: bytes) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    return header + data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)
