"""Page registry: each page module adds itself to the app here."""

from __future__ import annotations

import reflex as rx

from cronium_app.pages import home


def register_pages(app: rx.App) -> None:
    app.add_page(home.page, route="/", title="Cronium")
