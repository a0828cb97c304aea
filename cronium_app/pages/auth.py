"""/login and /register."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.forms import field_error
from cronium_app.components.layout import brand
from cronium_app.state.auth import AuthFormState
from cronium_app.state.base import AppState, password_form_action


def _card(title: str, subtitle, form: rx.Component, footer: rx.Component) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(brand(), width="100%"),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6"),
                    rx.text(subtitle, color_scheme="gray", size="2"),
                    form,
                    spacing="3",
                    width="100%",
                ),
                size="3",
                width="100%",
            ),
            footer,
            spacing="5",
            width="100%",
            max_width="400px",
            align="center",
        ),
        min_height="100vh",
        padding="24px 16px",
        on_mount=AppState.detect_timezone,
    )


def _input(name: str, label: str, kind: str, autocomplete: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium", html_for=f"{name}-input"),
        rx.input(
            name=name,
            type=kind,
            id=f"{name}-input",
            auto_complete=autocomplete,
            size="3",
            width="100%",
            required=True,
            **props,
        ),
        field_error(AuthFormState.field_errors, name),
        spacing="1",
        width="100%",
    )


def _form_error() -> rx.Component:
    return rx.cond(
        AuthFormState.error != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("circle-alert")),
            rx.callout.text(AuthFormState.error),
            color_scheme="red",
            size="1",
            id="form-error",
            role="alert",
        ),
    )


def _submit(label: str, busy: str) -> rx.Component:
    return rx.button(
        rx.cond(AuthFormState.submitting, rx.spinner(size="2"), rx.fragment()),
        rx.cond(AuthFormState.submitting, busy, label),
        type="submit",
        size="3",
        width="100%",
        disabled=AuthFormState.submitting,
        id="submit",
    )


def login_page() -> rx.Component:
    form = rx.form(
        rx.vstack(
            _form_error(),
            _input("email", "Email", "email", "username", placeholder="you@example.com", auto_focus=True),
            _input("password", "Password", "password", "current-password"),
            _submit("Sign in", "Signing in…"),
            spacing="4",
            width="100%",
        ),
        on_submit=AuthFormState.login,
        # A click before the page's scripts run submits the form natively:
        # posted to a harmless address, so the password never lands in a URL.
        method="post",
        action=password_form_action(routes.LOGIN),
        id="login-form",
        width="100%",
    )
    footer = rx.cond(
        AuthFormState.registration_open,
        rx.text(
            rx.cond(AuthFormState.first_account, "No accounts yet. ", "New here? "),
            rx.link("Create an account", href=routes.REGISTER, id="to-register"),
            size="2",
            color_scheme="gray",
        ),
    )
    return _card("Sign in", "Run your scripts in locked-down containers.", form, footer)


def register_page() -> rx.Component:
    form = rx.cond(
        AuthFormState.registration_open,
        rx.form(
            rx.vstack(
                _form_error(),
                rx.cond(
                    AuthFormState.first_account,
                    rx.callout.root(
                        rx.callout.icon(rx.icon("shield-check")),
                        rx.callout.text("The first account administers this server."),
                        size="1",
                    ),
                ),
                _input("email", "Email", "email", "username", placeholder="you@example.com", auto_focus=True),
                _input("password", "Password", "password", "new-password", min_length=8),
                _input("confirm", "Repeat the password", "password", "new-password", min_length=8),
                _submit("Create account", "Creating account…"),
                spacing="4",
                width="100%",
            ),
            on_submit=AuthFormState.register,
            method="post",
            action=password_form_action(routes.REGISTER),
            id="register-form",
            width="100%",
        ),
        rx.callout.root(
            rx.callout.icon(rx.icon("lock")),
            rx.callout.text("Registration is turned off on this server. Ask an administrator for an account."),
            color_scheme="amber",
            id="registration-closed",
        ),
    )
    footer = rx.text(
        "Already have an account? ",
        rx.link("Sign in", href=routes.LOGIN, id="to-login"),
        size="2",
        color_scheme="gray",
    )
    return _card("Create an account", "At least 8 characters for the password.", form, footer)
