#!/usr/bin/env bash
# Make a PostgreSQL server available for the tests, idempotently:
#   postgresql+psycopg://postgres:postgres@127.0.0.1:5432/<db>
#
# Usage: .ci/start-postgres.sh [DBNAME]    (default: cronium_test)
#
# CI runs on a fresh Debian 12 as root with no systemd and no services, so this
# installs Debian's postgresql if needed and starts the cluster directly with
# pg_ctlcluster (--skip-systemctl-redirect: there is no systemd to redirect to).
# Safe to run again: each step checks first and only does what is missing.
set -euo pipefail

DB="${1:-cronium_test}"
PG_VERSION="${CRONIUM_PG_VERSION:-15}"   # Debian 12's PostgreSQL
PG_CLUSTER=main
PG_PORT=5432
PASSWORD=postgres                         # test-only credentials

log() { echo "[start-postgres] $*" >&2; }

# The name is spliced into SQL below; allow only plain identifiers.
if ! [[ "$DB" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    log "ERROR: invalid database name '$DB' (letters, digits, underscore)"
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    log "ERROR: must run as root (installs packages, starts the cluster as user postgres)"
    exit 1
fi

# Run a command as the postgres OS user (peer auth over the unix socket).
# cd / first: postgres may not be allowed into the caller's directory.
as_postgres() { (cd / && su postgres -c "$1"); }

# 1. Install. Refresh the package index only if the first attempt fails.
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -x "/usr/lib/postgresql/$PG_VERSION/bin/postgres" ]; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends postgresql; then
        log "install failed: running apt-get update and retrying"
        apt-get update
        apt-get install -y --no-install-recommends postgresql
    fi
else
    log "postgresql $PG_VERSION already installed"
fi

# 2. Cluster. The package normally creates $PG_VERSION/main on install; create
#    it if that was skipped (e.g. create_main_cluster = false).
if ! pg_lsclusters -h "$PG_VERSION" "$PG_CLUSTER" >/dev/null 2>&1; then
    log "creating cluster $PG_VERSION/$PG_CLUSTER"
    pg_createcluster --port "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER"
fi

# 3. Start. pg_lsclusters -h prints: version cluster port status owner ...
status="$(pg_lsclusters -h "$PG_VERSION" "$PG_CLUSTER" | awk '{ print $4 }')"
if [[ "$status" == online* ]]; then
    log "cluster $PG_VERSION/$PG_CLUSTER already running"
else
    log "starting cluster $PG_VERSION/$PG_CLUSTER (was: $status)"
    pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" "$PG_CLUSTER" start
fi

# 4. Wait until it accepts TCP connections (what the tests use).
for ((i = 0; i < 60; i++)); do
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    log "ERROR: PostgreSQL is not accepting connections on 127.0.0.1:$PG_PORT after 30 s"
    tail -n 30 "/var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log" >&2 2>/dev/null || true
    exit 1
fi
log "accepting connections on 127.0.0.1:$PG_PORT"

# 5. Password for TCP logins (pg_hba uses scram-sha-256 for 127.0.0.1).
#    Setting it again is harmless, so it is always done.
echo "ALTER ROLE postgres WITH PASSWORD '$PASSWORD';" | as_postgres "psql -q -v ON_ERROR_STOP=1"
log "password of role postgres set"

# 6. Database.
if [ "$(as_postgres "psql -tA -c \"SELECT 1 FROM pg_database WHERE datname = '$DB'\"")" = 1 ]; then
    log "database $DB already exists"
else
    as_postgres "createdb $DB"
    log "created database $DB"
fi

# 7. Prove the URL the tests use works.
PGPASSWORD="$PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$DB" -tA -c 'SELECT 1' >/dev/null
log "ready: postgresql+psycopg://postgres:$PASSWORD@127.0.0.1:$PG_PORT/$DB"
