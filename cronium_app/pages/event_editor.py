"""/events/new and /events/{id}: create, edit, run and delete an event."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.code_editor import code_editor
from cronium_app.components.editor import EditorTexts, editor_page
from cronium_app.components.event_extras import conditional_actions_card, webhook_card
from cronium_app.components.execute import execute_button
from cronium_app.components.forms import field_error, field_label, invalid_props, labelled, section
from cronium_app.components.jobs_list import compact_job_row
from cronium_app.components.schedule_fields import schedule_section
from cronium_app.components.status import EVENT_TYPE_LABELS
from cronium_app.components.styles import MONO
from cronium_app.display.env_form import ENV_KEY, SECRET_ENV_KEY
from cronium_app.events.schemas import HTTP_METHODS
from cronium_app.state.event_editor import ERROR_KEYS
from cronium_app.state.event_editor import EventEditorState as S
from cronium_app.state.events import EVENT_STATUSES
from orchestrator_worker.tools.kinds import FIELD_LABELS

FORM_WIDTH = "960px"
SECRET_SET = "•••••• (secret: set)"
TEXTS = EditorTexts(
    noun="event",
    new_subtitle="Scripts run in a fresh, locked-down container.",
    dirty_note="Execute runs the saved version.",
    delete_note=" and its settings will be removed. Its past jobs and their logs stay in the job list.",
    back_href=routes.EVENTS,
)


def _text(field: str, **props) -> rx.Component:
    return rx.input(
        value=getattr(S, field),
        on_change=lambda value: S.set_field(field, value),
        id=f"field-{field}",
        width="100%",
        **invalid_props(S.errors, ERROR_KEYS[field]),
        **props,
    )


def _select(field: str, options: list[tuple[str, str]], **props) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(id=f"field-{field}", width="100%", **invalid_props(S.errors, ERROR_KEYS[field])),
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
                **invalid_props(S.errors, "description"),
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
                label="Script",
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


def _key_input(which: str, item, index, placeholder: str) -> rx.Component:
    return rx.input(
        value=item["key"],
        on_change=lambda value: S.set_row(which, index, "key", value),
        placeholder=placeholder,
        font_family=MONO,
        flex="1 1 140px",
        min_width="0",
        custom_attrs={"data-testid": f"{which}-key"},
    )


def _remove_button(which: str, index) -> rx.Component:
    return rx.icon_button(
        rx.icon("trash-2", size=16),
        variant="ghost",
        color_scheme="gray",
        on_click=S.remove_row(which, index),
        aria_label="Remove",
    )


def _header_row(item, index) -> rx.Component:
    return rx.flex(
        _key_input("headers", item, index, "Header-Name"),
        rx.input(
            value=item["value"],
            on_change=lambda value: S.set_row("headers", index, "value", value),
            placeholder="value",
            flex="2 1 180px",
            min_width="0",
            custom_attrs={"data-testid": "headers-value"},
        ),
        _remove_button("headers", index),
        spacing="2",
        align="center",
        width="100%",
    )


def _env_value_placeholder(item) -> rx.Var:
    """A secret's value is never shown: its field says whether one is set."""
    stored = (item["stored"] != "") & (item["stored"] == item["key"])
    return rx.cond(
        item["secret"],
        rx.cond(stored, SECRET_SET, "secret value"),
        rx.cond(item["stored"] != "", "enter the value again", "value"),
    )


def _env_row(item, index) -> rx.Component:
    """NAME, value (a password field for a secret), the Secret box, remove.
    On a phone the box and the button wrap under the fields."""
    return rx.flex(
        rx.flex(
            _key_input("env", item, index, "NAME"),
            rx.input(
                value=item["value"],
                on_change=lambda value: S.set_row("env", index, "value", value),
                type=rx.cond(item["secret"], "password", "text"),
                placeholder=_env_value_placeholder(item),
                auto_complete="off",
                flex="2 1 180px",
                min_width="0",
                custom_attrs={"data-testid": "env-value"},
            ),
            spacing="2",
            flex="1 1 300px",
            min_width="0",
        ),
        rx.flex(
            rx.checkbox(
                "Secret",
                checked=item["secret"],
                on_change=lambda secret: S.set_env_secret(index, secret),
                custom_attrs={"data-testid": "env-secret"},
            ),
            _remove_button("env", index),
            spacing="3",
            align="center",
            justify="end",
            flex="0 0 auto",
            margin_left="auto",
        ),
        column_gap="8px",
        row_gap="4px",
        align="center",
        wrap="wrap",
        width="100%",
        custom_attrs={"data-testid": "env-row", "data-secret": item["secret"].to_string()},
    )


