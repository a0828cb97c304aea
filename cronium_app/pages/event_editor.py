"""/events/new and /events/{id}: create, edit, run and delete an event."""

from __future__ import annotations

import reflex as rx

from cronium_app.components.code_editor import code_editor
from cronium_app.components.execute import execute_button
from cronium_app.components.feedback import error_callout, loading_block, not_found
from cronium_app.components.forms import field_error, labelled, section
from cronium_app.components.jobs_list import compact_job_row
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.status import EVENT_TYPE_LABELS
from cronium_app.events.schemas import HTTP_METHODS
from cronium_app.pages import routes
from cronium_app.state.event_editor import EventEditorState as S
from cronium_app.state.events import EVENT_STATUSES

MONO = "var(--code-font-family)"


def _text(field: str, **props) -> rx.Component:
    return rx.input(
        value=getattr(S, field),
        on_change=lambda value: S.set_field(field, value),
        id=f"field-{field}",
        width="100%",
        **props,
    )


def _select(field: str, options: list[tuple[str, str]], **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=f"field-{field}", width="100%"),
        rx.select.content(*[rx.select.item(label, value=value) for value, label in options]),
        value=getattr(S, field),
        on_change=lambda value: S.set_field(field, value),
        **props,
    )


def _grid(*children: rx.Component, columns: str = "3", phone: str = "1") -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial=phone, sm="2", md=columns), spacing="4", width="100%")


def basics() -> rx.Component:
    return section(
        "Event",
        labelled("Name", _text("name", placeholder="Nightly report", max_length=200), errors=S.errors, key="name"),
        labelled(
            "Description",
            rx.text_area(
                value=S.description,
                on_change=lambda value: S.set_field("description", value),
                id="field-description",
                rows="2",
                width="100%",
                max_length=5000,
            ),
            errors=S.errors,
            key="description",
        ),
        _grid(
            labelled("Type", _select("kind", list(EVENT_TYPE_LABELS.items())), errors=S.errors, key="type"),
            labelled(
                "Status",
                _select("status", [(status, status.capitalize()) for status in EVENT_STATUSES]),
                errors=S.errors,
                key="status",
            ),
            labelled(
                "Tags",
                _text("tags", placeholder="reports, nightly"),
                errors=S.errors,
                key="tags",
                hint="Comma-separated.",
            ),
        ),
    )


def script_section() -> rx.Component:
    return section(
        "Script",
        rx.box(
            code_editor(
                S.editor_doc,
                S.kind,
                S.set_script,
                key=S.editor_key,
                id="script-editor",
            ),
            width="100%",
        ),
        field_error(S.errors, "script"),
        description=rx.match(
            S.kind,
            ("python", "Python 3. Use the cronium module for input, output and variables."),
            ("node", "Node.js. Use the global cronium object for input, output and variables."),
            "Bash. Use the cronium_* helpers for input, output and variables.",
        ),
    )


def _pair_rows(which: str, rows, key_placeholder: str, error_key: str, add_label: str) -> rx.Component:
    def row(item, index) -> rx.Component:
        return rx.flex(
            rx.input(
                value=item["key"],
                on_change=lambda value: S.set_row(which, index, "key", value),
                placeholder=key_placeholder,
                font_family=MONO,
                flex="1 1 140px",
                min_width="0",
                custom_attrs={"data-testid": f"{which}-key"},
            ),
            rx.input(
                value=item["value"],
                on_change=lambda value: S.set_row(which, index, "value", value),
                placeholder="value",
                flex="2 1 180px",
                min_width="0",
                custom_attrs={"data-testid": f"{which}-value"},
            ),
            rx.icon_button(
                rx.icon("trash-2", size=16),
                variant="ghost",
                color_scheme="gray",
                on_click=S.remove_row(which, index),
                aria_label="Remove",
            ),
            spacing="2",
            align="center",
            width="100%",
        )

    return rx.vstack(
        rx.foreach(rows, row),
        field_error(S.errors, error_key),
        rx.button(
            rx.icon("plus", size=14), add_label,
            variant="soft", size="1", on_click=S.add_row(which), id=f"add-{which}",
        ),
        spacing="2",
        width="100%",
    )


