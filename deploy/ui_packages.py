"""Install the web UI's npm packages (from reflex.lock/) into .web, before
the app's code is in the image: deploy/app.Dockerfile runs this in a layer
of its own, so that a change to the code rebuilds the UI without
installing the packages again. It does what `reflex export` does first
(set up .web, install the packages), with Reflex's own functions (pinned
with Reflex in cronium_app/requirements.txt)."""

from reflex.utils import js_runtimes, prerequisites
from reflex_base.config import get_config

if __name__ == "__main__":
    prerequisites.initialize_frontend_dependencies()
    js_runtimes.install_frontend_packages(set(), get_config())
