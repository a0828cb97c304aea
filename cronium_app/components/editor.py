"""The frame of an editor page (events, workflows): the header with its
buttons, the saved/unsaved line, the Save button and the delete dialog.

`S` is a state with EditorMixin."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from cronium_app.components.dialogs import confirm_dialog
from cronium_app.components.feedback import error_callout, loading_block, not_found
from cronium_app.components.layout import app_shell, page_header
from cronium_app.components.roles import editors_only


@dataclass(frozen=True)
class EditorTexts:
    noun: str  # "event"
    new_subtitle: str
    dirty_note: str  # what runs while the form has unsaved changes
    delete_note: str  # what deleting leaves behind
    back_href: str


def save_button(S, texts: EditorTexts, element_id: str) -> rx.Component:
    """For editors and owners only (the service refuses anyone else's save)."""
    return editors_only(rx.button(
        rx.icon("save", size=16),
        rx.cond(S.is_new, f"Create {texts.noun}", "Save"),
        on_click=S.save,
        loading=S.saving,
        id=element_id,
    ))


def delete_button(S, element_id: str) -> rx.Component:
    return editors_only(rx.cond(
        ~S.is_new,
        rx.button(
            rx.icon("trash-2", size=16), "Delete",
            variant="soft", color_scheme="red", on_click=S.ask_delete, id=element_id,
        ),
    ))


def delete_dialog(S, texts: EditorTexts) -> rx.Component:
    return confirm_dialog(
        is_open=S.confirm_delete,
        on_open_change=S.set_confirm_delete,
        title=f"Delete this {texts.noun}?",
        description=rx.text(rx.text.strong(S.saved_name), texts.delete_note),
        confirm_label=f"Delete {texts.noun}",
        on_confirm=S.delete,
        loading=S.deleting,
        element_id="delete-dialog",
        buttons_id="delete",
    )


def status_line(S, texts: EditorTexts) -> rx.Component:
    return rx.flex(
        rx.cond(S.dirty, rx.badge("Unsaved changes", color_scheme="amber", variant="soft", id="unsaved")),
        rx.cond(S.dirty & ~S.is_new, rx.text(texts.dirty_note, size="1", color_scheme="gray")),
        rx.cond((S.updated != "") & ~S.dirty, rx.text("Saved ", S.updated, size="1", color_scheme="gray")),
        spacing="2",
        align="center",
        wrap="wrap",
        min_height="22px",
    )


def form_error(S) -> rx.Component:
    return rx.cond(S.errors.contains("form"), error_callout(S.errors["form"], id="form-error"))


def _form(S, texts: EditorTexts, sections: list[rx.Component]) -> rx.Component:
    """The form's message, its sections, the Save button again at the end
    (long forms), and the delete dialog."""
    return rx.vstack(
        form_error(S),
        *sections,
        rx.flex(save_button(S, texts, f"save-{texts.noun}-bottom"), justify="end", width="100%"),
        delete_dialog(S, texts),
        spacing="4",
        width="100%",
    )


def editor_page(
    S, texts: EditorTexts, *, new: bool, actions: list[rx.Component], sections: list[rx.Component],
    max_width: str = "100%",
) -> rx.Component:
    """The page of a new row (`new`) or of the row the URL names: not found,
    a load error, a spinner, or the header over the form (both `max_width`
    wide, so the buttons line up with the form). `actions` go before Save
    and Delete."""
    noun = texts.noun
    title = f"New {noun}" if new else rx.cond(S.saved_name != "", S.saved_name, noun.capitalize())
    buttons = [*actions, save_button(S, texts, f"save-{noun}"), delete_button(S, f"delete-{noun}")]
    return app_shell(
        rx.cond(
            S.not_found,
            not_found(
                f"{noun.capitalize()} not found",
                "It does not exist, or it belongs to someone else.",
                f"Back to {noun}s",
                texts.back_href,
                id=f"{noun}-not-found",
            ),
            rx.cond(
                S.load_error != "",
                error_callout(S.load_error, on_retry=S.load_new if new else S.load_existing),
                rx.cond(
                    S.loaded,
                    rx.box(
                        page_header(
                            title,
                            *buttons,
                            subtitle=rx.cond(S.is_new, texts.new_subtitle, status_line(S, texts)),
                        ),
                        _form(S, texts, sections),
                        width="100%",
                        max_width=max_width,
                    ),
                    loading_block(f"Loading the {noun}…"),
                ),
            ),
        ),
    )
