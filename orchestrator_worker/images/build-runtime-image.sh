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
#                    tarball is cached under $CRONIUM_IMAGE_CACHE by this key,
#                    so editing helpers or the Dockerfile never re-runs
#                    debootstrap (~1 min).
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
ARCH="$(dpkg --print-architecture)"
ROOTFS_KEY="$(printf 'suite=%s\nvariant=%s\narch=%s\npackages=%s\n' \
    "$SUITE" "$VARIANT" "$ARCH" "$PACKAGES" | sha | cut -c1-16)"

# Every file of the build context by relative path + content, in a stable order.
context_digest() {
    (cd "$CONTEXT_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
INPUTS_HASH="$( {
    sha256sum <"$SCRIPT_PATH"
    context_digest
    echo "rootfs=$ROOTFS_KEY"
} | sha | cut -c1-16)"
BASE_IMAGE="cronium-runtime-base:$ROOTFS_KEY"
TARBALL="$CACHE_DIR/rootfs-$ROOTFS_KEY.tar"
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
# First http(s)/file URI whose suites include $SUITE, from the machine's own
# apt sources (one-line .list and deb822 .sources). Files with other suffixes
# (e.g. *.disabled) are ignored, as apt ignores them.
debian_mirror() {
    local f files=()
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    for f in "${files[@]}"; do
        case "$f" in
        *.sources)
            # deb822: blank-line separated stanzas of "Field: value".
            awk -v suite="$SUITE" '
                function flush() {
                    if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " suite " "))
                        { n = split(uris, u, " "); for (i = 1; i <= n; i++) print u[i] }
                    types = ""; uris = ""; suites = ""; enabled = ""
                }
                /^[ \t]*#/ { next }
                /^[ \t]*$/ { flush(); next }
                {
                    key = tolower($1); sub(/:$/, "", key)
                    val = $0; sub(/^[^:]*:[ \t]*/, "", val); gsub(/[ \t]+/, " ", val)
                    if (key == "types") types = val
                    else if (key == "uris") uris = val
                    else if (key == "suites") suites = val
                    else if (key == "enabled") enabled = tolower(val)
                }
                END { flush() }' "$f" ;;
        *)
            # one-line: deb [options] URI suite components...
            sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
                awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }' ;;
        esac
    done | grep -E '^(https?|file):' | head -n1 | sed 's:/*$::'
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE already present"
else
    if [ -s "$TARBALL" ]; then
        log "using cached rootfs $TARBALL"
    else
        [ "$(id -u)" = 0 ] || { log "ERROR: debootstrap needs root"; exit 1; }
        if ! command -v debootstrap >/dev/null 2>&1; then
            log "installing debootstrap"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y --no-install-recommends debootstrap \
                || { apt-get update && apt-get install -y --no-install-recommends debootstrap; }
        fi
        MIRROR="${CRONIUM_DEBIAN_MIRROR:-$(debian_mirror)}"
        if [ -z "$MIRROR" ]; then
            log "ERROR: no Debian mirror for '$SUITE' in /etc/apt/sources.list{,.d/*}; set CRONIUM_DEBIAN_MIRROR"
            exit 1
        fi
        # Work dir next to the cache (outside the repo, same filesystem so the
        # final mv is atomic); removed on any exit.
        WORK="$(mktemp -d "$CACHE_DIR/build.XXXXXX")"
        trap 'rm -rf "$WORK"' EXIT
        ROOTFS="$WORK/rootfs"
        log "debootstrap $SUITE ($VARIANT, +$PACKAGES) from $MIRROR"
        if ! debootstrap --variant="$VARIANT" --arch="$ARCH" --include="$PACKAGES" \
                "$SUITE" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1; then
            log "ERROR: debootstrap failed; last lines of its log:"
            tail -n 40 "$WORK/debootstrap.log" >&2
            tail -n 40 "$ROOTFS/debootstrap/debootstrap.log" >&2 2>/dev/null || true
            exit 1
        fi
        step_done "debootstrap"
        # Drop what a job never needs: downloaded .debs, apt lists, man pages,
        # and host-specific files Docker provides at run time.
        rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* \
               "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
               "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/debootstrap
        : >"$ROOTFS/etc/resolv.conf"
        : >"$ROOTFS/etc/hostname"
        tar -C "$ROOTFS" --numeric-owner -cf "$WORK/rootfs.tar" .
        mv "$WORK/rootfs.tar" "$TARBALL"
        rm -rf "$WORK"
        trap - EXIT
        step_done "rootfs tarball ($(du -h "$TARBALL" | cut -f1))"
    fi
    docker import - "$BASE_IMAGE" <"$TARBALL" >/dev/null
    step_done "docker import $BASE_IMAGE"
fi

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
