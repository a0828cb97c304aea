"""/workflows/new and /workflows/{id}: edit, run and delete a workflow."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.editor import EditorTexts, editor_page
from cronium_app.components.event_extras import webhook_card
from cronium_app.components.forms import field_error, field_label, invalid_props, labelled, section
from cronium_app.components.roles import runners_only
from cronium_app.components.schedule_fields import schedule_section
from cronium_app.components.status import job_status_badge
from cronium_app.components.styles import MONO
from cronium_app.components.workflow_graph import workflow_graph
from cronium_app.state.workflow_editor import CONDITION_LABELS, STATUSES
from cronium_app.state.workflow_editor import WorkflowEditorState as S

TEXTS = EditorTexts(
    noun="workflow",
    new_subtitle="Chain your events into steps joined by conditional edges.",
    dirty_note="Run uses the saved version.",
    delete_note=" and its runs will be removed. The jobs its steps ran stay in the job list.",
    back_href=routes.WORKFLOWS,
)


def basics() -> rx.Component:
    return section(
        "Workflow",
        labelled(
            "Name",
            rx.input(
                value=S.name, on_change=lambda v: S.set_field("name", v), id="field-name",
                placeholder="Nightly pipeline", max_length=200, width="100%", **invalid_props(S.errors, "name"),
            ),
            errors=S.errors,
            key="name",
        ),
        labelled(
            "Description",
            rx.text_area(
                value=S.description, on_change=lambda v: S.set_field("description", v), id="field-description",
                rows="2", max_length=5000, width="100%",
            ),
            errors=S.errors,
            key="description",
        ),
        rx.grid(
            labelled(
                "Status",
                rx.select.root(
                    rx.select.trigger(id="field-status", width="100%"),
                    rx.select.content(*[rx.select.item(s.capitalize(), value=s) for s in STATUSES]),
                    value=S.status,
                    on_change=lambda v: S.set_field("status", v),
                ),
                errors=S.errors,
                key="status",
                hint="Archived workflows cannot be run.",
            ),
            labelled(
                "Tags",
                rx.input(
                    value=S.tags, on_change=lambda v: S.set_field("tags", v), id="field-tags",
                    placeholder="nightly, reports", width="100%",
                ),
                errors=S.errors,
                key="tags",
                hint="Comma-separated.",
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="4",
            width="100%",
        ),
    )


def _event_picker(step, index) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Choose an event", width="100%", custom_attrs={"data-testid": "step-event"},
                          aria_label="Event of this step"),
        rx.select.content(rx.foreach(S.event_options, lambda o: rx.select.item(o["label"], value=o["value"]))),
        value=step["event_id"],
        on_change=lambda v: S.set_step(index, "event_id", v),
    )


def _step_row(step, index) -> rx.Component:
    return rx.flex(
        rx.text(index + 1, ".", size="2", color_scheme="gray", width="22px", flex_shrink="0"),
        rx.input(
            value=step["name"],
            on_change=lambda v: S.set_step(index, "name", v),
            placeholder="step name",
            font_family=MONO,
            max_length=100,
            flex="1 1 140px",
            min_width="0",
            custom_attrs={"data-testid": "step-name"},
        ),
        rx.box(_event_picker(step, index), flex="2 1 180px", min_width="0"),
        rx.icon_button(
            rx.icon("trash-2", size=16),
            variant="ghost",
            color_scheme="gray",
            on_click=S.remove_step(index),
            aria_label="Remove step",
            custom_attrs={"data-testid": "remove-step"},
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
        custom_attrs={"data-testid": "step-row"},
    )


def steps_section() -> rx.Component:
    return section(
        "Steps",
        rx.cond(
            S.event_options.length() == 0,
            rx.callout.root(
                rx.callout.icon(rx.icon("info")),
                rx.callout.text(
                    "Each step runs one of your events, and you have none yet. ",
                    rx.link("Create an event", href=routes.EVENT_NEW),
                    " first.",
                ),
                color_scheme="amber",
                width="100%",
                id="no-events",
            ),
        ),
        rx.vstack(rx.foreach(S.steps, _step_row), spacing="2", width="100%", id="steps"),
        field_error(S.errors, "steps"),
        rx.button(rx.icon("plus", size=14), "Add step", variant="soft", size="1", on_click=S.add_step, id="add-step"),
        description="Each step runs one event. A step with no incoming edge starts with the run and gets the run's input; "
        "a later step gets its parent's output.",
        id="steps-section",
    )


def _step_select(edge, index, part: str, placeholder: str) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder=placeholder, width="100%", custom_attrs={"data-testid": f"edge-{part}"},
                          aria_label=placeholder.capitalize()),
        rx.select.content(rx.foreach(S.step_names, lambda name: rx.select.item(name, value=name))),
        value=edge[part],
        on_change=lambda v: S.set_edge(index, part, v),
    )


def _edge_row(edge, index) -> rx.Component:
    return rx.flex(
        rx.box(_step_select(edge, index, "source", "from step"), flex="1 1 120px", min_width="0"),
        rx.icon("arrow-right", size=16, color=rx.color("gray", 9), flex_shrink="0"),
        rx.box(_step_select(edge, index, "target", "to step"), flex="1 1 120px", min_width="0"),
        rx.box(
            rx.select.root(
                rx.select.trigger(width="100%", custom_attrs={"data-testid": "edge-condition"}, aria_label="When"),
                rx.select.content(*[rx.select.item(label, value=value) for value, label in CONDITION_LABELS.items()]),
                value=edge["condition"],
                on_change=lambda v: S.set_edge(index, "condition", v),
            ),
            flex="1 1 130px",
            min_width="0",
        ),
        rx.cond(
            edge["condition"] == "on_condition",
            rx.box(
                rx.select.root(
                    rx.select.trigger(width="100%", custom_attrs={"data-testid": "edge-value"}, aria_label="Condition value"),
                    rx.select.content(rx.select.item("is true", value="true"), rx.select.item("is false", value="false")),
                    value=edge["value"],
                    on_change=lambda v: S.set_edge(index, "value", v),
                ),
                flex="0 1 110px",
                min_width="0",
            ),
        ),
        rx.icon_button(
            rx.icon("trash-2", size=16),
            variant="ghost",
            color_scheme="gray",
            on_click=S.remove_edge(index),
            aria_label="Remove edge",
            custom_attrs={"data-testid": "remove-edge"},
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
        padding_bottom="8px",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
        custom_attrs={"data-testid": "edge-row"},
    )


def edges_section() -> rx.Component:
    return section(
        "Edges",
        rx.vstack(
            rx.foreach(S.edges, _edge_row),
            rx.cond(
                S.edges.length() == 0,
                rx.text("No edges: every step starts at once, side by side.", size="2", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
            id="edges",
        ),
        field_error(S.errors, "edges"),
        rx.button(
            rx.icon("plus", size=14), "Add edge", variant="soft", size="1", on_click=S.add_edge, id="add-edge",
            disabled=S.step_names.length() < 2,
        ),
        description="A step starts once all its parents are done, if at least one edge into it holds: always, "
        "on success, on failure (failed or timed out), or on condition (the value the parent's script set).",
        id="edges-section",
    )


def graph_section() -> rx.Component:
    return section(
        "Graph",
        workflow_graph(S.graph, S.graph_edges, S.graph_note, id="workflow-graph"),
        description="As the form stands now; top to bottom in the order steps can run.",
    )


def _run_row(run) -> rx.Component:
    return rx.link(
        rx.flex(
            rx.code(run["id"], variant="ghost", size="1", truncate=True, min_width="0", flex="1"),
            rx.hstack(
                rx.text(run["duration"], size="1", color_scheme="gray", white_space="nowrap"),
                rx.text(run["created"], size="1", color_scheme="gray", white_space="nowrap"),
                job_status_badge(run["status"], size="1"),
                spacing="3",
                align="center",
                flex_shrink="0",
            ),
            justify="between",
            align="center",
            spacing="3",
            width="100%",
        ),
        href=run["href"],
        underline="none",
        color="inherit",
        padding="8px 10px",
        border_radius="var(--radius-3)",
        width="100%",
        _hover={"background": rx.color("gray", 3)},
        custom_attrs={"data-testid": "workflow-run-row", "data-run-id": run["id"]},
    )


def runs_section() -> rx.Component:
    return section(
        "Recent runs",
        rx.cond(
            S.recent_runs.length() > 0,
            rx.vstack(rx.foreach(S.recent_runs, _run_row), spacing="0", width="100%", id="workflow-runs"),
            rx.text("No runs yet. Press Run to start one.", color_scheme="gray", size="2", id="workflow-runs-empty"),
        ),
        rx.button(
            rx.icon("refresh-cw", size=14), "Refresh", variant="ghost", size="1", on_click=S.refresh_runs,
            id="refresh-runs",
        ),
    )


def run_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run this workflow"),
            rx.dialog.description(
                "Runs the saved version. The input goes to the first steps; leave it empty for none.",
                size="2",
                color_scheme="gray",
            ),
            rx.vstack(
                field_label("Input (JSON, optional)", "run-input"),
                rx.text_area(
                    value=S.run_input,
                    on_change=S.set_run_input,
                    placeholder='{"date": "2024-01-31"}',
                    rows="5",
                    font_family=MONO,
                    width="100%",
                    id="run-input",
                ),
                rx.cond(S.run_error != "", rx.text(S.run_error, color_scheme="red", size="1", role="alert", id="run-error")),
                spacing="1",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", id="run-cancel")),
                rx.button(rx.icon("play", size=14), "Start run", on_click=S.run, loading=S.starting, id="run-start"),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="480px",
            id="run-dialog",
        ),
        open=S.run_open,
        on_open_change=S.set_run_open,
    )


def sections() -> list[rx.Component]:
    return [
        basics(),
        rx.grid(
            rx.vstack(steps_section(), edges_section(), spacing="4", width="100%", min_width="0"),
            rx.box(graph_section(), width="100%", min_width="0"),
            columns=rx.breakpoints(initial="1", lg="2"),
            spacing="4",
            width="100%",
        ),
        schedule_section(S, "Manual workflows run only when you press Run."),
        rx.cond(~S.is_new, webhook_card("workflow")),
        rx.cond(~S.is_new, runs_section()),
        run_dialog(),
    ]


def _page(*, new: bool) -> rx.Component:
    run = runners_only(rx.cond(
        ~S.is_new,
        rx.button(rx.icon("play", size=16), "Run", variant="soft", on_click=S.open_run, id="run-workflow"),
    ))
    return editor_page(S, TEXTS, new=new, actions=[run], sections=sections())


def new_page() -> rx.Component:
    return _page(new=True)


def edit_page() -> rx.Component:
    return _page(new=False)
