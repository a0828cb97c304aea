"""The event editor's "Conditional actions" and "Webhook triggers" cards,
the latter on the workflow editor too (state: cronium_app/state/event_extras.py)."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.forms import field_error, invalid_props, labelled, section
from cronium_app.components.styles import MONO
from cronium_app.state.event_extras import NONE, TRIGGER_LABELS
from cronium_app.state.event_extras import EventExtrasState as X


def _choice(label: str, key: str, value, options, error_key: str, **props) -> rx.Component:
    return labelled(
        label,
        rx.select.root(
            rx.select.trigger(id=f"action-{key}", width="100%"),
            rx.select.content(*options),
            value=value, on_change=lambda v: X.set_action_field(key, v), **props,
        ),
        errors=X.errors, key=error_key,
    )


def _items(options, empty: str):
    return [rx.select.item(empty, value=NONE), rx.foreach(options, lambda o: rx.select.item(o["label"], value=o["id"]))]


def _action_form() -> rx.Component:
    return rx.vstack(
        rx.flex(
            rx.box(_choice("When", "a_trigger", X.a_trigger,
                           [rx.select.item(text, value=key) for key, text in TRIGGER_LABELS.items()], "trigger"),
                   flex="1", min_width="200px"),
            rx.cond(
                X.a_trigger == "condition",
                rx.box(_choice("Condition", "a_condition", X.a_condition,
                               [rx.select.item("is true", value="true"), rx.select.item("is false", value="false")],
                               "conditionValue"), width="140px"),
            ),
            rx.cond(
                (X.a_trigger == "late") | (X.a_trigger == "long_running"),
                rx.box(labelled("After (minutes)",
                                rx.input(value=X.a_threshold, on_change=lambda v: X.set_action_field("a_threshold", v),
                                         id="action-threshold", input_mode="numeric", width="100%",
                                         **invalid_props(X.errors, "thresholdSeconds")),
                                errors=X.errors, key="thresholdSeconds"), width="140px"),
            ),
            rx.box(_choice("Do", "a_kind", X.a_kind,
                           [rx.select.item("Send a message", value="message"),
                            rx.select.item("Run another event", value="run_event")], "kind"),
                   flex="1", min_width="200px"),
            spacing="3", width="100%", wrap="wrap",
        ),
        rx.cond(
            X.a_kind == "message",
            rx.vstack(
                _choice("Through", "a_tool", X.a_tool, _items(X.tool_options, "Choose a tool"), "toolId"),
                rx.cond(X.tool_options.length() == 0,
                        rx.text("No tools yet: ", rx.link("add one", href=routes.TOOLS), " first.", size="1")),
                rx.cond(
                    X.tool_kind == "email",
                    labelled("To", rx.input(value=X.a_to, on_change=lambda v: X.set_action_field("a_to", v),
                                            id="action-to", width="100%", placeholder="ops@example.com",
                                            **invalid_props(X.errors, "fields.to")),
                             errors=X.errors, key="fields.to"),
                ),
                labelled(
                    "Message",
                    rx.text_area(value=X.a_text, on_change=lambda v: X.set_action_field("a_text", v), rows="4",
                                 font_family=MONO, font_size="12px", id="action-text", width="100%",
                                 placeholder="Empty: the default message (event, status, duration, exit code, "
                                             "the last 20 log lines and a link to the job)",
                                 **invalid_props(X.errors, "fields.text")),
                    errors=X.errors, key="fields.text",
                    hint="A template: {{ input.event.name }}, {{ input.job.status }}, {{ input.job.duration }}, "
                         "{{ input.job.logTail | join('\\n') }}, {{ input.job.url }}…",
                ),
                rx.cond(
                    (X.a_trigger == "failure") | (X.a_trigger == "long_running"),
                    labelled("Alert at most once every (minutes)",
                             rx.input(value=X.a_window, on_change=lambda v: X.set_action_field("a_window", v),
                                      id="action-window", input_mode="numeric", width="120px",
                                      **invalid_props(X.errors, "alertWindowSeconds")),
                             errors=X.errors, key="alertWindowSeconds",
                             hint="Later failures within the window send nothing; the first success after "
                                  "failures sends one 'recovered' message."),
                ),
                spacing="3", width="100%",
            ),
            _choice("Event", "a_target", X.a_target, _items(X.event_options, "Choose an event"), "targetEventId"),
        ),
        field_error(X.errors, "form"),
        rx.flex(
            rx.button("Cancel", variant="soft", color_scheme="gray", on_click=X.set_action_open(False)),
            rx.button(rx.icon("plus", size=14), "Add action", on_click=X.add_action, loading=X.busy, id="action-add"),
            spacing="2", justify="end", width="100%",
        ),
        spacing="3", width="100%", padding="12px", border=f"1px solid {rx.color('gray', 5)}", border_radius="8px",
        id="action-form",
    )


def conditional_actions_card() -> rx.Component:
    def row(item) -> rx.Component:
        return rx.flex(
            rx.vstack(
                rx.text(item["when"], " → ", rx.text.strong(item["what"]), size="2"),
                rx.text(item["detail"], size="1", color_scheme="gray"),
                spacing="0", align="start", min_width="0",
            ),
            rx.icon_button(rx.icon("trash-2", size=14), variant="soft", color_scheme="red", size="1",
                           on_click=X.delete_action(item["id"]), aria_label="Remove",
                           custom_attrs={"data-testid": "remove-action"}),
            justify="between", align="center", width="100%", spacing="3",
            custom_attrs={"data-testid": "event-action"},
        )

    return section(
        "Conditional actions",
        rx.cond(X.actions.length() > 0, rx.vstack(rx.foreach(X.actions, row), spacing="2", width="100%"),
                rx.text("Nothing happens when a job ends.", size="2", color_scheme="gray")),
        rx.cond(X.action_open, _action_form(),
                rx.button(rx.icon("plus", size=14), "Add a conditional action", variant="soft",
                          on_click=X.set_action_open(True), id="new-action")),
        description="Tell someone, or run another event, when a job of this event ends. Actions never change "
                    "the job's own status; what they did shows on the job's page.",
        id="actions-card",
    )


def _shown_url() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("key-round")),
        rx.vstack(
            rx.text("Copy this URL now: its secret is not shown again (rotate for a new one).", size="2",
                    weight="medium"),
            rx.flex(
                rx.code(X.shown_url, id="trigger-url", word_break="break-all", flex="1"),
                rx.icon_button(rx.icon("copy", size=14), size="1", variant="soft", aria_label="Copy URL",
                               on_click=rx.set_clipboard(X.shown_url), id="trigger-copy"),
                spacing="2", align="center", width="100%",
            ),
            rx.text("Try it:", size="1", color_scheme="gray"),
            rx.code(X.curl_example, id="trigger-curl", word_break="break-all", size="1"),
            rx.button("Done", size="1", variant="soft", on_click=X.hide_url),
            spacing="2", align="start", width="100%",
        ),
        color_scheme="amber", variant="surface", width="100%", id="trigger-secret",
    )


def webhook_card(what: str = "event") -> rx.Component:
    def row(item) -> rx.Component:
        return rx.flex(
            rx.vstack(
                rx.text(rx.cond(item["name"] != "", item["name"], "Webhook"),
                        rx.cond(item["signed"], rx.badge("signed", size="1", variant="soft", margin_left="6px")),
                        size="2", weight="medium"),
                rx.code(item["url_prefix"], "••••••", size="1", variant="ghost", color_scheme="gray",
                        word_break="break-all"),
                rx.text("Last used: ", item["last_used"], size="1", color_scheme="gray"),
                spacing="1", align="start", min_width="0",
            ),
            rx.flex(
                rx.button(rx.icon("refresh-cw", size=14), "Rotate", size="1", variant="soft",
                          on_click=X.rotate_trigger(item["id"]), custom_attrs={"data-testid": "rotate-trigger"}),
                rx.button(rx.icon("trash-2", size=14), "Revoke", size="1", variant="soft", color_scheme="red",
                          on_click=X.delete_trigger(item["id"]), custom_attrs={"data-testid": "revoke-trigger"}),
                spacing="2",
            ),
            justify="between", align="center", width="100%", spacing="3", wrap="wrap",
            custom_attrs={"data-testid": "event-trigger"},
        )

    return section(
        "Webhook triggers",
        rx.cond(X.shown_url != "", _shown_url()),
        rx.cond(X.triggers.length() > 0, rx.vstack(rx.foreach(X.triggers, row), spacing="3", width="100%")),
        rx.flex(
            rx.input(value=X.t_name, on_change=X.set_t_name, placeholder="Name (optional)", id="trigger-name",
                     flex="1", min_width="160px"),
            rx.input(value=X.t_signing, on_change=X.set_t_signing, type="password", id="trigger-signing",
                     placeholder="Signing secret (optional)", flex="1", min_width="160px",
                     custom_attrs={"autoComplete": "new-password"}),
            rx.button(rx.icon("webhook", size=14), "Make a webhook URL", on_click=X.add_trigger, loading=X.busy,
                      id="new-trigger"),
            spacing="2", width="100%", wrap="wrap", align="center",
        ),
        field_error(X.errors, "signingSecret"),
        description=f"A secret URL that starts this {what}: POST JSON, a form or text, and it becomes the "
                    f"{'run' if what == 'workflow' else 'job'}'s input. With a signing secret, calls must carry "
                    "X-Hub-Signature-256 (GitHub) or X-Cronium-Signature.",
        id="triggers-card",
    )