def _pair_rows(which: str, rows, row, error_keys: list[str], add_label: str, spacing="2") -> rx.Component:
    return rx.vstack(
        rx.foreach(rows, row),
        *[field_error(S.errors, key) for key in error_keys],
        rx.button(
            rx.icon("plus", size=14), add_label,
            variant="soft", size="1", on_click=S.add_row(which), id=f"add-{which}",
        ),
        spacing=spacing,
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
        labelled("Headers", _pair_rows("headers", S.header_rows, _header_row, ["httpRequest.headers"], "Add header")),
        labelled(
            "Body",
            rx.text_area(
                value=S.http_body,
                on_change=lambda value: S.set_field("http_body", value),
                id="field-http_body",
                rows="6",
                font_family=MONO,
                width="100%",
                **invalid_props(S.errors, "httpRequest.body"),
            ),
            errors=S.errors,
            key="httpRequest.body",
        ),
        description="Sent from the worker; private and local addresses are refused.",
    )


def _tool_field(name) -> rx.Component:
    return rx.vstack(
        field_label(rx.match(name, *[(k, v) for k, v in FIELD_LABELS.items()], name), "tool-field-" + name),
        rx.text_area(
            value=S.tool_fields[name].to(str), on_change=lambda value: S.set_tool_field(name, value),
            rows=rx.cond((name == "to") | (name == "subject"), "1", "5"), font_family=MONO, font_size="12px",
            spellcheck=False, width="100%", id="tool-field-" + name, debounce_timeout=400,
        ),
        field_error(S.errors, "toolAction.fields." + name),
        spacing="1", width="100%",
    )


def _preview_box() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.text("Preview", size="2", weight="medium"),
            rx.button(rx.icon("refresh-cw", size=12), "Render", size="1", variant="soft",
                      on_click=S.refresh_tool_preview, id="tool-preview-refresh"),
            justify="between", align="center", width="100%",
        ),
        labelled("Sample input (JSON)", rx.input(value=S.preview_input, on_change=S.set_preview_input,
                                                  debounce_timeout=400, font_family=MONO, id="tool-preview-input",
                                                  width="100%")),
        rx.cond(S.preview_error != "", rx.text(S.preview_error, color_scheme="red", size="1", id="tool-preview-error")),
        rx.foreach(
            S.tool_field_names,
            lambda name: rx.box(
                rx.text(rx.match(name, *[(k, v) for k, v in FIELD_LABELS.items()], name), size="1",
                        color_scheme="gray"),
                rx.text(S.preview[name].to(str), white_space="pre-wrap", font_family=MONO, font_size="12px",
                        overflow_wrap="anywhere", custom_attrs={"data-testid": "tool-preview-field"}),
                width="100%",
            ),
        ),
        spacing="2", width="100%", padding="12px", border_radius="8px", background=rx.color("gray", 2),
        border=f"1px solid {rx.color('gray', 5)}", id="tool-preview",
    )


def tool_section() -> rx.Component:
    return section(
        "Tool action",
        labelled(
            "Tool",
            rx.select.root(
                rx.select.trigger(placeholder="Choose a tool", id="field-tool", width="100%"),
                rx.select.content(
                    rx.foreach(S.tool_options, lambda o: rx.select.item(o["label"], value=o["id"])),
                ),
                value=rx.cond(S.tool_id == "0", "", S.tool_id), on_change=S.set_tool,
            ),
            errors=S.errors, key="toolAction",
            hint=rx.cond(S.tool_options.length() == 0, "No tools yet: add one on the Tools page first.", ""),
        ),
        rx.cond(
            S.tool_field_names.length() > 0,
            rx.grid(
                rx.vstack(rx.foreach(S.tool_field_names, _tool_field), spacing="3", width="100%"),
                _preview_box(),
                columns=rx.breakpoints(initial="1", md="2"), spacing="4", width="100%",
            ),
        ),
        description="Each field is a template over input (the job's input; in a workflow, the parent's output), "
                    "event, job and variables: Hello {{ input.name }}. Secret variables stay masked in logs.",
        id="tool-section",
    )


def env_section() -> rx.Component:
    return section(
        "Environment variables",
        # On a phone a row takes two lines: more room between rows than inside one.
        _pair_rows("env", S.env_rows, _env_row, [ENV_KEY, SECRET_ENV_KEY], "Add variable",
                   spacing=rx.breakpoints(initial="3", sm="2")),
        description=(
            "Passed to the script. Names starting with CRONIUM_ are reserved. A secret's value is never shown "
            "again and appears as *** in job logs: type a new value to replace it, leave it empty to keep it."
        ),
    )


