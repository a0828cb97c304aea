#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright cannot download its
# own browser here).
exec "$(dirname "$0")/ensure-deb.sh" /usr/bin/chromium chromium
