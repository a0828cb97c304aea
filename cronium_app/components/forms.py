"""Form pieces: a labelled field with its error message under it."""

from __future__ import annotations

import reflex as rx


def field_error(errors, key: str) -> rx.Component:
    """The message for `key` in a dict var of errors, shown under its field."""
    return rx.cond(
        errors.contains(key),
        rx.text(errors[key], color_scheme="red", size="1", id=f"error-{key.replace('.', '-')}", role="alert"),
    )


def labelled(
    label: str, control: rx.Component, *, errors=None, key: str | None = None, hint=None, **props
) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
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
                rx.heading(title, size="3"),
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