def targets_section() -> rx.Component:
    """Where the script runs: the local container runtime, or servers."""

    def server_choice(option) -> rx.Component:
        return rx.checkbox(
            rx.hstack(
                rx.text(option["name"], weight="medium", size="2"),
                rx.text(option["address"], size="1", color_scheme="gray", font_family=MONO, word_break="break-all"),
                spacing="2",
                wrap="wrap",
                align="baseline",
            ),
            checked=S.server_ids.contains(option["id"]),
            on_change=lambda chosen: S.toggle_server(option["id"], chosen),
            id=rx.Var.create("target-") + option["id"],
        )

    return section(
        "Where it runs",
        rx.cond(
            S.server_options.length() > 0,
            rx.vstack(
                rx.foreach(S.server_options, server_choice),
                field_error(S.errors, "serverIds"),
                spacing="2",
                width="100%",
                id="target-servers",
            ),
            rx.text(
                "No servers yet. ",
                rx.link("Add a server", href=routes.SERVERS),
                " to run this event over SSH instead of in a local container.",
                size="2",
                color_scheme="gray",
            ),
        ),
        _grid(
            labelled(
                "Servers with any of these tags",
                _text("server_tags", placeholder="web, eu"),
                errors=S.errors,
                key="serverTags",
                hint="Comma separated; matched when a run starts.",
            ),
            labelled(
                "On the servers",
                rx.checkbox(
                    "Run in a container on the server's Docker",
                    checked=S.remote_docker,
                    on_change=S.set_remote_docker,
                    id="field-remote-docker",
                ),
                errors=S.errors,
                key="remoteDocker",
            ),
            columns="2",
        ),
        description=(
            "With no server and no tag, each run gets a fresh local container. With servers, the script runs on "
            "all of them at once, as the login user, in a private directory removed afterwards; of the limits, "
            "only the timeout applies there, unless it runs in a container."
        ),
    )


def _number(field: str, label: str, error_key: str, **props) -> rx.Component:
    return labelled(
        label,
        _text(field, type="number", **props),
        errors=S.errors,
        key=error_key,
        hint=S.limits[field],
    )


def limits_section() -> rx.Component:
    return section(
        "Limits",
        _grid(
            _number("timeout", "Timeout (seconds)", "timeoutSeconds", min=1),
            _number("retries", "Retries", "retries", min=0),
            # A tool event runs in the worker, without a container.
            rx.cond(~S.is_tool, _number("cpus", "CPUs", "cpus", min=0.1, step=0.1)),
            rx.cond(~S.is_tool, _number("memory", "Memory (MB)", "memoryMb", min=16)),
            rx.cond(~S.is_tool, _number("pids", "Processes", "pidsLimit", min=8)),
            rx.cond(
                ~S.is_tool,
                labelled(
                    "Network",
                    _select("network", [("none", "None (isolated)"), ("egress", "Internet access (egress)")]),
                    errors=S.errors,
                    key="network",
                    hint=S.limits["network"],
                    grid_column=rx.breakpoints(initial="span 2", sm="auto"),
                ),
            ),
            phone="2",
        ),
        description=rx.cond(~S.is_tool, "Each run gets a fresh container with these limits.",
                            "How long one delivery may take, and how many times a failed one is tried again."),
    )


def queue_section() -> rx.Component:
    return section(
        "Queue and history",
        _grid(
            _number("max_concurrent", "Runs at once", "maxConcurrent", min=0),
            _number("priority", "Priority", "priority"),
            _number("retention_days", "Keep runs for (days)", "retentionDays", min=1, placeholder="Default"),
            _number("retention_runs", "Keep the last (runs)", "retentionRuns", min=1, placeholder="No limit"),
            phone="2",
        ),
        description=(
            "Runs over the limit wait in the queue and start when a run ends. Finished runs older than the days "
            "kept, or beyond the last runs kept, are deleted with their logs; the newest run always stays."
        ),
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


def sections() -> list[rx.Component]:
    return [
        basics(),
        rx.match(S.kind, ("http", http_section()), ("tool", tool_section()), script_section()),
        limits_section(),
        queue_section(),
        rx.cond(S.runs_script, env_section()),
        rx.cond(S.runs_script, targets_section()),
        schedule_section(S, "Manual events run only when you press Execute."),
        rx.cond(~S.is_new, conditional_actions_card()),
        rx.cond(~S.is_new, webhook_card()),
        rx.cond(~S.is_new, recent_runs()),
    ]


def _page(*, new: bool) -> rx.Component:
    execute = rx.cond(~S.is_new, execute_button(S.current_id, element_id="execute-event", variant="soft", shortcut=True))
    return editor_page(S, TEXTS, new=new, actions=[execute], sections=sections(), max_width=FORM_WIDTH)


def new_page() -> rx.Component:
    return _page(new=True)


def edit_page() -> rx.Component:
    return _page(new=False)
