#!/usr/bin/env bash
# Runs every benchmark once at a small size (N=200) so CI keeps them working:
# the criterion benches in test mode on SQLite (and on PostgreSQL when
# TEST_DATABASE_URL is set), then gen-demo and the load script for a few
# seconds. Exits non-zero on any failure. Usage: scripts/bench-smoke.sh
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

cargo build --release --quiet
BIN=$ROOT/target/release/learnmap
export LEARNMAP_JWT_SECRET_FILE=$WORK/jwt-secret

echo "== criterion, SQLite, N=$PEOPLE (test mode)"
LEARNMAP_BENCH_PEOPLE=$PEOPLE cargo bench --quiet --bench compliance -- --test

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
  LEARNMAP_BENCH_DATABASE_URL=$PGURL cargo bench --quiet --bench compliance -- --test
  echo "== load, PostgreSQL, N=$PEOPLE"
  LEARNMAP_BIN=$BIN CONNECTIONS=8 "$ROOT/scripts/bench-load.sh" "$PGURL" 2
fi
echo "bench smoke: ok"
