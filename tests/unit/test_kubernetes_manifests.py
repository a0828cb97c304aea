"""deploy/kubernetes/: every manifest is valid for the Kubernetes API (the
OpenAPI schemas kubernetes-validate ships, strict: no unknown field), for
the oldest version the files need (1.29: native sidecars) and the newest
the package knows; and the files agree with each other (selectors, the
ConfigMap and Secret keys they read, the probes' paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from cronium_app.api.health import router as health_router

pytestmark = pytest.mark.deploy

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def documents() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                found.append((f"{path.name}:{document['kind']}/{document['metadata']['name']}", document))
    return found


DOCUMENTS = documents()


def test_there_are_manifests_for_the_app_the_workers_and_their_settings():
    kinds = {name.split(":")[1].split("/")[0] for name, _ in DOCUMENTS}
    assert {"Deployment", "DaemonSet", "Service", "Ingress", "ConfigMap", "Secret", "NetworkPolicy"} <= kinds


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "document"), DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
def test_every_manifest_is_valid(name, document, version):
    kubernetes_validate.validate(document, version, strict=True)


def test_the_check_refuses_a_wrong_manifest():
    name, deployment = next(item for item in DOCUMENTS if item[0].startswith("app.yaml:Deployment"))
    broken = {**deployment, "spec": {**deployment["spec"], "replicas": "two", "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [document for _, document in DOCUMENTS if document["kind"] == kind]


def _pod_specs() -> list[dict[str, Any]]:
    return [workload["spec"]["template"]["spec"] for workload in _of_kind("Deployment") + _of_kind("DaemonSet")]


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return pod.get("initContainers", []) + pod["containers"]


def test_every_workload_selects_its_own_pods_and_every_service_selects_some():
    pod_labels = []
    for workload in _of_kind("Deployment") + _of_kind("DaemonSet"):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert workload["spec"]["selector"]["matchLabels"].items() <= labels.items(), workload["metadata"]["name"]
        pod_labels.append(labels)
    for service in _of_kind("Service"):
        if service["spec"].get("type") != "ExternalName":
            assert any(service["spec"]["selector"].items() <= labels.items() for labels in pod_labels)


def test_every_setting_a_pod_reads_is_there():
    data = {("ConfigMap", c["metadata"]["name"]): set(c["data"]) for c in _of_kind("ConfigMap")}
    data.update({("Secret", s["metadata"]["name"]): set(s["stringData"]) for s in _of_kind("Secret")})
    for pod in _pod_specs():
        for container in _containers(pod):
            for source in container.get("envFrom", []):
                kind, ref = ("ConfigMap", source["configMapRef"]) if "configMapRef" in source else ("Secret", source["secretRef"])
                assert (kind, ref["name"]) in data
            for variable in container.get("env", []):
                for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    ref = variable.get("valueFrom", {}).get(key)
                    if ref:
                        assert ref["key"] in data[(kind, ref["name"])], variable["name"]


def test_the_app_is_probed_where_the_app_answers():
    routes = {route.path for route in health_router.routes}
    (app,) = [c for pod in _pod_specs() for c in pod["containers"] if c["name"] == "app"]
    probed = {app[probe]["httpGet"]["path"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")}
    assert probed == {"/healthz", "/readyz"} <= routes
