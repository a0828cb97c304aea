"""The `cronium` helpers inside real containers: a real app, a real worker,
real Docker. Python, Node and Bash scripts use every helper, read back what
the other languages stored, meet the limits, find no network, and see only
their owner's variables.

The module's jobs run in two waves, each queued at once (the worker runs 8
at a time): the writers and the independent jobs, then the readers, which
need what the writers stored.

Bash's convention (cronium.sh): `cronium_set_variable KEY VALUE` stores
VALUE as JSON when it parses as JSON, else as a string, so a string that
looks like JSON (`"42"`, `"true"`) must be passed JSON-quoted; and
`cronium_get_variable KEY` prints a string value raw and any other value as
compact JSON (so a string "42" and a number 42 print the same), and prints
nothing at all, with exit status 0, for a key that does not exist.
"""

from __future__ import annotations

import json
import shlex
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.worker.jobkit import brief, texts
from tests.support.clients import UserClient, job_lines, register_user, wait_for_job

MIB = 1024 * 1024
LANGS = ("py", "node", "sh")  # variable key prefixes of the three writers

# What every language stores, and reads back from the other two.
VALUES: dict[str, Any] = {
    "str": "hello world",
    "unicode": "héllo wörld ✓ 🚀 日本語 Ωμέγα",
    "empty": "",
    "numstr": "42",  # a string that looks like JSON
    "truestr": "true",
    "int": 42,
    "neg": -7,
    "big": 2147483648,
    "zero": 0,
    "float": 3.14159,
    "float2": 0.30000000000000004,
    "negfloat": -0.5,
    "true": True,
    "false": False,
    "null": None,
    "list": [1, "two", 3.5, None, True, False, "ü🎉", []],
    "obj": {
        "name": "Zoë 🎉",
        "nested": {"list": [1, {"deep": [False, None, "日本"]}], "pi": 3.14, "count": 0},
        "empty": {},
        "none": None,
        "flag": True,
    },
}
API_VALUE = {"set": "by the API", "ü": [1, 2.5, None, {"ok": True}]}
B_SECRET = "B's secret ✓"
MISSING = "no.such.key"


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: types included (True is not 1, "42" is not 42),
    1 and 1.0 the same number, object key order ignored (JSONB reorders)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def bash_argument(value: Any) -> str:
    """How a Bash script passes VALUE to cronium_set_variable."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value  # a plain string goes as it is
        return json.dumps(value, ensure_ascii=False)  # "42" → '"42"'
    return compact(value)


def assert_bash_printed(printed: str, expected: Any, what: str) -> None:
    """cronium_get_variable prints strings raw, anything else as compact JSON."""
    if isinstance(expected, str):
        assert printed == expected, (what, printed, expected)
        return
    parsed = json.loads(printed)
    assert same_json(parsed, expected), (what, printed, expected)
    assert printed == compact(parsed), f"{what}: not compact JSON: {printed!r}"


# -- scripts -----------------------------------------------------------------------

PY_WRITER = """\
import builtins
global_cronium = cronium  # usable without an import ...
import cronium  # ... and with one: the same module
assert cronium is global_cronium is builtins.cronium, "import cronium and the builtin differ"

inp = cronium.input()
prefix = inp["prefix"]
for key, value in inp["values"].items():
    cronium.set_variable(prefix + key, value)
own = {key: cronium.get_variable(prefix + key) for key in inp["values"]}
cronium.set_condition(True)
cronium.output({"input": inp, "event": cronium.event(), "own": own})
print("python writer done")
"""

NODE_WRITER = """\
const globalCronium = cronium; // the global, before any require
const required = require('cronium');
(async () => {
  if (required !== globalCronium) throw new Error("require('cronium') and the global differ");
  const inp = await cronium.input();
  for (const [key, value] of Object.entries(inp.values)) await cronium.setVariable(inp.prefix + key, value);
  const own = {};
  for (const key of Object.keys(inp.values)) own[key] = await required.getVariable(inp.prefix + key);
  await cronium.setCondition(false);
  await required.output({ input: inp, event: await cronium.event(), own });
  console.log('node writer done');
})().catch((e) => { console.error('FAILED', e && e.stack ? e.stack : e); process.exit(1); });
"""


def bash_writer() -> str:
    lines = ["inp=$(cronium_input) || exit 11"]
    for key, value in VALUES.items():
        lines.append(f"cronium_set_variable sh.{key} {shlex.quote(bash_argument(value))} || exit 12")
    for key in VALUES:
        lines.append(f"v=$(cronium_get_variable sh.{key}) || exit 13")
        lines.append(f"printf 'OWN|{key}|%s\\n' \"$v\"")
    lines += [
        "own=$(cronium_get_variable sh.obj) || exit 14",
        "ev=$(cronium_event) || exit 15",
        "cronium_set_condition true || exit 16",
        'cronium_output "{\\"input\\":$inp,\\"event\\":$ev,\\"ownObj\\":$own}" || exit 17',
        "echo 'bash writer done'",
    ]
    return "\n".join(lines) + "\n"


PY_READER = """\
inp = cronium.input()
read = {p: {k: cronium.get_variable(p + "." + k) for k in inp["keys"]} for p in inp["prefixes"]}
missing = cronium.get_variable(inp["missing"])
assert missing is None
cronium.output({"read": read, "api": cronium.get_variable(inp["api"]), "missing": missing,
                "keys": cronium.list_variables()})
