"""The event and workflow editors: the schedule preview (the next five fire
times, the scheduler's message next to a bad field) and field errors shown
on the fields themselves."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.support import ui_flows
from tests.support.clients import UserClient

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

# "Mon 2026-03-30 09:05:00 CEST": a weekday, a date, a time and a zone name.
FIRE_TIME_RE = re.compile(r"^[A-Z][a-z]{2} \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+$")


def _signed_in(new_context, make_api_user, app_url: str) -> tuple[Page, UserClient]:
    user = make_api_user()
    page = new_context().new_page()
    ui_flows.login(page, app_url, user.user["email"])
    return page, user


def _signed_in_page(new_context, make_api_user, app_url: str) -> Page:
    return _signed_in(new_context, make_api_user, app_url)[0]


def _choose(page: Page, trigger: str, option: str) -> None:
    page.locator(trigger).click()
    page.get_by_role("option", name=option).click()


def _fire_times(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("[data-testid=fire-time]").all_inner_texts()]


def test_event_schedule_preview_lists_the_next_five_runs(new_context, make_api_user, app_url):
    page = _signed_in_page(new_context, make_api_user, app_url)
    page.goto("/events/new")
    expect(page.locator("#schedule-hint")).to_have_text("Runs only when started by hand.")

    _choose(page, "#field-schedule_type", "On a cron schedule")
    page.locator("#field-timezone").fill("Europe/Paris")
    page.locator("#field-cron_expression").fill("30 9 * * 1")

    times = page.locator("[data-testid=fire-time]")
    expect(times).to_have_count(5)
    shown = _fire_times(page)
    assert all(FIRE_TIME_RE.match(text) for text in shown), shown
    # Mondays at 09:30 Paris time (CET or CEST, whichever applies that day).
    assert all(text.startswith("Mon ") and " 09:30:00 CE" in text for text in shown), shown
    expect(page.locator("#error-cronExpression")).to_have_count(0)


def test_event_schedule_preview_refuses_an_invalid_cron_next_to_the_field(new_context, make_api_user, app_url):
    page = _signed_in_page(new_context, make_api_user, app_url)
    page.goto("/events/new")
    _choose(page, "#field-schedule_type", "On a cron schedule")
    field = page.locator("#field-cron_expression")
    field.fill("*/5 * * * *")
    expect(page.locator("[data-testid=fire-time]")).to_have_count(5)

    field.fill("61 * * * *")
    message = page.locator("#error-cronExpression")
    expect(message).to_be_visible()
    expect(message).to_contain_text("minute '61' is not valid (0-59)")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("[data-testid=fire-time]")).to_have_count(0)
    # The message sits under the field, in the same column.
    field_box, message_box = field.bounding_box(), message.bounding_box()
    assert field_box and message_box
    assert 0 <= message_box["y"] - (field_box["y"] + field_box["height"]) < 60
    assert abs(message_box["x"] - field_box["x"]) < 4

    # Fixed again: the message goes and the runs come back.
    field.fill("0 * * * *")
    expect(page.locator("[data-testid=fire-time]")).to_have_count(5)
    expect(message).to_have_count(0)
    expect(field).to_have_attribute("aria-invalid", "false")


def test_workflow_editor_schedules_with_a_preview(new_context, make_api_user, app_url):
    page = _signed_in_page(new_context, make_api_user, app_url)
    page.goto("/workflows/new")
    expect(page.locator("#schedule-section")).to_be_visible()
    _choose(page, "#field-schedule_type", "Every N seconds")
    interval = page.locator("#field-interval_seconds")
    interval.fill("5")
    expect(page.locator("#error-intervalSeconds")).to_contain_text("at least 10 seconds")
    expect(interval).to_have_attribute("aria-invalid", "true")

    interval.fill("90")
    expect(page.locator("[data-testid=fire-time]")).to_have_count(5)
    expect(page.locator("#error-intervalSeconds")).to_have_count(0)

    page.locator("#field-timezone").fill("Mars/Olympus")
    expect(page.locator("#error-timezone")).to_be_visible()
    expect(page.locator("[data-testid=fire-time]")).to_have_count(0)


def test_event_editor_marks_the_fields_that_have_errors(new_context, make_api_user, app_url):
    page = _signed_in_page(new_context, make_api_user, app_url)
    page.goto("/events/new")
    expect(page.locator(".cm-content")).to_be_visible()
    name, timeout = page.locator("#field-name"), page.locator("#field-timeout")
    expect(name).to_have_attribute("aria-invalid", "false")
    page.locator("#field-name").fill("")
    timeout.fill("0")
    page.locator("#save-event").click()

    expect(page.locator("#error-name")).to_have_text("Give the event a name.")
    expect(page.locator("#error-timeoutSeconds")).to_have_text("Timeout must be at least 1 second.")
    for field in (name, timeout):
        expect(field).to_have_attribute("aria-invalid", "true")
        shadow = field.evaluate("(el) => getComputedStyle(el.closest('.rt-TextFieldRoot') || el).boxShadow")
        assert "inset" in shadow and "1px" in shadow, shadow
    # A field without a problem keeps its normal border.
    expect(page.locator("#field-retries")).to_have_attribute("aria-invalid", "false")
    expect(page).to_have_url(re.compile(r".*/events/new/?$"))

    # Typing into a field takes its message (and its red border) away.
    name.fill("Renamed")
    expect(page.locator("#error-name")).to_have_count(0)
    expect(name).to_have_attribute("aria-invalid", "false")
    expect(page.locator("#error-timeoutSeconds")).to_be_visible()


def test_event_schedule_policies_are_saved_and_the_start_moves_the_preview(new_context, make_api_user, app_url):
    page, user = _signed_in(new_context, make_api_user, app_url)
    page.goto("/events/new")
    page.locator("#field-name").fill("Limited nightly")
    _choose(page, "#field-schedule_type", "On a cron schedule")
    page.locator("#field-cron_expression").fill("0 3 * * *")
    page.locator("#field-start_at").fill("2031-01-02T00:00")
    expect(page.locator("[data-testid=fire-time]").first).to_have_text(re.compile(r"^Thu 2031-01-02 03:00:00 UTC$"))
    page.locator("#field-max_executions").fill("3")
    _choose(page, "#field-misfire_policy", "Skip them")
    _choose(page, "#field-overlap_policy", "Queue one run")
    page.locator("#save-event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    event_id = int(page.url.rsplit("/", 1)[1])
    saved = user.http.get(f"/api/v1/events/{event_id}").json()
    assert (saved["maxExecutions"], saved["misfirePolicy"], saved["overlapPolicy"]) == (3, "skip", "queue")
    assert saved["startAt"].startswith("2031-01-02T00:00")
    # Loaded back into the form as saved.
    page.reload()
    expect(page.locator("#field-max_executions")).to_have_value("3")
    expect(page.locator("#field-start_at")).to_have_value("2031-01-02T00:00")


def test_event_queue_and_history_fields_are_saved_and_loaded_back(new_context, make_api_user, app_url):
    page, user = _signed_in(new_context, make_api_user, app_url)
    page.goto("/events/new")
    page.locator("#field-name").fill("Throttled report")
    expect(page.locator("#field-max_concurrent")).to_have_value("0")
    page.locator("#field-max_concurrent").fill("2")
    page.locator("#field-priority").fill("5")
    page.locator("#field-retention_days").fill("0")
    page.locator("#save-event").click()
    expect(page.locator("#error-retentionDays")).to_have_text("Days kept must be at least 1 day.")

    page.locator("#field-retention_days").fill("7")
    page.locator("#field-retention_runs").fill("50")
    page.locator("#save-event").click()
    page.wait_for_url(re.compile(r"/events/\d+$"))
    event_id = int(page.url.rsplit("/", 1)[1])
    saved = user.http.get(f"/api/v1/events/{event_id}").json()
    assert (saved["maxConcurrent"], saved["priority"], saved["retentionDays"], saved["retentionRuns"]) == (2, 5, 7, 50)
    page.reload()
    expect(page.locator("#field-retention_days")).to_have_value("7")
    # Cleared: back to the server's default.
    page.locator("#field-retention_days").fill("")
    page.locator("#save-event").click()
    for _ in range(50):
        if user.http.get(f"/api/v1/events/{event_id}").json()["retentionDays"] is None:
            break
        page.wait_for_timeout(100)
    assert user.http.get(f"/api/v1/events/{event_id}").json()["retentionDays"] is None


def test_settings_shows_the_history_policy(new_context, make_api_user, app_url):
    page = _signed_in_page(new_context, make_api_user, app_url)
    page.goto("/settings")
    expect(page.locator("#retention-policy")).to_contain_text("Finished runs are kept 30 days")
    expect(page.get_by_text("/metrics", exact=True)).to_be_visible()