def http_section() -> rx.Component:
    return section(
        "HTTP request",
        rx.flex(
            rx.box(
                _select("http_method", [(method, method) for method in HTTP_METHODS]),
                width=rx.breakpoints(initial="100%", sm="130px"),
                flex_shrink="0",
            ),
            rx.box(
                _text("http_url", placeholder="https://example.com/hook", font_family=MONO),
                field_error(S.errors, "httpRequest.url"),
                flex="1",
                min_width="0",
                width="100%",
            ),
            spacing="2",
            direction=rx.breakpoints(initial="column", sm="row"),
            width="100%",
        ),
        field_error(S.errors, "httpRequest"),
        labelled("Headers", _pair_rows("headers", S.header_rows, "Header-Name", "httpRequest.headers", "Add header")),
        labelled(
            "Body",
            rx.text_area(
                value=S.http_body,
                on_change=lambda value: S.set_field("http_body", value),
                id="field-http_body",
                rows="6",
                font_family=MONO,
                width="100%",
            ),
            errors=S.errors,
            key="httpRequest.body",
        ),
        description="Sent from the worker; private and local addresses are refused.",
    )


def env_section() -> rx.Component:
    return section(
        "Environment variables",
        _pair_rows("env", S.env_rows, "NAME", "envVars", "Add variable"),
        description="Passed to the script. Names starting with CRONIUM_ are reserved.",
    )


def limits_section() -> rx.Component:
    def number(field: str, label: str, error_key: str, **props) -> rx.Component:
        return labelled(
            label,
            _text(field, type="number", **props),
            errors=S.errors,
            key=error_key,
            hint=S.limits[field],
        )

    return section(
        "Limits",
        _grid(
            number("timeout", "Timeout (seconds)", "timeoutSeconds", min=1),
            number("retries", "Retries", "retries", min=0),
            number("cpus", "CPUs", "cpus", min=0.1, step=0.1),
            number("memory", "Memory (MB)", "memoryMb", min=16),
            number("pids", "Processes", "pidsLimit", min=8),
            labelled(
                "Network",
                _select("network", [("none", "None (isolated)"), ("egress", "Internet access (egress)")]),
                errors=S.errors,
                key="network",
                hint=S.limits["network"],
                grid_column=rx.breakpoints(initial="span 2", sm="auto"),
            ),
            phone="2",
        ),
        description="Each run gets a fresh container with these limits.",
    )


def schedule_section() -> rx.Component:
    return section(
        "Schedule",
        _grid(
            labelled(
                "Runs",
                _select(
                    "schedule_type",
                    [
                        ("manual", "Manually"),
                        ("cron", "On a cron schedule"),
                        ("interval", "Every N seconds"),
                        ("once", "Once, at a set time"),
                    ],
                ),
                errors=S.errors,
                key="scheduleType",
            ),
            rx.match(
                S.schedule_type,
                (
                    "cron",
                    labelled(
                        "Cron expression",
                        _text("cron_expression", placeholder="*/5 * * * *", font_family=MONO),
                        errors=S.errors,
                        key="cronExpression",
                        hint="minute hour day month weekday",
                    ),
                ),
                (
                    "interval",
                    labelled(
                        "Interval (seconds)",
                        _text("interval_seconds", type="number", min=1),
                        errors=S.errors,
                        key="intervalSeconds",
                    ),
                ),
                (
                    "once",
                    labelled(
                        "Run at",
                        _text("run_at", type="datetime-local"),
                        errors=S.errors,
                        key="runAt",
                        hint="In the time zone below.",
                    ),
                ),
                rx.fragment(),
            ),
            labelled(
                "Time zone",
                _text("timezone", placeholder="UTC", list="cronium-timezones"),
                errors=S.errors,
                key="timezone",
            ),
        ),
        rx.el.datalist(
            *[rx.el.option(value=name) for name in ("UTC", "Europe/London", "Europe/Paris", "Europe/Berlin",
                                                     "America/New_York", "America/Chicago", "America/Los_Angeles",
                                                     "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney")],
            id="cronium-timezones",
        ),
        description="Manual events run only when you press Execute.",
    )