"""

NODE_READER = """\
(async () => {
  const inp = await cronium.input();
  const read = {};
  for (const p of inp.prefixes) {
    read[p] = {};
    for (const k of inp.keys) read[p][k] = await cronium.getVariable(p + '.' + k);
  }
  const missing = await cronium.getVariable(inp.missing);
  if (missing !== null) throw new Error('a missing key gave ' + missing);
  await cronium.output({ read, api: await cronium.getVariable(inp.api), missing, keys: await cronium.listVariables() });
})().catch((e) => { console.error('FAILED', e && e.stack ? e.stack : e); process.exit(1); });
"""


def bash_reader() -> str:
    lines = []
    for prefix in ("py", "node"):
        for key in VALUES:
            lines.append(f"v=$(cronium_get_variable {prefix}.{key}) || exit 21")
            lines.append(f"printf 'R|{prefix}|{key}|%s\\n' \"$v\"")
    lines += [
        "v=$(cronium_get_variable api.obj) || exit 22",
        "printf 'API|%s\\n' \"$v\"",
        f"cronium_get_variable {MISSING} > /tmp/missing; rc=$?",
        "printf 'MISSING|%s|%s\\n' \"$rc\" \"$(wc -c < /tmp/missing)\"",
    ]
    return "\n".join(lines) + "\n"


PY_ERRORS = """\
import json
import cronium

results = {}

def attempt(name, call):
    try:
        call()
        results[name] = "no error"
    except cronium.CroniumError as exc:
        results[name] = "CroniumError: " + str(exc)

attempt("badKey", lambda: cronium.set_variable("bad key!", 1))
attempt("longKey", lambda: cronium.get_variable("k" * 129))
attempt("bigValue", lambda: cronium.set_variable("py.toolarge", "x" * (1024 * 1024 + 1)))
attempt("badCondition", lambda: cronium.set_condition("yes"))
results["stillWorks"] = cronium.get_variable("py.err.ok") is None
cronium.output(results)
print(json.dumps(results))
"""

NODE_ERRORS = """\
(async () => {
  const results = {};
  const attempt = async (name, call) => {
    try {
      await call();
      results[name] = 'no error';
    } catch (e) {
      results[name] = (e instanceof cronium.CroniumError ? 'CroniumError: ' : 'other: ') + e.message;
    }
  };
  await attempt('badKey', () => cronium.setVariable('bad key!', 1));
  await attempt('longKey', () => cronium.getVariable('k'.repeat(129)));
  await attempt('bigValue', () => cronium.setVariable('node.toolarge', 'x'.repeat(1024 * 1024 + 1)));
  await attempt('badCondition', () => cronium.setCondition('yes'));
  results.stillWorks = (await cronium.getVariable('node.err.ok')) === null;
  await cronium.output(results);
  console.log(JSON.stringify(results));
})().catch((e) => { console.error('FAILED', e && e.stack ? e.stack : e); process.exit(1); });
"""

SH_ERRORS = """\
cronium_set_variable 'bad key!' 1; echo "badKey rc=$?"
cronium_get_variable "$(printf 'k%.0s' $(seq 129))"; echo "longKey rc=$?"
cronium_set_variable sh.toolarge "$(head -c 1048577 /dev/zero | tr '\\0' x)"; echo "bigValue rc=$?"
cronium_output '{not json'; echo "badOutput rc=$?"
cronium_set_condition maybe; echo "badCondition rc=$?"
v=$(cronium_get_variable sh.err.ok); echo "missing rc=$? len=${#v}"
cronium_output '{"bash": "still works"}'; echo "output rc=$?"
"""

NETWORK = """\
import json, socket

