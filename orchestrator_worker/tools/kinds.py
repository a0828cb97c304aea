"""What each kind of tool is: its one action, the fields that action
renders from templates, and how long each may be. One table for the app
(validation, forms) and the worker (delivery)."""

from __future__ import annotations

from dataclasses import dataclass

SLACK, DISCORD, TEAMS, WEBHOOK, EMAIL = "slack", "discord", "teams", "webhook", "email"
KINDS = (SLACK, DISCORD, TEAMS, WEBHOOK, EMAIL)
# Kinds whose only credential is the incoming-webhook URL their service gave.
CHAT_KINDS = (SLACK, DISCORD, TEAMS)

SEND_MESSAGE, CALL_WEBHOOK, SEND_EMAIL = "send_message", "call_webhook", "send_email"

# A template's own size, and what one field may render to (a field is cut
# to its kind's own limit, below, when it is sent).
TEMPLATE_MAX_CHARS = 16 * 1024
RENDERED_MAX_CHARS = 64 * 1024
EMAIL_MAX_RECIPIENTS = 20
WEBHOOK_METHODS = ("POST", "PUT", "PATCH")
EMAIL_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class Kind:
    label: str
    action: str
    action_label: str
    fields: tuple[str, ...]  # rendered from templates, in form order
    required: tuple[str, ...]
    # The most characters the service takes in the message text.
    text_max: int = RENDERED_MAX_CHARS


KIND_TABLE: dict[str, Kind] = {
    SLACK: Kind("Slack", SEND_MESSAGE, "Send message", ("text",), ("text",), 40_000),
    DISCORD: Kind("Discord", SEND_MESSAGE, "Send message", ("text",), ("text",), 2_000),
    TEAMS: Kind("Microsoft Teams", SEND_MESSAGE, "Send message", ("text",), ("text",), 20_000),
    WEBHOOK: Kind("Webhook", CALL_WEBHOOK, "Call webhook", ("body",), ()),
    EMAIL: Kind("Email", SEND_EMAIL, "Send email", ("to", "subject", "body"), ("to", "subject", "body")),
}

FIELD_LABELS = {"text": "Message", "body": "Body", "to": "To", "subject": "Subject"}


def action_of(kind: str) -> str:
    return KIND_TABLE[kind].action
