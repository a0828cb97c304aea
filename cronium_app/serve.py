"""`python -m cronium_app.serve`: the app as its container image starts it
(deploy/app.Dockerfile).

1. Migrate the database to the newest schema. Replicas starting together
   take turns (cronium_app/migrations.py); the later ones find nothing to do.
2. Point the UI built into the image at CRONIUM_PUBLIC_URL (built_ui.py),
   in a copy, so the image's own files stay as they were built.
3. Serve the UI and every API on one port (CRONIUM_HOST:CRONIUM_PORT), as
   `reflex run --env prod --single-port` does, but from the UI built into
   the image: no Node.js and no build when the app starts.

Each replica runs one server process unless GRANIAN_WORKERS says otherwise
(more processes per replica need REDIS_URL, as more replicas do).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from cronium_app import built_ui, migrations
from cronium_app.settings import Settings, get_settings

logger = logging.getLogger("cronium_app.serve")

# Where a replica keeps the copy of the UI it serves, and (without Redis)
# its pages' state: the image's own files are not the app user's to write.
UI_COPY = Path(tempfile.gettempdir()) / "cronium-ui"
STATES_DIR = Path(tempfile.gettempdir()) / "cronium-states"


def prepare_ui(settings: Settings, built: Path) -> Path:
    """The Reflex web dir to serve: the built one when it already calls the
    public URL, else a copy that does."""
    if built_ui.built_origin(built) == settings.origin:
        return built
    changed = built_ui.point_at(built, UI_COPY, settings.origin)
    logger.info("web UI pointed at %s (%d files)", settings.origin, changed)
    return UI_COPY


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.assert_safe_for_production()
    logger.info("migrating the database to the newest schema")
    migrations.upgrade_to_head()
    os.environ["REFLEX_WEB_WORKDIR"] = str(prepare_ui(settings, Path(".web").resolve()))
    os.environ.setdefault("REFLEX_STATES_WORKDIR", str(STATES_DIR))
    os.environ.setdefault("GRANIAN_WORKERS", "1")

    from reflex_base import constants
    from reflex_base.config import get_config
    from reflex_base.environment import environment
    from reflex.utils import exec as reflex_exec

    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    # The UI is built into the image; backend-only keeps rx.asset(shared=True)
    # from linking its files into assets/ at import, which the image's
    # read-only filesystem refuses (the build already placed them in the UI).
    environment.REFLEX_BACKEND_ONLY.set(True)
    logger.info("serving the UI and the APIs on %s:%d (public URL %s)", settings.host, settings.port, settings.origin)
    reflex_exec.run_backend_prod(
        settings.host, settings.port, get_config().loglevel.subprocess_level(), mount_frontend_compiled_app=True
    )


if __name__ == "__main__":
    main()
