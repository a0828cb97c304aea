#!/usr/bin/env bash
# Make sure a Docker Engine is installed and answering on /var/run/docker.sock.
#
# Idempotent: exits 0 at once when the engine already answers. Otherwise it
# installs Debian's docker.io (CI runs on a fresh Debian 12 as root, with no
# systemd and no services), starts dockerd detached so it outlives the caller,
# and waits until the engine answers.
#
# The `docker` CLI on PATH may be newer than Debian's Engine 20.10 (API 1.41),
# so readiness is checked against the engine's socket directly with curl when
# curl is available, and with `docker info` pinned to API 1.41 otherwise.
set -euo pipefail

SOCK="${CRONIUM_DOCKER_SOCK:-/var/run/docker.sock}"
LOG="${CRONIUM_DOCKERD_LOG:-/var/log/cronium-dockerd.log}"
WAIT_SECONDS="${CRONIUM_DOCKER_WAIT:-60}"

log() { echo "[ensure-docker] $*" >&2; }

# True when the engine answers. /_ping needs no API version, so a CLI/engine
# version mismatch cannot make us think the engine is down.
engine_up() {
    if command -v curl >/dev/null 2>&1; then
        [ -S "$SOCK" ] && [ "$(curl -fsS --max-time 3 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null)" = "OK" ]
    elif command -v docker >/dev/null 2>&1; then
        DOCKER_API_VERSION="${DOCKER_API_VERSION:-1.41}" docker info >/dev/null 2>&1
    else
        return 1
    fi
}

if engine_up; then
    log "Docker Engine already answers on $SOCK"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    log "Docker Engine is not running and starting it needs root."
    exit 1
fi

# Install only when the daemon binary is missing. The package index is
# refreshed only if the first install attempt fails (saves ~10 s on machines
# with a fresh index).
if ! command -v dockerd >/dev/null 2>&1; then
    log "dockerd not found: installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends docker.io; then
        log "install failed: running apt-get update and retrying"
        apt-get update
        apt-get install -y --no-install-recommends docker.io
    fi
fi

# A stale pid file or socket left by a killed dockerd makes a new one refuse
# to start; remove them only if no dockerd is actually running.
if ! pgrep -x dockerd >/dev/null 2>&1; then
    rm -f /var/run/docker.pid
    [ -S "$SOCK" ] && rm -f "$SOCK"
    log "starting dockerd (log: $LOG)"
    # setsid + closed stdin: the daemon leaves our session and process group,
    # so it survives the script, the CI step, and Ctrl-C in the caller.
    setsid dockerd >"$LOG" 2>&1 </dev/null &
else
    log "dockerd is running but not answering yet; waiting for it"
fi

for ((i = 0; i < WAIT_SECONDS * 2; i++)); do
    if engine_up; then
        log "Docker Engine is up after ~$((i / 2)) s"
        exit 0
    fi
    sleep 0.5
done

log "ERROR: Docker Engine did not answer on $SOCK within ${WAIT_SECONDS} s."
log "Last lines of $LOG:"
tail -n 30 "$LOG" >&2 2>/dev/null || true
exit 1
