"""Suite `deploy`: Cronium as a service (deploy/compose.yaml), as an operator
gets it. The images' sizes, how long building them takes (from the cache
as this machine has it, with nothing changed, and after a change to the
code only: Docker's layer order at work), how long the stack
takes from `up` to serving on empty volumes (the first migration included),
the first job through the proxy, and `down -v`.

The stack is tests/support/compose_stack.py's: the images built from this
checkout on the local stand-ins for the public bases (no registry is
reachable here), two app replicas and one worker, the proxy on a free
loopback port; everything of it is removed at the end, also on errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.suite import Suite
from tests.support.app_server import REPO_ROOT
from tests.support.compose_stack import IMAGE_PREFIX, SERVICES_BUILT, ComposeStack, compose_missing_reason

MB = 1_000_000
BASELINES = {
    # What each built image adds to its base image.
    **{f"deploy_{service}_image_own_mb": f"deploy_{service}_image_mb" for service in SERVICES_BUILT},
    "deploy_first_job_s": "deploy_cold_start_s",
}
GOALS = [("deploy_cold_start_s", "<=", 120.0), ("deploy_app_image_own_mb", "<=", 250.0),
         ("deploy_app_rebuild_code_change_s", "<=", 120.0)]


def _size_mb(client, name: str) -> float:
    return client.images.get(name).attrs["Size"] / MB


def _image_sizes(suite: Suite, stack: ComposeStack) -> None:
    client = stack.docker()
    bases = {"app": stack.images["BASE_IMAGE"], "worker": stack.images["BASE_IMAGE"], "proxy": stack.images["PROXY_BASE_IMAGE"]}
    for service in SERVICES_BUILT:
        size = _size_mb(client, f"{IMAGE_PREFIX}-{service}:latest")
        suite.figures[f"deploy_{service}_image_mb"] = size
        suite.figures[f"deploy_{service}_image_own_mb"] = size - _size_mb(client, bases[service])
    for name, image in stack.images.items():
        suite.figures[f"deploy_base_{name.lower().removesuffix('_image')}_image_mb"] = _size_mb(client, image)


# A change to each image's own code: a line added to a module the image
# copies last (deploy/app.Dockerfile, deploy/worker.Dockerfile).
CODE_CHANGES = {"app": "cronium_app/routes.py", "worker": "orchestrator_worker/__main__.py"}


def _checkout_copy(target: Path) -> None:
    """The files of this checkout Git knows or would add (no build output)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _rebuild_after_code_change(suite: Suite, stack: ComposeStack) -> None:
    """Each image built again from a copy of the checkout whose code differs
    by one line: the layers before the code come from the cache."""
    with tempfile.TemporaryDirectory(prefix="cronium-bench-context-") as context:
        _checkout_copy(Path(context))
        for service, module in CODE_CHANGES.items():
            with (Path(context) / module).open("a") as changed:
                changed.write(f"\n# changed at {time.time()}\n")
            tag = f"{IMAGE_PREFIX}-{service}:code-change"
            began = time.monotonic()
            subprocess.run(["docker", "build", "--quiet", "--label", f"cronium.deploy-image={service}",
                            "--build-arg", f"BASE_IMAGE={stack.images['BASE_IMAGE']}",
                            "-f", f"deploy/{service}.Dockerfile", "-t", tag, "."],
                           cwd=context, capture_output=True, check=True, timeout=1800,
                           env={**os.environ, "DOCKER_BUILDKIT": "0"})
            suite.figures[f"deploy_{service}_rebuild_code_change_s"] = time.monotonic() - began
            stack.docker().images.remove(tag)


def _first_job(suite: Suite, stack: ComposeStack) -> None:
    """Register through the proxy, run a job and wait for its end."""
    began = time.monotonic()
    with httpx.Client(base_url=stack.url, timeout=30) as http:
        body = http.post("/api/v1/auth/register", json={"email": "bench@example.com", "password": "a long password"})
        body.raise_for_status()
        http.headers["Authorization"] = f"Bearer {body.json()['token']}"
        event = http.post("/api/v1/events", json={"name": "first", "type": "bash", "script": "echo first"})
        event.raise_for_status()
        job_id = http.post(f"/api/v1/events/{event.json()['id']}/execute").json()["jobId"]
        while (status := http.get(f"/api/v1/jobs/{job_id}").json()["status"]) not in ("completed", "failed"):
            assert time.monotonic() - began < 120, f"the first job is still {status} after 120 s"
            time.sleep(0.2)
    assert status == "completed", f"the first job ended {status}"
    suite.figures["deploy_first_job_s"] = time.monotonic() - began


def run(suite: Suite) -> None:
    if (reason := compose_missing_reason()) is not None:
        suite.say(f"skipped: {reason}")
        return
    stack = ComposeStack(app_replicas=2, workers=1)
    try:
        if not suite.phase("build", lambda: suite.figures.__setitem__("deploy_build_s", stack.build())):
            return
        suite.phase("image sizes", lambda: _image_sizes(suite, stack))
        # Nothing changed since the build above: what a `make up` costs then.
        suite.phase("build again", lambda: suite.figures.__setitem__("deploy_rebuild_unchanged_s", stack.build()))
        suite.phase("rebuild after a code change", lambda: _rebuild_after_code_change(suite, stack))
        if not suite.phase("cold start", lambda: suite.figures.__setitem__("deploy_cold_start_s", stack.up())):
            return
        suite.phase("first job", lambda: _first_job(suite, stack))

        def down() -> None:
            began = time.monotonic()
            stack.down()
            suite.figures["deploy_down_s"] = time.monotonic() - began
            left = stack.leftovers()
            assert not any(left.values()), f"left behind: {left}"

        suite.phase("down", down)
    finally:
        stack.close()
    suite.print_goals(GOALS)
