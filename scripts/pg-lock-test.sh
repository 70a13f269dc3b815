#!/usr/bin/env bash
# Teams on one state: runs TestAccReliability_pgBackendLock, two concurrent
# applies on the same state through OpenTofu's pg backend, against a real
# PostgreSQL. The server is Debian's package (installed with apt-get when
# missing, as root), started for this run only on 127.0.0.1 with a throwaway
# data directory under /tmp, and stopped and removed at the end.
#   ./scripts/pg-lock-test.sh           (make reliability runs it)
#   PG_PORT=55433 ./scripts/pg-lock-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/versions.sh
source scripts/versions.sh
TOFU="$CACHE_DIR/tofu-$TOFU_VERSION"
PG_PORT="${PG_PORT:-55432}"

log() { echo "pg-lock-test: $*" >&2; }

if [[ ! -x "$TOFU" ]]; then
  log "$TOFU is missing; run ./scripts/install-clis.sh"
  exit 1
fi

# Debian's PostgreSQL keeps its server binaries out of PATH.
pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [[ -n "$d" && -x "$d/pg_ctl" ]]; then echo "$d"; return; fi
  if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; fi
}
PG_BIN="$(pg_bin)"
if [[ -z "$PG_BIN" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    log "PostgreSQL is not installed; run as root or: apt-get install -y postgresql"
    exit 1
  fi
  log "installing PostgreSQL (Debian package)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null
  PG_BIN="$(pg_bin)"
fi

# The server refuses to run as root: run it as the postgres user then.
as_pg() { "$@"; }
if [[ "$(id -u)" == 0 ]]; then
  as_pg() { runuser -u postgres -- "$@"; }
fi

PGDATA="$(mktemp -d /tmp/codomyrmex-pg.XXXXXX)"
chmod 700 "$PGDATA"
if [[ "$(id -u)" == 0 ]]; then chown postgres: "$PGDATA"; fi
stop() {
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA"
}
trap stop EXIT

log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT in $PGDATA"
as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -A trust --no-sync -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PG_PORT -k $PGDATA -c fsync=off" start >/dev/null
as_pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres codomyrmex

export CODOMYRMEX_PG_CONN_STR="postgres://postgres@127.0.0.1:$PG_PORT/codomyrmex?sslmode=disable"
work="$(mktemp -d)"
trap 'stop; rm -rf "$work"' EXIT
: > "$work/empty.tfrc"
log "running TestAccReliability_pgBackendLock on OpenTofu"
start=$(date +%s)
set +e
TF_ACC=1 TF_CLI_CONFIG_FILE="$work/empty.tfrc" CHECKPOINT_DISABLE=1 TF_ACC_TERRAFORM_PATH="$TOFU" \
  TF_ACC_PROVIDER_HOST=registry.opentofu.org TF_ACC_PROVIDER_NAMESPACE=hashicorp \
  go test -count=1 -v -timeout 10m -run '^TestAccReliability_pgBackendLock$' ./internal/provider/ > "$work/test.log" 2>&1
status=$?
set -e
if [[ $status -eq 0 ]] && ! grep -q -- '--- PASS: TestAccReliability_pgBackendLock' "$work/test.log"; then
  log "the test did not run:"
  status=1
fi
if [[ $status -eq 0 ]]; then
  grep -E '^\s*--- |^ok' "$work/test.log"
else
  tail -200 "$work/test.log"
fi
log "done in $(( $(date +%s) - start ))s (exit $status)"
exit "$status"
