#!/usr/bin/env bash
# deploy/init-env.sh [KEY=VALUE ...]
#
# Without arguments: create deploy/.env from .env.example, with fresh random
# secrets, unless it exists (an existing file is never changed: its secrets
# seal the data). With KEY=VALUE arguments: set those keys in deploy/.env,
# replacing the line (or the commented-out line) that names each key.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENV_FILE="${CRONIUM_DEPLOY_ENV:-$HERE/.env}"

secret() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }

if [ ! -e "$ENV_FILE" ]; then
    umask 077
    sed -e "s/^SECRET_KEY=$/SECRET_KEY=$(secret)/" \
        -e "s/^ORCHESTRATOR_TOKEN=$/ORCHESTRATOR_TOKEN=$(secret)/" \
        -e "s/^POSTGRES_PASSWORD=$/POSTGRES_PASSWORD=$(secret)/" \
        -e "s/^REDIS_PASSWORD=$/REDIS_PASSWORD=$(secret)/" \
        "$HERE/.env.example" >"$ENV_FILE"
    echo "created $ENV_FILE with new secrets (keep it private; back it up with the database)" >&2
fi

for setting in "$@"; do
    key="${setting%%=*}"
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || { echo "not KEY=VALUE: $setting" >&2; exit 1; }
    if grep -qE "^#?$key=" "$ENV_FILE"; then
        python3 - "$ENV_FILE" "$key" "$setting" <<'PY'
import re, sys
path, key, setting = sys.argv[1:]
text = open(path).read()
open(path, "w").write(re.sub(rf"^#?{key}=.*$", lambda _: setting, text, count=1, flags=re.M))
PY
    else
        echo "$setting" >>"$ENV_FILE"
    fi
    echo "set $key in $ENV_FILE" >&2
done