cronium.set_variable("net.before", {"helper": "works"})
tried = {}
for host, port in [("172.17.0.1", 80), ("172.17.0.1", {listener_port}), ("127.0.0.1", {app_port})]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        tried[f"{host}:{port}"] = "connected"
    except OSError as exc:
        tried[f"{host}:{port}"] = f"{type(exc).__name__}: {exc}"
cronium.output({"tried": tried, "helper": cronium.get_variable("net.before")})
print(json.dumps(tried))
"""

# Straight to the socket with curl, as a script could: paths of other jobs
# (also of the same owner), a dot-segment escape and other APIs.
RELAY = """\
sock=/run/cronium/runtime.sock
auth="Authorization: Bearer $CRONIUM_EXECUTION_TOKEN"
for path in "/api/runtime/executions/{other}/input" \\
            "/api/runtime/executions/{other}/variables/py.str" \\
            "/api/runtime/executions/$CRONIUM_EXECUTION_ID/../{other}/input" \\
            "/api/v1/variables" "/api/internal/jobs/queue" "/ping"; do
    code=$(curl -sS --path-as-is -o /tmp/body -w '%{{http_code}}' --unix-socket "$sock" -H "$auth" "http://localhost$path")
    printf 'RELAY|%s|%s|%s\\n' "$code" "$path" "$(cat /tmp/body)"
done
code=$(curl -sS -o /tmp/body -w '%{{http_code}}' --unix-socket "$sock" -H "$auth" \\
    "http://localhost/api/runtime/executions/$CRONIUM_EXECUTION_ID/input")
printf 'OWN|%s|%s\\n' "$code" "$(cat /tmp/body)"
"""

ISOLATION_A = """\
before = cronium.get_variable("shared.key")
keys = cronium.list_variables()
cronium.set_variable("shared.key", "A's value")
cronium.output({"before": before, "keys": keys, "after": cronium.get_variable("shared.key"),
                "bOnly": cronium.get_variable("b.only")})
