"""/login, /register, and the pages of an administrator's links:
/invite/<token> (create the invited account) and /reset/<token> (set a new
password)."""

from __future__ import annotations

import reflex as rx

from cronium_app import routes
from cronium_app.components.forms import field_error, field_label
from cronium_app.components.layout import brand, main_area
from cronium_app.state.auth import AuthFormState, LinkFormState
from cronium_app.state.base import AppState, password_form_action


def _card(title: str, subtitle, form: rx.Component, footer: rx.Component) -> rx.Component:
    return main_area(rx.center(
        rx.vstack(
            rx.center(brand(), width="100%"),
            rx.card(
                rx.vstack(
                    rx.heading(title, size="6", as_="h1"),
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
    ))


def _input(name: str, label: str, kind: str, autocomplete: str, **props) -> rx.Component:
    return rx.vstack(
        field_label(label, f"{name}-input"),
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
        # "true" once the page's scripts run (a click before then posts the
        # form natively: password_form_action); tests wait for it.
        custom_attrs={"data-ready": rx.State.is_hydrated},
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
    return _card("Sign in", "Run your scripts in locked-down containers.",
                 rx.vstack(form, _single_sign_on(), spacing="3", width="100%"), footer)


def _single_sign_on() -> rx.Component:
    """"Sign in with <label>" when single sign-on is configured."""
    return rx.cond(
        AuthFormState.sso_label != "",
        rx.vstack(
            rx.hstack(rx.separator(size="4"), rx.text("or", size="1", color_scheme="gray"), rx.separator(size="4"),
                      align="center", width="100%"),
            rx.button(
                # reload_document: a whole-page navigation (the route is the
                # API's, which redirects to the provider), not the client router.
                rx.link(rx.icon("key-round", size=18), "Sign in with " + AuthFormState.sso_label,
                        href=AuthFormState.sso_href, id="sso-sign-in", reload_document=True, underline="none"),
                as_child=True, variant="outline", size="3", width="100%",
            ),
            spacing="3",
            width="100%",
        ),
    )


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
            rx.callout.text(rx.cond(
                AuthFormState.registration_mode == "invite",
                "New accounts on this server are by invitation only. Ask an administrator for an invitation link.",
                "Registration is turned off on this server. Ask an administrator for an account.",
            )),
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


def _link_refused() -> rx.Component:
    return rx.callout.root(
        rx.callout.icon(rx.icon("link-2-off")),
        rx.callout.text(LinkFormState.link_refused),
        color_scheme="amber",
        id="link-refused",
        role="alert",
    )


def _link_form(submit_label: str, busy_label: str) -> rx.Component:
    return rx.cond(
        LinkFormState.link_refused != "",
        _link_refused(),
        rx.form(
            rx.vstack(
                _form_error(),
                rx.vstack(
                    rx.text("Email", size="2", weight="medium"),
                    rx.text(LinkFormState.link_email, size="3", id="link-email", overflow_wrap="anywhere"),
                    spacing="1",
                    width="100%",
                ),
                # For the password manager: the account the new password belongs to.
                rx.el.input(type="hidden", name="username", value=LinkFormState.link_email,
                            auto_complete="username"),
                rx.el.input(type="hidden", name="token", value=LinkFormState.token),
                _input("password", "New password", "password", "new-password", min_length=8, auto_focus=True),
                _input("confirm", "Repeat the password", "password", "new-password", min_length=8),
                _submit(submit_label, busy_label),
                spacing="4",
                width="100%",
            ),
            on_submit=LinkFormState.submit_link,
            method="post",
            action=password_form_action(routes.LOGIN),
            id="link-form",
            width="100%",
        ),
    )


def _to_login() -> rx.Component:
    return rx.text(rx.link("Sign in", href=routes.LOGIN, id="to-login"), size="2", color_scheme="gray")


def invite_page() -> rx.Component:
    subtitle = rx.cond(
        LinkFormState.link_role == "admin",
        "You are invited as an administrator of this server. Choose a password (at least 8 characters).",
        "You are invited to this server. Choose a password (at least 8 characters).",
    )
    return _card("Accept the invitation", subtitle, _link_form("Create account", "Creating account…"), _to_login())


def reset_page() -> rx.Component:
    return _card(
        "Set a new password",
        "At least 8 characters. Every other session of the account ends.",
        _link_form("Set password", "Setting password…"),
        _to_login(),
    )
