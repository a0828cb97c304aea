"""Cronium runtime helpers for Python scripts.

Available as `cronium` in every script (no import needed; `import cronium`
works too). Values are JSON: what one language stores, the others read back
equal. A failing call raises `cronium.CroniumError` naming the reason;
`get_variable` of a key that does not exist returns None.
"""

import http.client
import json
import os
import socket
import urllib.parse

__all__ = ["CroniumError", "input", "output", "get_variable", "set_variable",
           "delete_variable", "list_variables", "set_condition", "event"]


class CroniumError(Exception):
    """A runtime API call failed; the message says why."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self._socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def _call(method, sub, payload=None, missing_ok=False):
    api = os.environ.get("CRONIUM_RUNTIME_API", "")
    job = os.environ.get("CRONIUM_EXECUTION_ID", "")
    token = os.environ.get("CRONIUM_EXECUTION_TOKEN", "")
    if not api.startswith("unix://") or not job or not token:
        raise CroniumError("the Cronium runtime API is not available (CRONIUM_RUNTIME_API is not set)")
    headers = {"Authorization": "Bearer " + token, "Connection": "close", "Accept": "application/json"}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode("utf-8")
        headers["Content-Type"] = "application/json"
    connection = _UnixConnection(api[len("unix://"):])
    try:
        connection.request(method, "/api/runtime/executions/%s/%s" % (job, sub), body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    except OSError as exc:
        raise CroniumError("%s %s: cannot reach the runtime API: %s" % (method, sub, exc)) from None
    finally:
        connection.close()
    if response.status == 404 and missing_ok:
        return None
    try:
        data = json.loads(raw.decode("utf-8")) if raw else None
    except ValueError:
        data = None
    if response.status >= 400:
        message = raw.decode("utf-8", "replace")[:300]
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            message = data["error"].get("message", message)
        raise CroniumError("%s %s failed (HTTP %d): %s" % (method, sub, response.status, message))
    return data


def _key(key):
    if not isinstance(key, str) or not key:
        raise CroniumError("variable key must be a non-empty string")
    return "variables/" + urllib.parse.quote(key, safe="")


def input():  # noqa: A001 - the helper's documented name
    """The job's input: a workflow step's parent output, or the run's input."""
    return _call("GET", "input")["input"]


def output(data):
    """Set the job's output (any JSON value); the next workflow step reads it."""
    _call("POST", "output", data)


def get_variable(key):
    """The variable's value, or None if it does not exist."""
    data = _call("GET", _key(key), missing_ok=True)
    return None if data is None else data["value"]


def set_variable(key, value):
    _call("PUT", _key(key), {"value": value})


def delete_variable(key):
    """True if the variable existed."""
    return _call("DELETE", _key(key))["deleted"]


def list_variables():
    return _call("GET", "variables")["keys"]


def set_condition(value):
    """The value on_condition workflow edges follow (True or False)."""
    if not isinstance(value, bool):
        raise CroniumError("set_condition takes True or False")
    _call("POST", "condition", {"condition": value})


def event():
    """The running event's name, id, type and this job's metadata."""
    return _call("GET", "event")
