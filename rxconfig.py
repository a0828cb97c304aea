"""Reflex configuration. Every value comes from Cronium's settings."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin
from reflex_components_radix.plugin import RadixThemesPlugin

from cronium_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="cronium_app",
    db_url=settings.database_url,
    # This machine only, unless CRONIUM_HOST says otherwise (Reflex's own
    # default is every interface).
    backend_host=settings.host,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Sitemaps are for public sites; every Cronium page is behind a login.
    disable_plugins=[SitemapPlugin],
    plugins=[RadixThemesPlugin()],
)
