"""Form pieces: a labelled field with its error message under it."""

from __future__ import annotations

import reflex as rx


def field_error(errors, key: str) -> rx.Component:
    """The message for `key` in a dict var of errors, shown under its field."""
    return rx.cond(
        errors.contains(key),
        rx.text(errors[key], color_scheme="red", size="1", id=f"error-{key.replace('.', '-')}", role="alert"),
    )


def field_label(label, control_id) -> rx.Component:
    """A field's visible name, tied to its control (`<label for=id>`), so a
    screen reader announces it and a click on it focuses the control.
    (Radix's Text `as_="label"` cannot carry `for`: Reflex turns the prop
    into a style.) Styled as Radix Text size 2, medium."""
    return rx.el.label(
        label, html_for=control_id, id=label_id(control_id), class_name="rt-Text rt-r-size-2 rt-r-weight-medium"
    )


def label_id(control_id):
    return "label-" + control_id if isinstance(control_id, str) else "label-" + control_id.to(str)


def _named_control(component: rx.Component) -> rx.Component | None:
    """The first component with an id in `component`'s tree: the control
    itself, or the trigger of a select (whose root has no element)."""
    pending = [component]
    while pending:
        current = pending.pop(0)
        if getattr(current, "id", None) is not None:
            return current
        pending.extend(child for child in getattr(current, "children", []) if isinstance(child, rx.Component))
    return None


def _tie_label(label, control: rx.Component) -> rx.Component:
    """The label for `control`'s element; the element is also named by it
    (aria-labelledby), which a select's trigger (a button) needs: buttons
    take no name from `<label for>`."""
    named = _named_control(control)
    if named is None:
        return rx.text(label, size="2", weight="medium")
    named.custom_attrs = {**named.custom_attrs, "aria-labelledby": label_id(named.id)}
    return field_label(label, named.id)


def labelled(
    label: str, control: rx.Component, *, errors=None, key: str | None = None, hint=None, **props
) -> rx.Component:
    """A field: its label (tied to the control, found by its id), the
    control, a hint and the field's error message."""
    return rx.vstack(
        _tie_label(label, control),
        control,
        rx.text(hint, size="1", color_scheme="gray") if hint is not None else rx.fragment(),
        field_error(errors, key) if errors is not None and key else rx.fragment(),
        spacing="1",
        width="100%",
        **props,
    )


def section(title: str, *children: rx.Component, description=None, **props) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.vstack(
                rx.heading(title, size="3", as_="h2"),
                rx.text(description, size="2", color_scheme="gray") if description is not None else rx.fragment(),
                spacing="1",
            ),
            *children,
            spacing="4",
            width="100%",
        ),
        width="100%",
        size=rx.breakpoints(initial="2", md="3"),
        **props,
    )


def invalid_props(errors, key: str) -> dict:
    """Props that mark a control whose field has a message: a red border
    (Radix draws the border as an inset shadow) and aria-invalid."""
    bad = errors.contains(key)
    return {
        "box_shadow": rx.cond(bad, "inset 0 0 0 1px var(--red-9)", ""),
        "custom_attrs": {"aria-invalid": rx.cond(bad, "true", "false")},
    }


def marked_input(errors, key: str, *, attrs: dict | None = None, **props) -> rx.Component:
    """A full-width input marked invalid while `key` has a message (`attrs`:
    more HTML attributes, such as autoComplete)."""
    marks = invalid_props(errors, key)
    marks["custom_attrs"] = {**marks["custom_attrs"], **(attrs or {})}
    return rx.input(width="100%", **props, **marks)


def choice(value, on_change, items: list[tuple[str, str]], element_id: str, **props) -> rx.Component:
    """A select of (value, label) items."""
    return rx.select.root(
        rx.select.trigger(id=element_id, width="100%"),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in items]),
        value=value,
        on_change=on_change,
        **props,
    )
