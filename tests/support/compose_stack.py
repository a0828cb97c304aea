"""deploy/compose.yaml started the way an operator starts it, for the
deployment's tests and its benchmark: Debian's docker-compose 1.29 (or
`docker compose`), the images built from this checkout on the local
stand-ins for the public bases (deploy/images/build-local-images.sh: no
registry is reachable here), PostgreSQL and Redis in containers, app
replicas behind the proxy on a free loopback port, and workers on this
machine's Docker Engine.

Each stack is a compose project of its own (`cronium-deploy-test-<hex>`,
also the name its workers label job containers with) with its own worker
run directory; `down()` removes its containers, networks and volumes,
`leftovers()` lists whatever of it is still there. The images are shared
between stacks and runs (tagged `cronium-deploy-test-*`), so a rebuild
only redoes the layers whose inputs changed; one build at a time on the
machine (a lock), so a build started early (`make deploy-images`, which CI
runs in the background) is waited for and then found in the cache.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx

from orchestrator_worker.settings import WorkerSettings
from tests.support.app_server import REPO_ROOT, free_port

DEPLOY_DIR = REPO_ROOT / "deploy"
COMPOSE_FILE = DEPLOY_DIR / "compose.yaml"
LOCAL_IMAGES = DEPLOY_DIR / "images" / "build-local-images.sh"
IMAGE_PREFIX = "cronium-deploy-test"
SERVICES_BUILT = ("app", "worker", "proxy")
# Held while the images are built: two builds of the same images at once
# would each do all of the work.
BUILD_LOCK = Path(tempfile.gettempdir()) / f"{IMAGE_PREFIX}-build.lock"
# Compose labels every container, network and volume of a project with it.
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


def compose_command() -> list[str]:
    """`docker compose` when the Docker CLI has it, else docker-compose 1.29."""
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if probe.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    raise RuntimeError("neither `docker compose` nor docker-compose is installed (make compose)")


def compose_missing_reason() -> str | None:
    try:
        compose_command()
    except RuntimeError as exc:
        return str(exc)
    return None


def _secret() -> str:
    return secrets.token_hex(32)


@dataclass
class ComposeStack:
    app_replicas: int = 2
    workers: int = 2
    # More settings for deploy/.env (they win over the defaults below).
    settings: dict[str, str] = field(default_factory=dict)
    project: str = field(default_factory=lambda: f"{IMAGE_PREFIX}-{secrets.token_hex(3)}")
    port: int = field(default_factory=free_port)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cronium-deploy-test-")))
    images: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The proxy, as people reach it (the one origin the app allows)."""
        return f"http://localhost:{self.port}"

    @property
    def run_dir(self) -> Path:
        return Path("/run") / self.project

    @property
    def env_file(self) -> Path:
        return self.workdir / ".env"

    @property
    def app_label(self) -> str:
        """The label this stack's workers put on their job containers."""
        url = f"http://{self.project}-proxy:8080"
        return WorkerSettings(ORCHESTRATOR_URL=url, ORCHESTRATOR_TOKEN="-").app_label

    def write_env(self) -> None:
        values = {
            "COMPOSE_PROJECT_NAME": self.project,
            "SECRET_KEY": _secret(), "ORCHESTRATOR_TOKEN": _secret(),
            "POSTGRES_PASSWORD": _secret(), "REDIS_PASSWORD": _secret(),
            "CRONIUM_PUBLIC_URL": self.url, "CRONIUM_HTTP_BIND": "127.0.0.1", "CRONIUM_HTTP_PORT": str(self.port),
            "CRONIUM_APP_REPLICAS": str(self.app_replicas), "CRONIUM_WORKERS": str(self.workers),
            "CRONIUM_WORKER_RUN_DIR": str(self.run_dir), "CRONIUM_IMAGE_PREFIX": IMAGE_PREFIX,
            **self.images,
            **self.settings,
        }
        if self.env_file.exists():  # the secrets seal the data: keep them
            kept = dict(line.split("=", 1) for line in self.env_file.read_text().splitlines() if "=" in line)
            values.update({key: kept[key] for key in ("SECRET_KEY", "ORCHESTRATOR_TOKEN", "POSTGRES_PASSWORD",
                                                      "REDIS_PASSWORD") if key in kept})
        self.env_file.write_text("".join(f"{key}={value}\n" for key, value in values.items()))
        self.env_file.chmod(0o600)

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True, stdin: bytes | None = None, text: bool = True,
    ) -> subprocess.CompletedProcess:
        """A compose command on this stack, as `make up` runs them (bytes in
        and out with text=False, e.g. a database dump)."""
        command = [*compose_command(), "--project-name", self.project, "--env-file", str(self.env_file),
                   "--project-directory", str(DEPLOY_DIR), "-f", str(COMPOSE_FILE), *args]
        # The legacy builder: Engine 20.10 and no buildx here.
        env = {**os.environ, "DOCKER_BUILDKIT": "0", "COMPOSE_DOCKER_CLI_BUILD": "0"}
        result = subprocess.run(command, input=stdin, capture_output=True, text=text, timeout=timeout, env=env)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[1:])} failed:\n{result.stdout[-3000:]!s}\n{result.stderr[-3000:]!s}")
        return result

    # -- building and starting ---------------------------------------------

    def build(self) -> float:
        """The local base images and the stack's own; seconds it took."""
        began = time.monotonic()
        with BUILD_LOCK.open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            lines = subprocess.run([str(LOCAL_IMAGES)], capture_output=True, text=True, check=True, timeout=1800).stdout
            self.images = dict(line.split("=", 1) for line in lines.split() if "=" in line)
            self.write_env()
            self.compose("build", *SERVICES_BUILT, timeout=1800)
            # Earlier builds' layers nobody names any more.
            self.docker().images.prune(filters={"dangling": True, "label": "cronium.deploy-image"})
        return time.monotonic() - began

    def up(self, timeout: float = 300) -> float:
        """Start the stack and wait until it serves; seconds it took."""
        began = time.monotonic()
        self.write_env()
        self.compose("up", "-d", "--no-build", timeout=timeout)
        self.wait_ready(time.monotonic() + timeout - (time.monotonic() - began))
        return time.monotonic() - began

    def wait_ready(self, deadline: float) -> None:
        """The proxy answers /readyz and the sign-in page, and every app
        replica is healthy."""
        last = ""
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=5)
                page = httpx.get(f"{self.url}/login/", timeout=5)
                healthy = self.healthy("app")
                if ready.status_code == 200 and page.status_code == 200 and healthy == self.app_replicas:
                    return
                last = f"readyz {ready.status_code}, login page {page.status_code}, {healthy} app replicas healthy"
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(1)
        raise RuntimeError(f"the stack did not come up: {last}\n{self.logs()}")

    # -- looking and acting ------------------------------------------------

    @staticmethod
    def docker() -> docker.DockerClient:
        return docker.from_env()

    def containers(self, service: str, *, every: bool = False) -> list:
        labels = [f"{PROJECT_LABEL}={self.project}", f"{SERVICE_LABEL}={service}"]
        found = self.docker().containers.list(all=every, filters={"label": labels})
        return sorted(found, key=lambda container: container.name)

    def healthy(self, service: str) -> int:
        return sum(
            container.attrs["State"].get("Health", {}).get("Status") == "healthy"
            for container in self.containers(service)
        )

    def wait_healthy(self, container, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            container.reload()
            if container.attrs["State"].get("Health", {}).get("Status") == "healthy":
                return
            time.sleep(1)
        raise AssertionError(f"{container.name} did not become healthy within {timeout:.0f} s")

    def logs(self, tail: int = 40) -> str:
        return self.compose("logs", "--no-color", f"--tail={tail}", check=False, timeout=60).stdout

    # -- tearing down --------------------------------------------------------

    def down(self) -> None:
        """`down -v`: containers, networks and volumes of the project; the
        worker run directory (slot files) goes too."""
        if self.env_file.exists():
            self.compose("down", "-v", "--remove-orphans", "--timeout", "20", timeout=300)
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def leftovers(self) -> dict[str, list[str]]:
        """What of this stack is still there: compose's containers, networks
        and volumes, and job containers of its workers."""
        client = self.docker()
        project = {"label": f"{PROJECT_LABEL}={self.project}"}
        return {
            "containers": [c.name for c in client.containers.list(all=True, filters=project)],
            "networks": [n.name for n in client.networks.list(filters=project)],
            "volumes": [v.name for v in client.volumes.list(filters=project)],
            "job containers": [
                c.name for c in client.containers.list(all=True, filters={"label": f"cronium.app={self.app_label}"})
            ],
        }

    def remove_job_containers(self) -> None:
        for container in self.docker().containers.list(all=True, filters={"label": f"cronium.app={self.app_label}"}):
            container.remove(force=True, v=True)

    def close(self) -> None:
        """Everything of this stack, whatever state it is in."""
        try:
            self.down()
        finally:
            self.remove_job_containers()
            shutil.rmtree(self.workdir, ignore_errors=True)


def build_images() -> None:
    """`python -m tests.support.compose_stack`: build the images the tests
    and the benchmark start (`make deploy-images`), and nothing else."""
    stack = ComposeStack()
    try:
        print(f"deployment images built in {stack.build():.0f} s", flush=True)
    finally:
        shutil.rmtree(stack.workdir, ignore_errors=True)


if __name__ == "__main__":
    build_images()
