"""A client generated from the app's own OpenAPI document (by
openapi-python-client, failing on any warning) drives a job end to end: sign
up, create an event, run it with an input, follow its log, read its result;
every reply comes back as the generated typed model, errors as the error
envelope."""

from __future__ import annotations

import importlib
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

pytestmark = pytest.mark.slow

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
PACKAGE = "cronium_generated_client"


@pytest.fixture(scope="module")
def generated(worker_app, tmp_path_factory) -> ModuleType:
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_text(httpx.get(f"{worker_app.url}/api/v1/openapi.json", timeout=30).text)
    (root / "config.json").write_text(json.dumps({"post_hooks": []}))  # no formatter run over the output
    done = subprocess.run(
        [GENERATOR, "generate", "--path", str(document), "--meta", "none", "--output-path", str(root / PACKAGE),
         "--config", str(root / "config.json"), "--fail-on-warning"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def part(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_generated_client_runs_a_job_end_to_end_with_typed_replies(generated, worker_app, running_worker):
    models = part(generated, "models")
    register = part(generated, "api.auth.register")
    create_event, execute_event = part(generated, "api.events.create_event"), part(generated, "api.events.execute_event")
    get_logs, get_job = part(generated, "api.jobs.get_logs"), part(generated, "api.jobs.get_job")

    with generated.Client(base_url=worker_app.url) as anonymous:
        signed_in = register.sync(client=anonymous, body=models.Credentials(
            email=f"gen-{secrets.token_hex(4)}@example.com", password="correct horse battery"))
    assert isinstance(signed_in, models.SignedIn), signed_in

    with generated.AuthenticatedClient(base_url=worker_app.url, token=signed_in.token) as client:
        event = create_event.sync(client=client, body=models.EventCreate(
            name="generated client", type_=models.EventType.PYTHON,
            script="import cronium, sys\nprint('hello', cronium.input()['n'])\nsys.exit(3)\n"))
        assert isinstance(event, models.Event), event
        queued = execute_event.sync(event.id, client=client, body=models.ExecuteBody(input_={"n": 7}))
        assert isinstance(queued, models.RunQueued), queued

        lines, after, deadline = [], 0, time.monotonic() + 120
        while time.monotonic() < deadline:
            page = get_logs.sync(queued.job_id, client=client, after_seq=after)
            assert isinstance(page, models.JobLogs), page
            lines.extend(line.line for line in page.lines)
            after = page.last_seq
            if page.complete:
                break
            time.sleep(0.2)
        job = get_job.sync(queued.job_id, client=client)
        assert isinstance(job, models.Job), job
        assert (lines, job.status, job.exit_code) == (["hello 7"], models.JobStatus.FAILED, 3)

        missing = get_job.sync("job_" + "0" * 20, client=client)
        assert isinstance(missing, models.ErrorEnvelope) and missing.error.code == "not_found"
