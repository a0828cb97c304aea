"""What a remote run needs on the server, packed as one tar stream: the
script, the environment file and the runtime helpers. One upload (`tar -x`
reading stdin) instead of a round trip per file."""

from __future__ import annotations

import io
import shlex
import tarfile
from pathlib import Path

HELPERS_DIR = Path(__file__).resolve().parents[1] / "images" / "runtime" / "helpers"

SCRIPT_FILES = {"bash": "script.sh", "python": "script.py", "node": "script.js"}
INTERPRETERS = {"bash": "bash", "python": "python3", "node": "node"}
ENV_FILE = "env.sh"
DOCKER_ENV_FILE = "env.list"
SOCKET = "runtime.sock"


def helper_env(run_dir: str, with_runtime: bool, job_id: str, token: str | None) -> dict[str, str]:
    """The helpers' setup, as in the job image, but under the run directory."""
    helpers = f"{run_dir}/helpers"
    env = {
        "PYTHONPATH": f"{helpers}/python",
        "NODE_PATH": f"{helpers}/node",
        "NODE_OPTIONS": f"--require {helpers}/node/global.js",
        "BASH_ENV": f"{helpers}/bash/cronium.sh",
    }
    if with_runtime and token:
        env.update(
            {
                "CRONIUM_RUNTIME_API": f"unix://{run_dir}/{SOCKET}",
                "CRONIUM_EXECUTION_ID": job_id,
                "CRONIUM_EXECUTION_TOKEN": token,
            }
        )
    return env


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
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, SCRIPT_FILES[kind], script.encode("utf-8"))
        _add(tar, ENV_FILE, env_text.encode("utf-8"))
        if docker_env is not None:
            _add(tar, DOCKER_ENV_FILE, docker_env.encode("utf-8"))
        for path in sorted(HELPERS_DIR.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".js", ".sh"):
                _add(tar, f"helpers/{path.relative_to(HELPERS_DIR)}", path.read_bytes())
    return buffer.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))
