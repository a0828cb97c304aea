# The worker's image: `python -m orchestrator_worker` with the worker's own
# requirements only (no Reflex, no Node.js). Build from the repository root
# (deploy/compose.yaml does):
#   docker build -f deploy/worker.Dockerfile -t cronium-worker .
#
# The worker runs each job in a container of the Docker Engine it is given:
# the host's, through its socket mounted at /var/run/docker.sock (or
# DOCKER_HOST). Jobs get their script and runtime socket through bind mounts
# of the worker's run directory, so that directory must be the same path on
# the host and in this container (compose.yaml mounts it so), and the worker
# must run on the machine of its engine. The engine needs the job runtime
# image: build it there with orchestrator_worker/images/build-runtime-image.sh
# (`make image`), or load one you built elsewhere (`docker save` / `docker load`).
#
# The worker runs as root in its container: it reaches the Docker Engine
# (which is root on the host anyway) and hands each job's files to the job's
# user. It cannot install the firewall rules of egress jobs from here, so it
# refuses those jobs unless told otherwise (see "Run it as a service" in the
# README).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS packages
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python3 -m venv /opt/cronium/venv
COPY orchestrator_worker/requirements.txt /build/requirements.txt
RUN /opt/cronium/venv/bin/pip install -r /build/requirements.txt


FROM ${BASE_IMAGE}
ENV PATH=/opt/cronium/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=packages /opt/cronium/venv /opt/cronium/venv
WORKDIR /opt/cronium
COPY orchestrator_worker/ orchestrator_worker/
CMD ["python", "-m", "orchestrator_worker"]
