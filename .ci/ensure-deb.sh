#!/usr/bin/env bash
# ensure-deb.sh FILE PACKAGE: install Debian's PACKAGE unless FILE exists.
# Idempotent; the package's scripts are kept from starting any service.
set -euo pipefail
file=$1 package=$2
if [ -x "$file" ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "[ensure-deb] $file is missing; install Debian's $package package (needs root)" >&2
    exit 1
fi
echo "[ensure-deb] installing $package" >&2
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
    trap 'rm -f "$policy"' EXIT
fi
apt-get install -y --no-install-recommends "$package" || { apt-get update && apt-get install -y --no-install-recommends "$package"; }
