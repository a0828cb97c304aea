"""Reflex configuration. Every value comes from Cronium's settings."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin
from reflex_components_radix.plugin import RadixThemesPlugin

from cronium_app.settings import get_settings

settings = get_settings()

config = rx.Config(
    app_name="cronium_app",
    db_url=settings.database_url,
    # Several app processes share the UI's state through Redis (unset: each
    # process keeps it in memory, and Reflex runs one backend process).
    redis_url=settings.redis_url or None,
    # This machine only, unless CRONIUM_HOST says otherwise (Reflex's own
    # default is every interface).
    backend_host=settings.host,
    # Browsers may call the API with credentials, and open the websocket,
    # from the public origin only (Reflex's default is any origin). This
    # feeds Starlette's CORS middleware on every HTTP route and the
    # socket.io server's origin check on /_event.
    cors_allowed_origins=[settings.origin],
    trusted_proxy_hops=settings.trusted_proxy_hops,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # Sitemaps are for public sites; every Cronium page is behind a login.
    disable_plugins=[SitemapPlugin],
    # Indigo, not Radix's default blue: white on blue-9 is 3.3:1, on
    # indigo-9 5.2:1 (WCAG AA asks 4.5:1), in both themes.
    plugins=[RadixThemesPlugin(theme=rx.theme(accent_color="indigo"))],
)
