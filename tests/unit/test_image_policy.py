"""CRONIUM_ALLOWED_IMAGES: exact references after `name` → `name:latest`;
the runtime image is always allowed."""

from __future__ import annotations

import pytest

from orchestrator_worker.image_policy import allowed_images, normalise, refusal
from orchestrator_worker.settings import WorkerSettings

RUNTIME = "cronium-runtime:latest"


@pytest.mark.parametrize(
    ("reference", "normalised"),
    [
        ("debian", "debian:latest"),
        ("debian:12", "debian:12"),
        (" library/debian ", "library/debian:latest"),
        ("registry.local:5000/team/tool", "registry.local:5000/team/tool:latest"),
        ("registry.local:5000/team/tool:1.2", "registry.local:5000/team/tool:1.2"),
        ("tool@sha256:" + "a" * 64, "tool@sha256:" + "a" * 64),
    ],
)
def test_a_reference_without_a_tag_means_latest(reference, normalised):
    assert normalise(reference) == normalised


def test_by_default_only_the_runtime_image_is_allowed():
    allowed = allowed_images("", RUNTIME)
    assert allowed == {RUNTIME}
    assert refusal("cronium-runtime", allowed) is None
    assert refusal("debian:12", allowed) == (
        "image 'debian:12' is not allowed here (allowed: cronium-runtime:latest; see CRONIUM_ALLOWED_IMAGES)"
    )


def test_listed_images_are_allowed_besides_the_runtime_image():
    allowed = allowed_images("tools:1, debian ,,", RUNTIME)
    assert allowed == {"tools:1", "debian:latest", RUNTIME}
    assert refusal("debian:latest", allowed) is None
    assert refusal("tools:1", allowed) is None


@pytest.mark.parametrize("image", ["tools:2", "tools", "docker.io/library/tools:1", "tools@sha256:" + "b" * 64, "TOOLS:1"])
def test_nothing_but_the_exact_reference_matches(image):
    assert refusal(image, allowed_images("tools:1", RUNTIME)) is not None


def test_the_worker_reads_the_list_and_its_runtime_image():
    settings = WorkerSettings(
        _env_file=None, ORCHESTRATOR_TOKEN="unit-test-token",
        CRONIUM_ALLOWED_IMAGES="tools:1", CRONIUM_RUNTIME_IMAGE="my-runtime",
    )
    assert settings.allowed_images == {"tools:1", "my-runtime:latest"}
