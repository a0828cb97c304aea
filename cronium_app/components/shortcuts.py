"""Keyboard shortcuts: `g j` jobs, `g e` events, `g w` workflows, `/` the
page's search, `r` run the open event, `[` / `]` the previous / next page of
a list, `?` this list.

One script, loaded once in the page's head, listens for keys; a shortcut
acts on what the page marks with `data-shortcut` (SEARCH, RUN, PREV_PAGE,
NEXT_PAGE, HELP): it clicks or focuses the element as a person would, so a
shortcut never does more than the control it stands for (a run asks first if
its button does). Keys typed into a field, an editor or a menu, with a
modifier, or while a dialog is open are left alone."""

from __future__ import annotations

import json

import reflex as rx

from cronium_app import routes
from cronium_app.state.base import AppState

SEARCH, RUN, PREV_PAGE, NEXT_PAGE, HELP = "search", "run", "prev-page", "next-page", "help"
# "g" then a letter within this time.
SEQUENCE_MS = 1500

GO_TO = {"j": ("Jobs", routes.JOBS), "e": ("Events", routes.EVENTS), "w": ("Workflows", routes.WORKFLOWS)}
SINGLE_KEYS = {"/": SEARCH, "r": RUN, "[": PREV_PAGE, "]": NEXT_PAGE, "?": HELP}

# (keys as a person presses them, what happens): the dialog's list.
SHORTCUTS: list[tuple[tuple[str, ...], str]] = [
    *[(("g", key), f"Go to {label.lower()}") for key, (label, _) in GO_TO.items()],
    (("/",), "Search this page's list"),
    (("r",), "Run the open event"),
    (("[",), "Previous page of the list"),
    (("]",), "Next page of the list"),
    (("?",), "Show these shortcuts"),
]


def marker(action: str) -> dict[str, str]:
    """The custom_attrs that make an element the target of a shortcut."""
    return {"data-shortcut": action}


_SCRIPT = """
(() => {
  if (window.__croniumShortcuts) return;
  window.__croniumShortcuts = true;
  const GO_TO = %(go_to)s, SINGLE = %(single)s, SEQUENCE_MS = %(sequence_ms)d;
  let pendingG = 0;
  const typing = (el) => el && (el.isContentEditable || el.closest('input, textarea, select, [contenteditable], [role=textbox], [role=combobox], [role=listbox], [role=menu], .cm-editor'));
  const shown = (el) => el.getClientRects().length > 0;
  const target = (action, visibleOnly) => Array.from(document.querySelectorAll(`[data-shortcut="${action}"]`))
      .find((el) => !el.disabled && el.getAttribute('aria-disabled') !== 'true' && (!visibleOnly || shown(el)));
  const go = (path) => {
    // The sidebar's (or phone menu's) link navigates without reloading the page.
    const link = document.querySelector(`nav a[href="${path}"]`);
    if (link) link.click(); else window.location.assign(path);
  };
  const act = (action) => {
    const el = target(action, action !== 'help');
    if (!el) return false;
    if (action === 'search') {
      const field = el.matches('input, textarea') ? el : el.querySelector('input, textarea');
      (field || el).focus();
      if (field && field.select) field.select();
    } else {
      el.click();
    }
    return true;
  };
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typing(e.target) || document.querySelector('[role=dialog], [role=alertdialog]')) { pendingG = 0; return; }
    if (pendingG && Date.now() - pendingG < SEQUENCE_MS && GO_TO[e.key]) {
      pendingG = 0; e.preventDefault(); go(GO_TO[e.key]); return;
    }
    pendingG = 0;
    if (e.key === 'g') { pendingG = Date.now(); return; }
    const action = SINGLE[e.key];
    if (action && act(action)) e.preventDefault();
  });
})();
""" % {
    "go_to": json.dumps({key: path for key, (_, path) in GO_TO.items()}),
    "single": json.dumps(SINGLE_KEYS),
    "sequence_ms": SEQUENCE_MS,
}


def shortcuts_script() -> rx.Component:
    """For the app's head_components: installs the key listener once."""
    return rx.script(_SCRIPT)


def _keys(keys: tuple[str, ...]) -> rx.Component:
    parts: list[rx.Component] = []
    for index, key in enumerate(keys):
        if index:
            parts.append(rx.text("then", size="1", color_scheme="gray"))
        parts.append(rx.code(key, variant="outline", size="2"))
    return rx.hstack(*parts, spacing="2", align="center")


def shortcuts_dialog() -> rx.Component:
    """The list of shortcuts, opened by `?` or the button under the
    navigation (a Radix dialog: it keeps the focus inside and closes on
    Escape)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Keyboard shortcuts"),
            rx.dialog.description("Anywhere outside a text field.", size="2", color_scheme="gray"),
            rx.table.root(
                rx.table.body(
                    *[
                        rx.table.row(rx.table.cell(_keys(keys)), rx.table.cell(rx.text(what, size="2")))
                        for keys, what in SHORTCUTS
                    ]
                ),
                size="1",
                width="100%",
                margin_top="12px",
            ),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", id="shortcuts-close")),
                justify="end",
                margin_top="16px",
            ),
            max_width="420px",
            id="shortcuts-dialog",
        ),
        open=AppState.shortcuts_open,
        on_open_change=AppState.set_shortcuts_open,
    )


def shortcuts_button() -> rx.Component:
    return rx.button(
        rx.icon("keyboard", size=16),
        "Shortcuts",
        rx.code("?", variant="ghost", size="1"),
        variant="ghost",
        color_scheme="gray",
        size="2",
        width="100%",
        justify="start",
        on_click=AppState.set_shortcuts_open(True),
        custom_attrs=marker(HELP),
        id="shortcuts-button",
    )