def recent_runs() -> rx.Component:
    return section(
        "Recent runs",
        rx.cond(
            S.recent_runs.length() > 0,
            rx.vstack(rx.foreach(S.recent_runs, compact_job_row), spacing="0", width="100%"),
            rx.text("No runs yet. Press Execute to start one.", color_scheme="gray", size="2"),
        ),
        rx.link("All jobs of this event", href=routes.JOBS + "?event=" + S.current_id.to_string(), size="2"),
    )


def delete_dialog() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Delete this event?"),
            rx.alert_dialog.description(
                rx.text(
                    rx.text.strong(S.name),
                    " and its settings will be removed. Its past jobs and their logs stay in the job list.",
                ),
            ),
            rx.flex(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray", id="delete-cancel")),
                rx.button(
                    "Delete event", color_scheme="red", on_click=S.delete, loading=S.deleting, id="delete-confirm"
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="440px",
            id="delete-dialog",
        ),
        open=S.confirm_delete,
        on_open_change=S.set_confirm_delete,
    )


def save_button(element_id: str) -> rx.Component:
    return rx.button(
        rx.icon("save", size=16),
        rx.cond(S.is_new, "Create event", "Save"),
        on_click=S.save,
        loading=S.saving,
        id=element_id,
    )


def actions() -> list[rx.Component]:
    return [
        rx.cond(~S.is_new, execute_button(S.current_id, element_id="execute-event", variant="soft")),
        save_button("save-event"),
        rx.cond(
            ~S.is_new,
            rx.button(
                rx.icon("trash-2", size=16), "Delete",
                variant="soft", color_scheme="red", on_click=S.ask_delete, id="delete-event",
            ),
        ),
    ]


def status_line() -> rx.Component:
    return rx.flex(
        rx.cond(S.dirty, rx.badge("Unsaved changes", color_scheme="amber", variant="soft", id="unsaved")),
        rx.cond(
            S.dirty & ~S.is_new,
            rx.text("Execute runs the saved version.", size="1", color_scheme="gray"),
        ),
        rx.cond((S.updated != "") & ~S.dirty, rx.text("Saved ", S.updated, size="1", color_scheme="gray")),
        spacing="2",
        align="center",
        wrap="wrap",
        min_height="22px",
    )


def form() -> rx.Component:
    return rx.vstack(
        rx.cond(S.errors.contains("form"), error_callout(S.errors["form"], id="form-error")),
        basics(),
        rx.cond(S.is_http, http_section(), script_section()),
        limits_section(),
        rx.cond(~S.is_http, env_section()),
        schedule_section(),
        rx.cond(~S.is_new, recent_runs()),
        rx.flex(
            save_button("save-event-bottom"),
            justify="end",
            align="center",
            width="100%",
            spacing="3",
            wrap="wrap",
        ),
        delete_dialog(),
        spacing="4",
        width="100%",
        max_width="960px",
    )


def _editor(title) -> rx.Component:
    return app_shell(
        rx.cond(
            S.not_found,
            not_found(
                "Event not found",
                "It does not exist, or it belongs to someone else.",
                "Back to events",
                routes.EVENTS,
                id="event-not-found",
            ),
            rx.cond(
                S.load_error != "",
                error_callout(S.load_error, on_retry=S.load_existing),
                rx.cond(
                    S.loaded,
                    rx.fragment(
                        page_header(
                            title,
                            *actions(),
                            subtitle=rx.cond(S.is_new, "Scripts run in a fresh, locked-down container.", status_line()),
                        ),
                        form(),
                    ),
                    loading_block("Loading the event…"),
                ),
            ),
        ),
    )


def new_page() -> rx.Component:
    return _editor("New event")


def edit_page() -> rx.Component:
    return _editor(rx.cond(S.saved_name != "", S.saved_name, "Event"))
