#!/usr/bin/env bash
# Build, from Debian's packages, local stand-ins for the public images
# deploy/compose.yaml starts from, for a machine that reaches no image
# registry (the tests run on one):
#
#   cronium-local/debian:bookworm        for debian:bookworm-slim (the proxy's base)
#   cronium-local/python:3.11-bookworm   for python:3.11-slim-bookworm (the app's and the worker's base)
#   cronium-local/postgres:15            for postgres:15-bookworm
#   cronium-local/redis:7                for redis:7-bookworm
#
# The first is a debootstrapped rootfs (orchestrator_worker/images/
# debian-rootfs.sh, as the job runtime image is made), the others add Debian
# packages to it. Prints the settings that point compose.yaml at them
# (NAME=value lines on stdout, for deploy/.env or the environment); logs go
# to stderr.
#
# Quick when nothing changed: the rootfs tarball is cached by its inputs
# under $CRONIUM_IMAGE_CACHE (default /var/cache/cronium), and every image
# after it is a docker build whose layers Docker's cache already holds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$HERE/../.." && pwd)"
CACHE_DIR="$(realpath -m "${CRONIUM_IMAGE_CACHE:-/var/cache/cronium}")"
# Debian's Engine 20.10 may be driven by a newer CLI without buildx: ask for
# the legacy builder (compose 1.29 builds with it too).
export DOCKER_BUILDKIT=0

log() { echo "[local-images] $*" >&2; }

"$REPO_DIR/orchestrator_worker/scripts/ensure-docker.sh"
# shellcheck source=../../orchestrator_worker/images/debian-rootfs.sh
. "$REPO_DIR/orchestrator_worker/images/debian-rootfs.sh"

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.local-images.lock"
flock 9

started=$SECONDS
rootfs="$(ensure_rootfs_image cronium-local-rootfs bookworm minbase ca-certificates "$CACHE_DIR")"

# The certificate authorities this machine added (Debian's place for them):
# a build that reaches PyPI or npm through an intercepting proxy needs them.
context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp -r "$HERE/local/debian/." "$context/"
mkdir -p "$context/ca"
find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cp {} "$context/ca/" \; 2>/dev/null || true

build() {  # TAG CONTEXT BUILD-ARG...
    local tag=$1 dir=$2 args=()
    shift 2
    for arg in "$@"; do args+=(--build-arg "$arg"); done
    docker build --quiet --label cronium.local-image=1 "${args[@]}" --tag "$tag" "$dir" >/dev/null
    log "$tag ready ($(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
}

DEBIAN=cronium-local/debian:bookworm
build "$DEBIAN" "$context" "ROOTFS_IMAGE=$rootfs"
build cronium-local/python:3.11-bookworm "$HERE/local/python" "DEBIAN_IMAGE=$DEBIAN"
build cronium-local/postgres:15 "$HERE/local/postgres" "DEBIAN_IMAGE=$DEBIAN"
build cronium-local/redis:7 "$HERE/local/redis" "DEBIAN_IMAGE=$DEBIAN"
log "done in $((SECONDS - started)) s"

cat <<EOF
BASE_IMAGE=cronium-local/python:3.11-bookworm
PROXY_BASE_IMAGE=$DEBIAN
POSTGRES_IMAGE=cronium-local/postgres:15
REDIS_IMAGE=cronium-local/redis:7
EOF
