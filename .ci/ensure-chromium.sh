#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright cannot download its
# own browser here). Installs it if missing; idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "[ensure-chromium] /usr/bin/chromium is missing; install Debian's chromium package (needs root)" >&2
    exit 1
fi
echo "[ensure-chromium] installing chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }
