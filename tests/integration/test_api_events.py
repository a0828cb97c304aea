"""Public events API (/api/v1/events) over real HTTP against the running app:
CRUD, filters and pagination, bad input (each a 4xx with a JSON message that
changes nothing), and execution (202, input, idempotency, archived events)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.integration.shared_users import make_user, no_open_jobs_left, user  # noqa: F401 (fixtures)
from tests.support.clients import UserClient

SCRIPT_MAX_BYTES = 256 * 1024  # CRONIUM_SCRIPT_MAX_BYTES default
REQUEST_MAX_BYTES = 8 * 1024 * 1024  # CRONIUM_REQUEST_MAX_BYTES default
JOB_IO_MAX_BYTES = 5 * 1024 * 1024  # CRONIUM_JOB_IO_MAX_BYTES default


def unique(prefix: str = "ev") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert "error" in body, body
    assert body["error"]["message"], body
    return body["error"]


def field_names(error: dict[str, Any]) -> set[str]:
    """Field names an error points at (service errors give a mapping,
    request validation errors a list of {field, ...})."""
    fields = error.get("fields") or {}
    if isinstance(fields, dict):
        return set(fields)
    return {item["field"].split(".")[-1] for item in fields}


def event_total(user: UserClient) -> int:
    response = user.http.get("/api/v1/events", params={"limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def post_raw(user: UserClient, path: str, content: bytes, method: str = "POST") -> httpx.Response:
    return user.http.request(method, path, content=content, headers={"Content-Type": "application/json"})


# -- create / read ----------------------------------------------------------


def test_create_event_returns_201_with_the_stored_event(user):
    response = user.http.post(
        "/api/v1/events",
        json={"name": "nightly backup", "type": "bash", "script": "echo hi", "description": "d", "tags": ["a", "b"]},
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert isinstance(event["id"], int)
    assert event["name"] == "nightly backup"
    assert event["type"] == "bash"
    assert event["script"] == "echo hi"
    assert event["description"] == "d"
    assert event["tags"] == ["a", "b"]


def test_create_event_fills_defaults(user):
    event = user.create_event(name="defaults")
    assert event["status"] == "active"
    assert event["network"] == "none"
    assert event["timeoutSeconds"] == 300
    assert event["cpus"] == 1.0
    assert event["memoryMb"] == 256
    assert event["pidsLimit"] == 128
    assert event["retries"] == 0
    assert event["envVars"] == {}


def test_get_event_returns_what_was_created(user):
    created = user.create_event(name="fetch me", type="python", script="print(1)", envVars={"A_B": "1"})
    response = user.http.get(f"/api/v1/events/{created['id']}")
    assert response.status_code == 200, response.text
    assert response.json() == created


def test_get_unknown_event_is_404_with_json_message(user):
    response = user.http.get("/api/v1/events/999999999")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_event_id_that_is_not_a_number_is_422(user):
    response = user.http.get("/api/v1/events/abc")
    assert response.status_code == 422
    error_of(response)


# -- list, filters, pagination -----------------------------------------------
# The module's user is shared: each test marks its own events with a unique
# tag and filters on it (or asks make_user() for an empty account).


def listed(user: UserClient, **params: Any) -> dict[str, Any]:
    response = user.http.get("/api/v1/events", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_list_events_shows_created_events_newest_first(user):
    tag = unique("order")
    first = user.create_event(name=f"one {tag}")
    second = user.create_event(name=f"two {tag}")
    body = listed(user, q=tag)
    assert [e["id"] for e in body["items"]] == [second["id"], first["id"]]
    assert body["total"] == 2


def test_list_events_without_filters_counts_every_event_of_the_user(make_user):
    fresh = make_user()
    for i in range(3):
        fresh.create_event(name=f"e{i}")
    body = listed(fresh)
    assert body["total"] == 3
    assert len(body["items"]) == 3


def test_list_events_paginates_with_limit_offset_and_total(user):
    tag = unique("page")
    ids = {user.create_event(name=f"page {i} {tag}")["id"] for i in range(5)}
    seen: list[int] = []
    for offset in (0, 2, 4):
        body = listed(user, q=tag, limit=2, offset=offset)
        assert body["total"] == 5
        assert body["limit"] == 2
        assert body["offset"] == offset
        assert len(body["items"]) == (2 if offset < 4 else 1)
        seen.extend(e["id"] for e in body["items"])
    assert len(seen) == 5
    assert set(seen) == ids


def test_list_events_offset_past_the_end_is_empty(user):
    tag = unique("past")
    user.create_event(name=tag)
    body = listed(user, q=tag, offset=10)
    assert body["items"] == []
    assert body["total"] == 1


def test_list_events_limit_above_maximum_is_422(user):
    response = user.http.get("/api/v1/events", params={"limit": 100000})
    assert response.status_code == 422
    error_of(response)


def test_list_events_negative_offset_is_422(user):
    response = user.http.get("/api/v1/events", params={"offset": -1})
    assert response.status_code == 422
    error_of(response)


def test_list_events_filters_by_text_in_name_case_insensitively(user):
    tag = unique("text")
    wanted = user.create_event(name=f"Alpha report {tag}")
    user.create_event(name=f"beta report {tag}")
    body = listed(user, q=f"alpha REPORT {tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]
    assert body["total"] == 1


def test_list_events_filters_by_text_in_description(user):
    tag = unique("desc")
    wanted = user.create_event(name="x", description=f"rotates the logs {tag}")
    user.create_event(name="y", description=f"something else {tag}")
    body = listed(user, q=f"rotates the logs {tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_list_events_filters_by_type(user):
    tag = unique("type")
    python_event = user.create_event(name=f"py {tag}", type="python", script="print(1)")
    user.create_event(name=f"sh {tag}", type="bash", script="echo 1")
    body = listed(user, q=tag, type="python")
    assert [e["id"] for e in body["items"]] == [python_event["id"]]


def test_list_events_filters_by_status(user):
    tag = unique("status")
    paused = user.create_event(name=f"p {tag}", status="paused")
    user.create_event(name=f"a {tag}")
    body = listed(user, q=tag, status="paused")
    assert [e["id"] for e in body["items"]] == [paused["id"]]


def test_list_events_with_unknown_type_filter_is_422(user):
    response = user.http.get("/api/v1/events", params={"type": "ruby"})
    assert response.status_code == 422
    error_of(response)


def test_list_events_with_unknown_status_filter_is_422(user):
    response = user.http.get("/api/v1/events", params={"status": "deleted"})
    assert response.status_code == 422
    error_of(response)


def test_list_events_percent_in_filter_matches_literally(user):
    tag = unique("pct")
    wanted = user.create_event(name=f"100% {tag}")
    user.create_event(name=f"100 {tag}")
    user.create_event(name=f"1000 {tag}")
    body = listed(user, q=f"100% {tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_list_events_underscore_in_filter_matches_literally(user):
    tag = unique("und")
    wanted = user.create_event(name=f"a_b {tag}")
    user.create_event(name=f"axb {tag}")
    body = listed(user, q=f"a_b {tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_list_events_lone_percent_filter_matches_only_names_with_percent(make_user):
    fresh = make_user()
    fresh.create_event(name="plain")
    wanted = fresh.create_event(name="50% off")
    body = listed(fresh, q="%")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_list_events_lone_underscore_filter_matches_only_names_with_underscore(make_user):
    fresh = make_user()
    fresh.create_event(name="plain")
    wanted = fresh.create_event(name="snake_case")
    body = listed(fresh, q="_")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_list_events_backslash_in_filter_matches_literally(user):
    tag = unique("bs")
    wanted = user.create_event(name=f"C:\\temp {tag}")
    user.create_event(name=f"C:temp {tag}")
    body = listed(user, q=f"C:\\temp {tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


# -- SQL and HTML are data ---------------------------------------------------

SQL_NAME = "'; DROP TABLE events; --"
HTML_NAME = "<script>alert(1)</script>"


def test_sql_in_event_name_is_stored_and_returned_verbatim(user):
    created = user.create_event(name=SQL_NAME, description="x' OR '1'='1")
    fetched = user.http.get(f"/api/v1/events/{created['id']}").json()
    assert fetched["name"] == SQL_NAME
    assert fetched["description"] == "x' OR '1'='1"


def test_sql_in_event_name_does_not_drop_the_table(user):
    before = event_total(user)
    user.create_event(name=SQL_NAME)
    other = user.create_event(name=unique("still here"))
    assert user.http.get(f"/api/v1/events/{other['id']}").status_code == 200
    assert event_total(user) == before + 2


def test_sql_in_filter_matches_literally(user):
    name = f"{SQL_NAME} {unique('sql')}"
    wanted = user.create_event(name=name)
    user.create_event(name=f"unrelated {name[-12:]}")
    body = listed(user, q=name)
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_sql_tautology_in_filter_matches_nothing(user):
    user.create_event(name=unique("secret"))
    body = listed(user, q="zz' OR '1'='1' --")
    assert body["items"] == []
    assert body["total"] == 0


def test_html_in_event_name_is_stored_and_returned_verbatim(user):
    created = user.create_event(name=HTML_NAME, description='<img src=x onerror="alert(1)">')
    fetched = user.http.get(f"/api/v1/events/{created['id']}").json()
    assert fetched["name"] == HTML_NAME
    assert fetched["description"] == '<img src=x onerror="alert(1)">'


def test_html_in_filter_matches_literally(user):
    tag = unique("html")
    wanted = user.create_event(name=f"<b>{tag}</b>")
    user.create_event(name=f"b {tag} b")
    body = listed(user, q=f"<b>{tag}")
    assert [e["id"] for e in body["items"]] == [wanted["id"]]


def test_unicode_event_name_round_trips(user):
    name = "sauvegarde — 夜間 🌙"
    created = user.create_event(name=name)
    assert user.http.get(f"/api/v1/events/{created['id']}").json()["name"] == name


# -- update / delete ---------------------------------------------------------


def test_patch_changes_only_the_given_fields(user):
    created = user.create_event(name="before", script="echo before", description="keep me")
    response = user.http.patch(f"/api/v1/events/{created['id']}", json={"name": "after", "cpus": 0.5})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["name"] == "after"
    assert updated["cpus"] == 0.5
    assert updated["script"] == "echo before"
    assert updated["description"] == "keep me"


def test_patch_is_persisted(user):
    created = user.create_event(name="before")
    user.http.patch(f"/api/v1/events/{created['id']}", json={"status": "paused", "tags": ["x"]})
    fetched = user.http.get(f"/api/v1/events/{created['id']}").json()
    assert fetched["status"] == "paused"
    assert fetched["tags"] == ["x"]


def test_patch_unknown_event_is_404(user):
    response = user.http.patch("/api/v1/events/999999999", json={"name": "x"})
    assert response.status_code == 404
    error_of(response)


def test_patch_with_invalid_value_is_422_and_changes_nothing(user):
    created = user.create_event(name="stable")
    response = user.http.patch(f"/api/v1/events/{created['id']}", json={"name": "new", "cpus": 99})
    assert response.status_code == 422
    assert "cpus" in field_names(error_of(response))
    assert user.http.get(f"/api/v1/events/{created['id']}").json() == created


def test_patch_with_script_over_cap_is_413_and_changes_nothing(user):
    created = user.create_event(name="stable")
    response = user.http.patch(f"/api/v1/events/{created['id']}", json={"script": "x" * (SCRIPT_MAX_BYTES + 1)})
    assert response.status_code == 413
    assert user.http.get(f"/api/v1/events/{created['id']}").json() == created


def test_patch_to_http_without_http_request_is_422(user):
    created = user.create_event(name="shell")
    response = user.http.patch(f"/api/v1/events/{created['id']}", json={"type": "http"})
    assert response.status_code == 422
    assert "httpRequest" in field_names(error_of(response))
    assert user.http.get(f"/api/v1/events/{created['id']}").json()["type"] == "bash"


def test_delete_event_returns_204_with_empty_body(user):
    created = user.create_event()
    response = user.http.delete(f"/api/v1/events/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""


def test_deleted_event_is_404_on_get(user):
    created = user.create_event()
    user.http.delete(f"/api/v1/events/{created['id']}")
    assert user.http.get(f"/api/v1/events/{created['id']}").status_code == 404


def test_deleted_event_is_404_on_patch(user):
    created = user.create_event()
    user.http.delete(f"/api/v1/events/{created['id']}")
    assert user.http.patch(f"/api/v1/events/{created['id']}", json={"name": "x"}).status_code == 404


def test_deleted_event_is_404_on_second_delete(user):
    created = user.create_event()
    user.http.delete(f"/api/v1/events/{created['id']}")
    assert user.http.delete(f"/api/v1/events/{created['id']}").status_code == 404


def test_deleted_event_is_404_on_execute(user):
    created = user.create_event()
    user.http.delete(f"/api/v1/events/{created['id']}")
    assert user.http.post(f"/api/v1/events/{created['id']}/execute").status_code == 404


def test_deleted_event_is_gone_from_the_list(user):
    tag = unique("gone")
    created = user.create_event(name=tag)
    user.http.delete(f"/api/v1/events/{created['id']}")
    assert listed(user, q=tag)["total"] == 0


def test_deleting_an_event_keeps_its_jobs(user):
    created = user.create_event(name="has jobs")
    job_id = user.execute(created["id"])
    assert user.http.delete(f"/api/v1/events/{created['id']}").status_code == 204
    job = user.job(job_id)
    assert job["eventId"] is None
    assert job["eventName"] == "has jobs"


# -- bad input ----------------------------------------------------------------


def test_script_over_the_cap_is_413(user):
    response = user.http.post(
        "/api/v1/events", json={"name": "big", "type": "bash", "script": "x" * (SCRIPT_MAX_BYTES + 1)}
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "too_large"
    assert str(SCRIPT_MAX_BYTES) in error["message"]


def test_script_over_the_cap_creates_nothing(user):
    before = event_total(user)
    user.http.post("/api/v1/events", json={"name": "big", "type": "bash", "script": "x" * (SCRIPT_MAX_BYTES + 1)})
    assert event_total(user) == before


def test_script_exactly_at_the_cap_is_accepted(user):
    response = user.http.post(
        "/api/v1/events", json={"name": "edge", "type": "bash", "script": "x" * SCRIPT_MAX_BYTES}
    )
    assert response.status_code == 201, response.text[:300]


def test_script_cap_counts_utf8_bytes_not_characters(user):
    script = "é" * (SCRIPT_MAX_BYTES // 2 + 1)  # fewer characters than the cap, more bytes
    response = user.http.post("/api/v1/events", json={"name": "wide", "type": "bash", "script": script})
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cpus", 2.5),
        ("memoryMb", 4096),
        ("pidsLimit", 4096),
        ("timeoutSeconds", 86_401),
        ("retries", 11),
    ],
)
def test_resources_above_maxima_are_422_naming_the_field(user, field, value):
    response = user.http.post("/api/v1/events", json={"name": "greedy", "type": "bash", "script": "true", field: value})
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert field in field_names(error)
    assert field in error["message"]


def test_an_image_not_on_the_allow_list_is_422_naming_the_field(user):
    before = event_total(user)
    response = user.http.post("/api/v1/events", json={"name": "other", "type": "bash", "script": "true", "image": "debian:12"})
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert field_names(error) == {"image"}
    assert "'debian:12' is not allowed" in error["message"]
    assert event_total(user) == before


def test_the_runtime_image_may_be_named_with_or_without_its_tag(user):
    for image in ("cronium-runtime", "cronium-runtime:latest"):
        response = user.http.post("/api/v1/events", json={"name": "runtime", "type": "bash", "script": "true", "image": image})
        assert response.status_code == 201, response.text


def test_resources_above_maxima_create_nothing(user):
    before = event_total(user)
    user.http.post("/api/v1/events", json={"name": "greedy", "type": "bash", "script": "true", "cpus": 64})
    assert event_total(user) == before


def test_resources_at_maxima_are_accepted(user):
    response = user.http.post(
        "/api/v1/events",
        json={"name": "max", "type": "bash", "script": "true", "cpus": 2, "memoryMb": 2048, "pidsLimit": 1024,
              "timeoutSeconds": 86_400, "retries": 10},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("cpus", 0), ("memoryMb", 1), ("pidsLimit", 1), ("timeoutSeconds", 0), ("retries", -1)],
)
def test_resources_below_minimum_are_422_naming_the_field(user, field, value):
    response = user.http.post("/api/v1/events", json={"name": "tiny", "type": "bash", "script": "true", field: value})
    assert response.status_code == 422
    assert field in field_names(error_of(response))


def test_unknown_event_type_is_422(user):
    response = user.http.post("/api/v1/events", json={"name": "r", "type": "ruby", "script": "puts 1"})
    assert response.status_code == 422
    assert "type" in field_names(error_of(response))


def test_missing_name_is_422_naming_it(user):
    response = user.http.post("/api/v1/events", json={"type": "bash", "script": "true"})
    assert response.status_code == 422
    assert "name" in field_names(error_of(response))


def test_missing_type_is_422_naming_it(user):
    response = user.http.post("/api/v1/events", json={"name": "no type", "script": "true"})
    assert response.status_code == 422
    assert "type" in field_names(error_of(response))


def test_empty_object_is_422(user):
    response = user.http.post("/api/v1/events", json={})
    assert response.status_code == 422
    assert {"name", "type"} <= field_names(error_of(response))


def test_blank_name_is_422(user):
    response = user.http.post("/api/v1/events", json={"name": "   ", "type": "bash", "script": "true"})
    assert response.status_code == 422


def test_script_event_without_script_is_422(user):
    response = user.http.post("/api/v1/events", json={"name": "empty", "type": "bash"})
    assert response.status_code == 422
    assert "script" in field_names(error_of(response))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 42),
        ("timeoutSeconds", "soon"),
        ("cpus", "many"),
        ("retries", 1.5),
        ("tags", "a,b"),
        ("envVars", ["A=1"]),
        ("network", "internet"),
        ("status", "running"),
        ("script", ["echo"]),
    ],
)
def test_wrong_typed_field_is_422_naming_it(user, field, value):
    body = {"name": "typed", "type": "bash", "script": "true", field: value}
    response = user.http.post("/api/v1/events", json=body)
    assert response.status_code == 422, response.text
    assert field in field_names(error_of(response))


def test_body_that_is_not_an_object_is_422(user):
    response = user.http.post("/api/v1/events", json=["name", "type"])
    assert response.status_code == 422
    error_of(response)


def test_extra_unknown_field_is_422_naming_it(user):
    response = user.http.post("/api/v1/events", json={"name": "x", "type": "bash", "script": "true", "bogus": 1})
    assert response.status_code == 422
    assert "bogus" in field_names(error_of(response))


def test_extra_unknown_field_on_patch_is_422(user):
    created = user.create_event()
    response = user.http.patch(f"/api/v1/events/{created['id']}", json={"bogus": 1})
    assert response.status_code == 422


def test_reserved_env_var_name_is_422(user):
    response = user.http.post(
        "/api/v1/events",
        json={"name": "x", "type": "bash", "script": "true", "envVars": {"CRONIUM_EXECUTION_TOKEN": "x"}},
    )
    assert response.status_code == 422
    assert "envVars" in field_names(error_of(response))


def test_malformed_json_on_create_is_400(user):
    response = post_raw(user, "/api/v1/events", b'{"name": "x", "type": ')
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_malformed_json_on_create_creates_nothing(user):
    before = event_total(user)
    post_raw(user, "/api/v1/events", b'{"name": "x", "type": "bash", "script": "true"')
    assert event_total(user) == before


def test_malformed_json_on_patch_is_400(user):
    created = user.create_event()
    response = post_raw(user, f"/api/v1/events/{created['id']}", b"{name: 1}", method="PATCH")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_malformed_json_on_execute_is_400(user):
    created = user.create_event()
    response = post_raw(user, f"/api/v1/events/{created['id']}/execute", b'{"input": ')
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_request_body_over_8_mib_is_413(user):
    body = b'{"name": "huge", "type": "bash", "script": "' + b"x" * REQUEST_MAX_BYTES + b'"}'
    response = post_raw(user, "/api/v1/events", body)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_chunked_request_body_over_8_mib_is_413(user):
    """Without a Content-Length (chunked upload) the limit must hold too."""
    body = b'{"name": "huge", "type": "bash", "script": "' + b"x" * REQUEST_MAX_BYTES + b'"}'

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    response = user.http.post("/api/v1/events", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert error_of(response)["code"] == "too_large"


# -- HTTP events -------------------------------------------------------------


def test_http_event_without_http_request_is_422_naming_it(user):
    response = user.http.post("/api/v1/events", json={"name": "hook", "type": "http"})
    assert response.status_code == 422
    assert "httpRequest" in field_names(error_of(response))


def test_http_event_with_http_request_is_created(user):
    response = user.http.post(
        "/api/v1/events",
        json={
            "name": "hook",
            "type": "http",
            "httpRequest": {"method": "post", "url": "https://example.com/hook", "headers": {"X-A": "1"}, "body": "{}"},
        },
    )
    assert response.status_code == 201, response.text
    spec = response.json()["httpRequest"]
    assert spec["method"] == "POST"
    assert spec["url"] == "https://example.com/hook"
    assert spec["headers"] == {"X-A": "1"}
    assert spec["body"] == "{}"


def test_http_event_with_non_http_url_is_422(user):
    response = user.http.post(
        "/api/v1/events", json={"name": "hook", "type": "http", "httpRequest": {"url": "file:///etc/passwd"}}
    )
    assert response.status_code == 422
    assert "url" in field_names(error_of(response))


def test_http_event_with_unknown_method_is_422(user):
    response = user.http.post(
        "/api/v1/events",
        json={"name": "hook", "type": "http", "httpRequest": {"method": "BREW", "url": "https://example.com"}},
    )
    assert response.status_code == 422
    assert "method" in field_names(error_of(response))


# -- execute ------------------------------------------------------------------


def test_execute_returns_202_with_job_id_and_queued(user):
    event = user.create_event()
    response = user.http.post(f"/api/v1/events/{event['id']}/execute")
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"jobId", "status"}
    assert body["status"] == "queued"
    assert isinstance(body["jobId"], str) and body["jobId"]


def test_execute_creates_a_pending_job_for_the_event(user):
    event = user.create_event(name="run me")
    job = user.job(user.execute(event["id"]))
    assert job["status"] == "pending"
    assert job["eventId"] == event["id"]
    assert job["eventName"] == "run me"
    assert job["type"] == "bash"
    assert job["input"] is None


def test_execute_with_input_stores_the_input(user):
    event = user.create_event()
    payload = {"n": 1, "list": [1, "two", None, True], "nested": {"ü": "ß"}}
    job = user.job(user.execute(event["id"], input=payload))
    assert job["input"] == payload


def test_execute_with_empty_object_body_is_accepted(user):
    event = user.create_event()
    response = user.http.post(f"/api/v1/events/{event['id']}/execute", json={})
    assert response.status_code == 202


def test_execute_with_unknown_body_field_is_422(user):
    event = user.create_event()
    response = user.http.post(f"/api/v1/events/{event['id']}/execute", json={"inputs": 1})
    assert response.status_code == 422


def test_execute_with_input_over_the_cap_is_413(user):
    event = user.create_event()
    response = user.http.post(f"/api/v1/events/{event['id']}/execute", json={"input": "x" * JOB_IO_MAX_BYTES})
    assert response.status_code == 413
    listed = user.http.get("/api/v1/jobs", params={"eventId": event["id"]}).json()
    assert listed["items"] == []


def test_execute_snapshots_the_script(user):
    event = user.create_event(script="echo v1")
    job_id = user.execute(event["id"])
    user.http.patch(f"/api/v1/events/{event['id']}", json={"script": "echo v2"})
    assert user.job(job_id)["execution"]["script"] == "echo v1"


def test_execute_unknown_event_is_404(user):
    response = user.http.post("/api/v1/events/999999999/execute")
    assert response.status_code == 404
    error_of(response)


def test_execute_archived_event_is_409(user):
    event = user.create_event(status="archived")
    response = user.http.post(f"/api/v1/events/{event['id']}/execute")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert "archived" in error["message"]


def test_execute_archived_event_creates_no_job(user):
    event = user.create_event(status="archived")
    user.http.post(f"/api/v1/events/{event['id']}/execute")
    assert user.http.get("/api/v1/jobs", params={"eventId": event["id"]}).json()["items"] == []


def test_execute_with_idempotency_key_twice_returns_the_same_job_with_200(user):
    event = user.create_event()
    key = secrets.token_hex(8)
    first = user.http.post(f"/api/v1/events/{event['id']}/execute", headers={"Idempotency-Key": key})
    second = user.http.post(f"/api/v1/events/{event['id']}/execute", headers={"Idempotency-Key": key})
    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json() == first.json()


def test_execute_with_idempotency_key_twice_creates_one_job(user):
    event = user.create_event()
    key = secrets.token_hex(8)
    for _ in range(3):
        user.http.post(f"/api/v1/events/{event['id']}/execute", headers={"Idempotency-Key": key})
    listed = user.http.get("/api/v1/jobs", params={"eventId": event["id"]}).json()
    assert listed["total"] == 1


def test_execute_with_different_idempotency_keys_creates_two_jobs(user):
    event = user.create_event()
    first = user.http.post(f"/api/v1/events/{event['id']}/execute", headers={"Idempotency-Key": "k-1"})
    second = user.http.post(f"/api/v1/events/{event['id']}/execute", headers={"Idempotency-Key": "k-2"})
    assert first.status_code == second.status_code == 202
    assert first.json()["jobId"] != second.json()["jobId"]


def test_execute_without_idempotency_key_creates_a_job_each_time(user):
    event = user.create_event()
    assert user.execute(event["id"]) != user.execute(event["id"])


def test_idempotency_keys_are_scoped_to_the_user(user, make_user):
    alice, bob = user, make_user()
    key = "shared-key-" + secrets.token_hex(4)
    a = alice.http.post(f"/api/v1/events/{alice.create_event()['id']}/execute", headers={"Idempotency-Key": key})
    b = bob.http.post(f"/api/v1/events/{bob.create_event()['id']}/execute", headers={"Idempotency-Key": key})
    assert a.status_code == b.status_code == 202
    assert a.json()["jobId"] != b.json()["jobId"]


# -- secret environment variables ----------------------------------------------------


def test_secret_env_values_are_write_only_and_their_names_listed(user):
    event = user.create_event(name="with secrets", type="bash", script="true",
                              secretEnvVars={"TOKEN": "tok-value-1", "PASS": "pass-value-2"})
    assert event["secretEnvVarNames"] == ["PASS", "TOKEN"] and "secretEnvVars" not in event
    assert "tok-value-1" not in user.http.get(f"/api/v1/events/{event['id']}").text


def test_an_update_changes_and_removes_single_secrets_and_keeps_the_rest(user):
    event = user.create_event(name="merge secrets", type="bash", script="true",
                              secretEnvVars={"A": "value-a", "B": "value-b"})
    reply = user.http.patch(f"/api/v1/events/{event['id']}", json={"secretEnvVars": {"A": None, "C": "value-c"}})
    assert reply.status_code == 200 and reply.json()["secretEnvVarNames"] == ["B", "C"]


def test_a_name_cannot_be_both_plain_and_secret(user):
    response = user.http.post("/api/v1/events", json={"name": "both", "type": "bash", "script": "true",
                                                      "envVars": {"X": "1"}, "secretEnvVars": {"X": "secret-x"}})
    assert response.status_code == 422 and "secretEnvVars" in response.json()["error"]["fields"]


def test_secret_env_names_follow_the_env_name_rules(user):
    response = user.http.post("/api/v1/events", json={"name": "bad", "type": "bash", "script": "true",
                                                      "secretEnvVars": {"CRONIUM_X": "value"}})
    assert response.status_code == 422