"""

ISOLATION_B = """\
v=$(cronium_get_variable shared.key) || exit 1
printf 'B|%s\\n' "$v"
"""


# -- fixtures ----------------------------------------------------------------------


def queue(user: UserClient, name: str, kind: str, script: str, input: Any = None) -> str:
    event = user.create_event(name=name, type=kind, script=script, timeoutSeconds=120)
    return user.execute(event["id"], input=input) if input is not None else user.execute(event["id"])


def done(user: UserClient, job_id: str, timeout: float = 120) -> dict[str, Any]:
    return wait_for_job(user, job_id, timeout=timeout)


def completed(user: UserClient, job_id: str) -> dict[str, Any]:
    job = done(user, job_id)
    assert job["status"] == "completed" and job["exitCode"] == 0, (brief(job), texts(job_lines(user, job_id)))
    return job


@pytest.fixture(scope="module")
def user_b(worker_app) -> Iterator[UserClient]:
    client = register_user(worker_app.url)
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def host_listener() -> Iterator[int]:
    """A TCP listener on this machine's docker0 address: reachable from here,
    so a container failing to reach it shows the container has no network."""
    server = socket.socket()
    server.bind(("172.17.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                conn.close()
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    server.close()


@pytest.fixture(scope="module")
def db(worker_app) -> Iterator[sa.Engine]:
    engine = sa.create_engine(worker_app.database_url)
    yield engine
    engine.dispose()


def stored_condition(db: sa.Engine, job_id: str) -> bool | None:
    """Job.condition is not part of the public job view; read it from the database."""
    with db.connect() as conn:
        value = conn.execute(sa.text("SELECT condition FROM jobs WHERE id = :id"), {"id": job_id}).scalar()
    return None if value is None else bool(value)


@pytest.fixture(scope="module")
def wave1(worker_app, worker_user, user_b, running_worker, host_listener) -> dict[str, str]:
    """The writers and every job that needs nothing from another job."""
    user = worker_user
    assert user.http.put("/api/v1/variables/api.obj", json={"value": API_VALUE}).status_code in (200, 201)
    assert user_b.http.put("/api/v1/variables/shared.key", json={"value": B_SECRET}).status_code == 201
    assert user_b.http.put("/api/v1/variables/b.only", json={"value": "only B has this"}).status_code == 201
    jobs: dict[str, str] = {}
    jobs["py_writer"] = queue(user, "python writer", "python", PY_WRITER, {"prefix": "py.", "values": VALUES})
    jobs["node_writer"] = queue(user, "node writer", "node", NODE_WRITER, {"prefix": "node.", "values": VALUES})
    jobs["sh_writer"] = queue(user, "bash writer", "bash", bash_writer(), {"lang": "bash", "n": [1, 2.5, "ü"]})
    jobs["py_errors"] = queue(user, "python errors", "python", PY_ERRORS)
    jobs["node_errors"] = queue(user, "node errors", "node", NODE_ERRORS)
    jobs["sh_errors"] = queue(user, "bash errors", "bash", SH_ERRORS)
    jobs["network"] = queue(user, "network", "python",
                            NETWORK.replace("{listener_port}", str(host_listener)).replace("{app_port}", str(worker_app.port)))
    jobs["relay"] = queue(user, "relay", "bash", RELAY.format(other=jobs["py_writer"]))
    jobs["isolation_a"] = queue(user, "isolation A", "python", ISOLATION_A)
    return jobs


@pytest.fixture(scope="module")
def wave2(wave1, worker_user, user_b) -> dict[str, str]:
    """Readers, once the writers (and A's isolation job) are done."""
    user = worker_user
    for name in ("py_writer", "node_writer", "sh_writer", "isolation_a"):
        completed(user, wave1[name])
    keys = list(VALUES)
    jobs: dict[str, str] = {}
    jobs["py_reader"] = queue(user, "python reader", "python", PY_READER,
                              {"prefixes": ["node", "sh"], "keys": keys, "missing": MISSING, "api": "api.obj"})
    jobs["node_reader"] = queue(user, "node reader", "node", NODE_READER,
                                {"prefixes": ["py", "sh"], "keys": keys, "missing": MISSING, "api": "api.obj"})
    jobs["sh_reader"] = queue(user, "bash reader", "bash", bash_reader())
    jobs["isolation_b"] = queue(user_b, "isolation B", "bash", ISOLATION_B)
    return jobs


def check_event_info(output_event: dict[str, Any], job: dict[str, Any], kind: str, name: str) -> None:
    assert output_event["id"] == job["eventId"] and output_event["name"] == name and output_event["type"] == kind
    assert output_event["job"]["id"] == job["id"] and output_event["job"]["attempt"] == 1
    assert output_event["job"]["timeoutSeconds"] == 120
    assert "script" not in output_event


# -- every helper in each language ---------------------------------------------------


def test_python_script_uses_every_helper(worker_user, wave1, db):
    job = completed(worker_user, wave1["py_writer"])
    output = job["output"]
    assert same_json(output["input"], {"prefix": "py.", "values": VALUES})
    assert same_json(output["own"], VALUES)
    check_event_info(output["event"], job, "python", "python writer")
    assert stored_condition(db, job["id"]) is True
    assert texts(job_lines(worker_user, job["id"])) == ["python writer done"]


def test_node_script_uses_every_helper(worker_user, wave1, db):
    job = completed(worker_user, wave1["node_writer"])
    output = job["output"]
    assert same_json(output["input"], {"prefix": "node.", "values": VALUES})
    assert same_json(output["own"], VALUES)
    check_event_info(output["event"], job, "node", "node writer")
    assert stored_condition(db, job["id"]) is False
    assert texts(job_lines(worker_user, job["id"])) == ["node writer done"]


def test_bash_script_uses_every_helper(worker_user, wave1, db):
    job = completed(worker_user, wave1["sh_writer"])
    output = job["output"]
    assert same_json(output["input"], {"lang": "bash", "n": [1, 2.5, "ü"]})
    assert same_json(output["ownObj"], VALUES["obj"])
    check_event_info(output["event"], job, "bash", "bash writer")
    assert stored_condition(db, job["id"]) is True
    lines = texts(job_lines(worker_user, job["id"]))
    assert lines[-1] == "bash writer done"
    own = dict(line.split("|", 2)[1:] for line in lines if line.startswith("OWN|"))
    assert own.keys() == VALUES.keys()
    for key, value in VALUES.items():
        assert_bash_printed(own[key], value, f"sh.{key}")


# -- across languages ------------------------------------------------------------------


def test_values_set_in_one_language_are_read_back_equal_by_the_other_two(worker_user, wave2):
    python = completed(worker_user, wave2["py_reader"])["output"]
    node = completed(worker_user, wave2["node_reader"])["output"]
    for reader, output, others in [("python", python, ("node", "sh")), ("node", node, ("py", "sh"))]:
        assert set(output["read"]) == set(others)
        for writer in others:
            for key, value in VALUES.items():
                got = output["read"][writer][key]
                assert same_json(got, value), f"{reader} read {writer}.{key} as {got!r}, stored {value!r}"
    lines = texts(job_lines(worker_user, completed(worker_user, wave2["sh_reader"])["id"]))
    read = {}
    for line in lines:
        if line.startswith("R|"):
            _, writer, key, printed = line.split("|", 3)
            read[(writer, key)] = printed
    assert set(read) == {(writer, key) for writer in ("py", "node") for key in VALUES}, lines
    for (writer, key), printed in read.items():
        assert_bash_printed(printed, VALUES[key], f"bash read {writer}.{key}")


def test_bash_convention_strings_raw_other_values_compact_json(worker_user, wave2):
    """Spelled out on a few values (the general check is above)."""
    lines = texts(job_lines(worker_user, completed(worker_user, wave2["sh_reader"])["id"]))
    printed = {tuple(line.split("|", 3)[1:3]): line.split("|", 3)[3] for line in lines if line.startswith("R|")}
    assert printed[("py", "str")] == "hello world"
    assert printed[("py", "unicode")] == VALUES["unicode"]
    assert printed[("py", "numstr")] == "42" and printed[("py", "int")] == "42"  # the same text
    assert printed[("py", "truestr")] == "true" and printed[("py", "true")] == "true"
    assert printed[("py", "empty")] == ""
    assert printed[("py", "null")] == "null"
    assert printed[("py", "float2")] == "0.30000000000000004"
    assert printed[("node", "list")] == '[1,"two",3.5,null,true,false,"ü🎉",[]]'
    assert " " not in printed[("node", "obj")].replace("Zoë 🎉", "")


def test_missing_variable_is_none_null_or_empty_with_exit_0(worker_user, wave2):
    assert completed(worker_user, wave2["py_reader"])["output"]["missing"] is None
    assert completed(worker_user, wave2["node_reader"])["output"]["missing"] is None
    lines = texts(job_lines(worker_user, completed(worker_user, wave2["sh_reader"])["id"]))
    # Exit status 0 and not a byte printed (an empty string prints a newline).
    assert "MISSING|0|0" in lines, lines


def test_script_writes_and_api_writes_are_the_same_variables(worker_user, wave2):
    listed = worker_user.http.get("/api/v1/variables", params={"limit": 200}).json()["items"]
    by_key = {item["key"]: item["value"] for item in listed}
    for prefix in LANGS:
        for key, value in VALUES.items():
            assert f"{prefix}.{key}" in by_key, f"{prefix}.{key} missing from GET /api/v1/variables"
            assert same_json(by_key[f"{prefix}.{key}"], value), (prefix, key, by_key[f"{prefix}.{key}"])
    single = worker_user.http.get("/api/v1/variables/node.obj")
    assert single.status_code == 200 and same_json(single.json()["value"], VALUES["obj"])
    # The API's value, read inside containers.
    for reader in ("py_reader", "node_reader"):
        output = completed(worker_user, wave2[reader])["output"]
        assert same_json(output["api"], API_VALUE)
        assert {"api.obj", "py.obj", "node.obj", "sh.obj"} <= set(output["keys"])
    lines = texts(job_lines(worker_user, completed(worker_user, wave2["sh_reader"])["id"]))
    api_line = next(line for line in lines if line.startswith("API|"))
    assert_bash_printed(api_line[len("API|"):], API_VALUE, "bash read api.obj")


# -- failures ---------------------------------------------------------------------------


def test_failing_calls_raise_in_python(worker_user, wave1):
    results = completed(worker_user, wave1["py_errors"])["output"]
    assert results["badKey"].startswith("CroniumError: ") and "HTTP 422" in results["badKey"]
    assert "key" in results["badKey"]
    assert "HTTP 422" in results["longKey"]
    assert "HTTP 413" in results["bigValue"] and "limit" in results["bigValue"]
    assert results["badCondition"].startswith("CroniumError: ") and "True or False" in results["badCondition"]
    assert results["stillWorks"] is True
    assert worker_user.http.get("/api/v1/variables/py.toolarge").status_code == 404


def test_failing_calls_reject_in_node(worker_user, wave1):
    results = completed(worker_user, wave1["node_errors"])["output"]
    assert results["badKey"].startswith("CroniumError: ") and "HTTP 422" in results["badKey"]
    assert "HTTP 422" in results["longKey"]
    assert results["bigValue"].startswith("CroniumError: ") and "HTTP 413" in results["bigValue"]
    assert "limit" in results["bigValue"]
    assert results["badCondition"].startswith("CroniumError: ") and "true or false" in results["badCondition"]
    assert results["stillWorks"] is True
    assert worker_user.http.get("/api/v1/variables/node.toolarge").status_code == 404


def test_failing_calls_return_non_zero_with_a_message_in_bash(worker_user, wave1):
    job = completed(worker_user, wave1["sh_errors"])
    lines = job_lines(worker_user, job["id"])
    stdout, stderr = texts(lines, "stdout"), texts(lines, "stderr")
    assert stdout == [
        "badKey rc=2",  # refused before any request
        "longKey rc=2",
        "bigValue rc=1",  # the app's 413
        "badOutput rc=1",  # the app's 422
        "badCondition rc=2",
        "missing rc=0 len=0",
        "output rc=0",
    ], (stdout, stderr)
    assert any("variable key must be" in line for line in stderr), stderr
    assert any("cronium_set_variable sh.toolarge failed (HTTP 413)" in line and "limit" in line for line in stderr), stderr
    assert any("cronium_output failed (HTTP 422)" in line and "JSON" in line for line in stderr), stderr
    assert any("takes true or false" in line for line in stderr), stderr
    assert job["output"] == {"bash": "still works"}
    assert worker_user.http.get("/api/v1/variables/sh.toolarge").status_code == 404


# -- confinement ------------------------------------------------------------------------


def test_container_has_no_network_while_helpers_work(worker_app, worker_user, wave1, host_listener):
    # From here, the listener (and the app) can be reached...
    socket.create_connection(("172.17.0.1", host_listener), timeout=3).close()
    socket.create_connection(("127.0.0.1", worker_app.port), timeout=3).close()
    # ... from the container, nothing, while the helpers work.
    job = completed(worker_user, wave1["network"])
    output = job["output"]
    assert output["helper"] == {"helper": "works"}
    tried = output["tried"]
    assert set(tried) == {"172.17.0.1:80", f"172.17.0.1:{host_listener}", f"127.0.0.1:{worker_app.port}"}
    for target, result in tried.items():
        assert result != "connected", (target, tried)
        assert result.split(":")[0] in ("OSError", "ConnectionRefusedError", "TimeoutError", "socket.timeout"), tried
    # Off the loopback there is no route at all.
    assert "unreachable" in tried[f"172.17.0.1:{host_listener}"].lower(), tried


def test_socket_refuses_other_jobs_paths(worker_user, wave1):
    job = completed(worker_user, wave1["relay"])
    lines = texts(job_lines(worker_user, job["id"]))
    relayed = [line.split("|", 3) for line in lines if line.startswith("RELAY|")]
    assert len(relayed) == 6, lines
    for _, code, path, body in relayed:
        assert code == "403", (path, code, body)
        assert "only serves the job's own runtime API" in body, (path, body)
    own = next(line for line in lines if line.startswith("OWN|"))
    assert own.startswith("OWN|200|"), own
    # The other job's input was not given away.
    assert "values" not in "\n".join(lines)


def test_script_cannot_read_another_users_variable(worker_user, user_b, wave1, wave2):
    output = completed(worker_user, wave1["isolation_a"])["output"]
    assert output["before"] is None, output  # B's variable of the same key is not visible
    assert output["bOnly"] is None
    assert "shared.key" not in output["keys"] and "b.only" not in output["keys"]
    assert output["after"] == "A's value"
    # A's write went to A's variables; B's value is unchanged, for B's API and B's scripts.
    assert user_b.http.get("/api/v1/variables/shared.key").json()["value"] == B_SECRET
    assert worker_user.http.get("/api/v1/variables/shared.key").json()["value"] == "A's value"
    assert worker_user.http.get("/api/v1/variables/b.only").status_code == 404
    job_b = completed(user_b, wave2["isolation_b"])
    assert texts(job_lines(user_b, job_b["id"])) == [f"B|{B_SECRET}"]
    # And B's listing has none of A's variables.
    keys_b = {item["key"] for item in user_b.http.get("/api/v1/variables", params={"limit": 200}).json()["items"]}
    assert keys_b == {"shared.key", "b.only"}
