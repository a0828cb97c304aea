"""A code editor with syntax highlighting: CodeMirror 6 through
@uiw/react-codemirror, installed from npm like Reflex's own components.

The editor keeps its text itself. `value` is only the text to load (a new
event, a type template): while someone types, the state receives each change
through `on_change` but never pushes the text back, so a slow round trip can
never overwrite newer keystrokes. Give the editor a new `key` to reload it.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData

_LANGUAGES_JS = """
const croniumEditorLanguages = {
  python: [cmPython()],
  node: [cmJavascript()],
  bash: [cmStreamLanguage.define(cmShell)],
};
// One extension list per (language, accessible name), made once: a new list
// at each render would make the editor reconfigure itself.
const croniumEditorExtensionCache = new Map();
function croniumEditorExtensions(language, label) {
  const key = `${language}\u0000${label}`;
  if (!croniumEditorExtensionCache.has(key)) {
    croniumEditorExtensionCache.set(key, [
      ...(croniumEditorLanguages[language] ?? []),
      cmEditorView.contentAttributes.of({"aria-label": label}),
    ]);
  }
  return croniumEditorExtensionCache.get(key);
}
"""


class CodeMirror(rx.NoSSRComponent):
    library = "@uiw/react-codemirror@4.25.12"
    tag = "CodeMirror"
    is_default = True
    lib_dependencies: list[str] = [
        "@codemirror/state@6.7.6",
        "@codemirror/view@6.43.15",
        "@codemirror/theme-one-dark@6.1.3",
        "codemirror@6.0.2",
    ]

    value: rx.Var[str]
    theme: rx.Var[str]
    height: rx.Var[str]
    min_height: rx.Var[str]
    max_height: rx.Var[str]
    placeholder: rx.Var[str]
    editable: rx.Var[bool]
    read_only: rx.Var[bool]
    indent_with_tab: rx.Var[bool]
    basic_setup: rx.Var[dict]
    extensions: rx.Var[list]

    on_change: rx.EventHandler[rx.event.passthrough_event_spec(str)]

    def add_imports(self) -> dict:
        return {
            "@codemirror/view@6.43.15": rx.ImportVar(tag="EditorView", alias="cmEditorView"),
            "@codemirror/lang-python@6.2.1": rx.ImportVar(tag="python", alias="cmPython"),
            "@codemirror/lang-javascript@6.2.5": rx.ImportVar(tag="javascript", alias="cmJavascript"),
            "@codemirror/language@6.13.1": rx.ImportVar(tag="StreamLanguage", alias="cmStreamLanguage"),
            "@codemirror/legacy-modes@6.5.5": rx.ImportVar(
                tag="shell", alias="cmShell", package_path="/mode/shell"
            ),
        }

    def add_custom_code(self) -> list[str]:
        return [_LANGUAGES_JS]


def editor_extensions(language: Var[str] | str, label: str) -> Var:
    """The (stable, cached) extension list for a language name, with the
    editing area's accessible name (CodeMirror's content element is a
    textbox that no `<label>` can reach)."""
    language = Var.create(language)
    return Var(
        _js_expr=f"croniumEditorExtensions({language!s}, {Var.create(label)!s})",
        _var_type=list,
        _var_data=VarData.merge(language._get_all_var_data()),
    )


def code_editor(value: Var[str] | str, language: Var[str] | str, on_change, *, label: str, **props) -> rx.Component:
    props.setdefault("min_height", "280px")
    props.setdefault("max_height", "70vh")
    return rx.box(
        CodeMirror.create(
            value=value,
            extensions=editor_extensions(language, label),
            theme=rx.color_mode_cond("light", "dark"),
            on_change=on_change,
            basic_setup={"foldGutter": False, "highlightActiveLine": True},
            indent_with_tab=True,
            **props,
        ),
        border=f"1px solid {rx.color('gray', 6)}",
        border_radius="var(--radius-3)",
        overflow="hidden",
        width="100%",
        font_size="13px",
    )
