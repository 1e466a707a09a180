#!/usr/bin/env bash
# Runs every benchmark once at a small size (N=200) so CI keeps them working:
# the criterion benches in test mode on SQLite (and on PostgreSQL when
# TEST_DATABASE_URL is set), then gen-demo and the load script for a few
# seconds. Exits non-zero on any failure. Usage: scripts/bench-smoke.sh
# With SMOKE_PROFILE=debug it reuses the debug build that `cargo test` made
# (CI does this) instead of building the release profile.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PEOPLE=${PEOPLE:-200}
WORK=$(mktemp -d /tmp/learnmap-smoke.XXXXXX)
PGDB=""
cleanup() {
  rm -rf "$WORK"
  if [[ -n "$PGDB" ]]; then psql -X -q "$TEST_DATABASE_URL" -c "DROP DATABASE IF EXISTS \"$PGDB\"" > /dev/null 2>&1 || true; fi
}
trap cleanup EXIT

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ ${SMOKE_PROFILE:-release} == debug ]]; then
  cargo build --quiet --bin learnmap
  BIN=$TARGET/debug/learnmap
  criterion() { cargo test --quiet --bench compliance; }
else
  cargo build --release --quiet
  BIN=$TARGET/release/learnmap
  criterion() { cargo bench --quiet --bench compliance -- --test; }
fi
export LEARNMAP_JWT_SECRET_FILE=$WORK/jwt-secret

echo "== criterion, SQLite, N=$PEOPLE (test mode)"
LEARNMAP_BENCH_PEOPLE=$PEOPLE criterion

SQLITE="sqlite://$WORK/smoke.db?mode=rwc"
DATABASE_URL=$SQLITE "$BIN" gen-demo --people "$PEOPLE" --seed 1
echo "== load, SQLite, N=$PEOPLE"
LEARNMAP_BIN=$BIN CONNECTIONS=8 "$ROOT/scripts/bench-load.sh" "$SQLITE" 2

if [[ -n "${TEST_DATABASE_URL:-}" ]]; then
  PGDB="learnmap_smoke_$$"
  psql -X -q "$TEST_DATABASE_URL" -c "CREATE DATABASE \"$PGDB\"" > /dev/null
  PGURL=$(python3 -c 'import sys, urllib.parse as u; p = u.urlparse(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$TEST_DATABASE_URL" "$PGDB")
  DATABASE_URL=$PGURL "$BIN" gen-demo --people "$PEOPLE" --seed 1
  echo "== criterion, PostgreSQL, N=$PEOPLE (test mode)"
  LEARNMAP_BENCH_DATABASE_URL=$PGURL criterion
  echo "== load, PostgreSQL, N=$PEOPLE"
  LEARNMAP_BIN=$BIN CONNECTIONS=8 "$ROOT/scripts/bench-load.sh" "$PGURL" 2
fi
echo "bench smoke: ok"
