#!/usr/bin/env bash
# Build the job runtime image (default cronium-runtime:latest).
#
# No registry is reachable, so nothing can be pulled: the base is a Debian
# bookworm rootfs made with debootstrap from the machine's own Debian mirror,
# turned into an image with `docker import`; runtime/Dockerfile then adds the
# non-root user and the helpers.
#
# Rebuilds only when inputs change:
#   * inputs hash  = this script + everything in runtime/ (Dockerfile, helpers/)
#                    + the package list. The final image carries it as the
#                    label cronium.inputs; a matching image means "do nothing".
#   * rootfs key   = suite + variant + arch + package list only. The debootstrap
#                    tarball is cached under $CRONIUM_IMAGE_CACHE by this key
#                    (debian-rootfs.sh), so editing helpers or the Dockerfile
#                    never re-runs debootstrap (~1 min).
#
# Env: CRONIUM_RUNTIME_IMAGE (image name), CRONIUM_IMAGE_CACHE (cache dir,
# default /var/cache/cronium), CRONIUM_DEBIAN_MIRROR (override the mirror read
# from /etc/apt/sources.list*), CRONIUM_FORCE_REBUILD=1 (ignore the label).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
REPO_DIR="$(cd "$SCRIPT_DIR/../.." && pwd)"
CONTEXT_DIR="$SCRIPT_DIR/runtime"

IMAGE="${CRONIUM_RUNTIME_IMAGE:-cronium-runtime:latest}"
CACHE_DIR="${CRONIUM_IMAGE_CACHE:-/var/cache/cronium}"

# What goes into the rootfs. Full python3 (python3-minimal lacks http.client,
# which the helpers need); curl for Bash scripts and the Bash helpers.
SUITE=bookworm
VARIANT=minbase
PACKAGES="bash,python3,nodejs,ca-certificates,curl"

# Debian's Engine 20.10 (API 1.41) may be driven by a newer CLI (28.x) that has
# no buildx plugin, so BuildKit is unavailable; ask for the legacy builder
# explicitly (the CLI would fall back to it anyway, with a warning).
export DOCKER_BUILDKIT=0

T0=$(date +%s.%N)
STEP_T=$T0
log() { echo "[runtime-image] $*" >&2; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step_done() { log "$1 took $(elapsed "$STEP_T") s"; STEP_T=$(date +%s.%N); }

sha() { sha256sum | cut -c1-64; }

# The rootfs (hundreds of MB) must never be written inside the repository.
CACHE_DIR="$(realpath -m "$CACHE_DIR")"
case "$CACHE_DIR/" in
    "$(realpath "$REPO_DIR")/"*)
        log "ERROR: CRONIUM_IMAGE_CACHE ($CACHE_DIR) is inside the repository; use a path outside it."
        exit 1 ;;
esac
mkdir -p "$CACHE_DIR"

# --- 0. Docker Engine ------------------------------------------------------
"$REPO_DIR/orchestrator_worker/scripts/ensure-docker.sh"
step_done "ensure docker"

# --- 1. Hashes -------------------------------------------------------------
# shellcheck source=debian-rootfs.sh
. "$SCRIPT_DIR/debian-rootfs.sh"
ROOTFS_KEY="$(rootfs_key "$SUITE" "$VARIANT" "$PACKAGES")"

# Every file of the build context by relative path + content, in a stable order.
context_digest() {
    (cd "$CONTEXT_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
INPUTS_HASH="$( {
    sha256sum <"$SCRIPT_PATH"
    sha256sum <"$SCRIPT_DIR/debian-rootfs.sh"
    context_digest
    echo "rootfs=$ROOTFS_KEY"
} | sha | cut -c1-16)"
log "image=$IMAGE inputs=$INPUTS_HASH rootfs-key=$ROOTFS_KEY"

current_label() {
    docker image inspect --format '{{ index .Config.Labels "cronium.inputs" }}' "$IMAGE" 2>/dev/null || true
}

if [ "${CRONIUM_FORCE_REBUILD:-0}" != 1 ] && [ "$(current_label)" = "$INPUTS_HASH" ]; then
    log "$IMAGE is up to date (cronium.inputs=$INPUTS_HASH); nothing to do ($(elapsed "$T0") s)"
    exit 0
fi

# Serialise concurrent builds on this machine (two CI steps, two shells).
exec 9>"$CACHE_DIR/.build.lock"
flock 9
if [ "${CRONIUM_FORCE_REBUILD:-0}" != 1 ] && [ "$(current_label)" = "$INPUTS_HASH" ]; then
    log "$IMAGE was built by a concurrent run; nothing to do"
    exit 0
fi

# --- 2. Base image from the Debian rootfs ----------------------------------
BASE_IMAGE="$(ensure_rootfs_image cronium-runtime-base "$SUITE" "$VARIANT" "$PACKAGES" "$CACHE_DIR")"
step_done "base image $BASE_IMAGE"

# --- 3. Final image --------------------------------------------------------
# --network none: the Dockerfile needs nothing from the network.
docker build --network none --force-rm \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    --label "cronium.inputs=$INPUTS_HASH" \
    --tag "$IMAGE" "$CONTEXT_DIR" >&2
step_done "docker build $IMAGE"

# Drop older builds' untagged layers of this image (cheap, keeps disk bounded).
docker image prune -f --filter "label=cronium.inputs" >/dev/null 2>&1 || true

log "built $IMAGE (cronium.inputs=$INPUTS_HASH, $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }')) in $(elapsed "$T0") s"
