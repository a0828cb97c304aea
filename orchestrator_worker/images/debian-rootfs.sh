# Source this file (bash): a Debian rootfs made with debootstrap from the
# machine's own Debian mirror, imported as a Docker image. No registry is
# needed, so it is how images are built where none is reachable: the job
# runtime image (build-runtime-image.sh) and the local images of the
# deployment (deploy/images/build-local-images.sh).
#
#   rootfs_key SUITE VARIANT PACKAGES
#       16 hex digits naming what goes into the rootfs (also the arch).
#   ensure_rootfs_image REPOSITORY SUITE VARIANT PACKAGES CACHE_DIR
#       Makes sure the image REPOSITORY:KEY exists and prints its name. The
#       debootstrap tarball is cached as CACHE_DIR/rootfs-KEY.tar, so a lost
#       image is imported again in seconds; debootstrap (about a minute) runs
#       only when neither exists. Needs root for debootstrap. The caller
#       serialises concurrent builds (a lock on CACHE_DIR).
#
# Env: CRONIUM_DEBIAN_MIRROR overrides the mirror read from /etc/apt/sources.list*.

_rootfs_log() { echo "[debian-rootfs] $*" >&2; }

rootfs_key() {
    local suite=$1 variant=$2 packages=$3
    printf 'suite=%s\nvariant=%s\narch=%s\npackages=%s\n' \
        "$suite" "$variant" "$(dpkg --print-architecture)" "$packages" | sha256sum | cut -c1-16
}

# First http(s)/file URI whose suites include SUITE, from the machine's own
# apt sources (one-line .list and deb822 .sources). Files with other suffixes
# (e.g. *.disabled) are ignored, as apt ignores them.
debian_mirror() {
    local suite=$1 f files=()
    [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    for f in "${files[@]}"; do
        case "$f" in
        *.sources)
            # deb822: blank-line separated stanzas of "Field: value".
            awk -v suite="$suite" '
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
                awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }' ;;
        esac
    done | grep -E '^(https?|file):' | head -n1 | sed 's:/*$::'
}

# debootstrap SUITE into a tarball at TARBALL (written atomically).
_debootstrap_tarball() {
    local suite=$1 variant=$2 packages=$3 cache_dir=$4 tarball=$5 mirror work rootfs
    [ "$(id -u)" = 0 ] || { _rootfs_log "ERROR: debootstrap needs root"; return 1; }
    if ! command -v debootstrap >/dev/null 2>&1; then
        _rootfs_log "installing debootstrap"
        # Its output goes to stderr: this function's callers read stdout.
        { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap \
            || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap; }; } >&2
    fi
    mirror="${CRONIUM_DEBIAN_MIRROR:-$(debian_mirror "$suite")}"
    if [ -z "$mirror" ]; then
        _rootfs_log "ERROR: no Debian mirror for '$suite' in /etc/apt/sources.list{,.d/*}; set CRONIUM_DEBIAN_MIRROR"
        return 1
    fi
    # Work dir next to the cache (outside any repository, same filesystem so
    # the final mv is atomic); removed however this function ends.
    work="$(mktemp -d "$cache_dir/build.XXXXXX")"
    rootfs="$work/rootfs"
    _rootfs_log "debootstrap $suite ($variant, +$packages) from $mirror"
    if ! debootstrap --variant="$variant" --arch="$(dpkg --print-architecture)" --include="$packages" \
            "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
        _rootfs_log "ERROR: debootstrap failed; last lines of its log:"
        tail -n 40 "$work/debootstrap.log" >&2
        tail -n 40 "$rootfs/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        rm -rf "$work"
        return 1
    fi
    # Drop what no container needs: downloaded .debs, apt lists, man pages,
    # and host-specific files Docker provides at run time.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
           "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
           "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/debootstrap
    : >"$rootfs/etc/resolv.conf"
    : >"$rootfs/etc/hostname"
    tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
    mv "$work/rootfs.tar" "$tarball"
    rm -rf "$work"
    _rootfs_log "rootfs tarball $tarball ($(du -h "$tarball" | cut -f1))"
}

ensure_rootfs_image() {
    local repository=$1 suite=$2 variant=$3 packages=$4 cache_dir=$5 key image tarball
    key="$(rootfs_key "$suite" "$variant" "$packages")"
    image="$repository:$key"
    tarball="$cache_dir/rootfs-$key.tar"
    if ! docker image inspect "$image" >/dev/null 2>&1; then
        if [ -s "$tarball" ]; then
            _rootfs_log "using cached rootfs $tarball"
        else
            _debootstrap_tarball "$suite" "$variant" "$packages" "$cache_dir" "$tarball" || return 1
        fi
        docker import - "$image" <"$tarball" >/dev/null
        _rootfs_log "imported $image"
    fi
    echo "$image"
}
