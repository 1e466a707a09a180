#!/usr/bin/env bash
# End-to-end load benchmarks against a database holding `learnmap gen-demo` data:
#   1. the SQL floor (hours per person and facet), via psql / sqlite3;
#   2. unitCompliance of every agency over HTTP (the whole city), and of the first;
#   3. the quarterly job end to end (CLI, mail written to a temp outbox);
#   4. one person's `compliance` under 64 concurrent clients (wrk);
#   5. peak memory (VmHWM) of the server and of the job process.
#
# Usage: scripts/bench-load.sh DATABASE_URL [DURATION_SECONDS]
# Prints `RESULT ...` lines. Needs: a release build, curl, wrk (apt-get install wrk),
# GNU time as /usr/bin/time (apt-get install time), psql or sqlite3. The database must already hold the demo data.
set -euo pipefail
URL=${1:?usage: bench-load.sh DATABASE_URL [DURATION_SECONDS]}
DURATION=${2:-20}
CONNECTIONS=${CONNECTIONS:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LEARNMAP_BIN:-$ROOT/target/release/learnmap}
WORK=$(mktemp -d /tmp/learnmap-load.XXXXXX)
trap 'if [[ -n "${SERVER:-}" ]]; then kill "$SERVER" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
export DATABASE_URL=$URL
export LEARNMAP_JWT_SECRET_FILE=$WORK/jwt-secret
export LEARNMAP_OUTBOX_DIR=$WORK/outbox
export LEARNMAP_SCHEDULER=false
export RUST_LOG=${RUST_LOG:-warn}
PORT=${PORT:-$((18000 + RANDOM % 1000))}
export LEARNMAP_BIND=127.0.0.1:$PORT

now() { date +%s.%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

floor() {
  local sql="SELECT person_id, facet, security_category, SUM(centihours) FROM completion WHERE completed_on >= '2025-01-01' AND completed_on <= '2026-03-31' GROUP BY person_id, facet, security_category"
  local t0 t1
  t0=$(now)
  if [[ $URL == postgres* ]]; then
    psql -X -q -At "$URL" -c "$sql" > /dev/null
  else
    local file=${URL#sqlite://}; file=${file#sqlite:}; file=${file%%\?*}
    sqlite3 "$file" "$sql" > /dev/null
  fi
  t1=$(now)
  echo "RESULT floor_sql_ms=$(ms "$t0" "$t1")"
}

sql() {
  if [[ $URL == postgres* ]]; then psql -X -q -At "$URL" -c "$1"
  else local file=${URL#sqlite://}; file=${file#sqlite:}; sqlite3 "${file%%\?*}" "$1"; fi
}

hwm() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

floor
floor

# The quarterly job in its own process: evaluate, snapshot and queue every
# message (--queue-only), then `mail send` writes them out as .eml files.
# /usr/bin/time gives each process's peak RSS.
"$BIN" migrate > /dev/null
for i in 1 2; do
  sql "DELETE FROM outbox" > /dev/null
  rm -rf "$WORK/outbox"; mkdir -p "$WORK/outbox"
  t0=$(now)
  /usr/bin/time -f "%M" -o "$WORK/rss" "$BIN" jobs run quarterly --year 2026 --quarter 1 --queue-only > "$WORK/job.out"
  t1=$(now)
  /usr/bin/time -f "%M" -o "$WORK/rss-mail" "$BIN" mail send > "$WORK/mail.out"
  t2=$(now)
  emails=$(find "$WORK/outbox" -name '*.eml' | wc -l)
  echo "RESULT quarterly_run=$i quarterly_queue_ms=$(ms "$t0" "$t1") quarterly_peak_rss_kb=$(cat "$WORK/rss") mail_send_ms=$(ms "$t1" "$t2") mail_peak_rss_kb=$(cat "$WORK/rss-mail") emails=$emails $(tail -1 "$WORK/job.out") / $(cat "$WORK/mail.out")"
done
floor

# The server.
"$BIN" serve > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null || { cat "$WORK/server.log"; exit 1; }
echo "RESULT server_idle_hwm_kb=$(hwm $SERVER)"
ADMIN=$("$BIN" token --employee D0000001 --admin)

gql() {
  curl -sf -X POST "http://127.0.0.1:$PORT/graphql" -H "Content-Type: application/json" \
    -H "Authorization: Bearer $ADMIN" -d "$1"
}
AGENCIES=$(sql "SELECT code FROM unit WHERE parent_id IS NULL ORDER BY code")
unit_query() {
  printf '{"query":"{ unitCompliance(unitCode: \\"%s\\", year: 2026, asOf: \\"2026-03-31\\") { people byStatus { status people } byFacet { facet securityCategory people behind requiredHours countedHours shortfallHours } behind(first: 20) { totalCount edges { node { status } } } } }"}' "$1"
}
# One curl process sends the agencies' requests in turn on one kept-alive
# connection, so that the time is the service's, not that of starting curl
# for each agency (about 4 ms each here).
: > "$WORK/unit.curl"
for code in $AGENCIES; do
  unit_query "$code" > "$WORK/unit-$code.json"
  cat >> "$WORK/unit.curl" <<CONFIG
url = "http://127.0.0.1:$PORT/graphql"
request = "POST"
header = "Content-Type: application/json"
header = "Authorization: Bearer $ADMIN"
data-binary = "@$WORK/unit-$code.json"
output = "$WORK/unit-$code.out"
fail
silent
next
CONFIG
done
sed -i '$ d' "$WORK/unit.curl"  # no `next` after the last request
for round in 1 2 3; do
  rm -f "$WORK"/unit-*.out
  t0=$(now)
  curl --config "$WORK/unit.curl"
  t1=$(now)
  for code in $AGENCIES; do
    out=$(cat "$WORK/unit-$code.out")
    [[ $out == *'"unitCompliance"'* && $out != *'"errors"'* ]] || { echo "unitCompliance $code failed: $out" >&2; exit 1; }
  done
  echo "RESULT unit_compliance_city_round=$round ms=$(ms "$t0" "$t1") agencies=$(echo $AGENCIES | wc -w) server_hwm_kb=$(hwm $SERVER)"
done
floor

# One person's compliance under CONNECTIONS concurrent clients.
EMPLOYEE=${EMPLOYEE:-D0000002}
TOKEN=$("$BIN" token --employee "$EMPLOYEE")
export TOKEN EMPLOYEE
out=$(curl -sf -X POST "http://127.0.0.1:$PORT/graphql" -H "Content-Type: application/json" -H "Authorization: Bearer $TOKEN" \
  -d "{\"query\":\"{ compliance(employeeNo: \\\"$EMPLOYEE\\\", year: 2026, asOf: \\\"2026-03-31\\\") { status } }\"}")
[[ $out == *'"status"'* ]] || { echo "compliance query failed: $out" >&2; exit 1; }
# wrk's own error counts miss GraphQL errors (they come with status 200): the
# scripts print the first bad response to stderr, which must stay empty.
run_wrk() {
  local name=$1 script=$2
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$ROOT/scripts/$script" "http://127.0.0.1:$PORT/graphql" \
    > "$WORK/wrk.out" 2> "$WORK/wrk.err"
  grep RESULT "$WORK/wrk.out" | sed "s/^RESULT /RESULT $name /"
  if ! grep -q "errors=0 " "$WORK/wrk.out" || [[ -s $WORK/wrk.err ]]; then
    echo "wrk saw errors" >&2; cat "$WORK/wrk.out" "$WORK/wrk.err" >&2; exit 1
  fi
}
run_wrk "compliance_c$CONNECTIONS" compliance.lua

# The same question for a different person each time (admin token): the cache
# of recent facts holds at most 4,096 people, so at city scale most miss.
sql "SELECT employee_no FROM person WHERE left_on IS NULL OR left_on >= '2026-03-31'" > "$WORK/employed.txt"
TOKEN=$ADMIN EMPLOYED=$WORK/employed.txt run_wrk "compliance_many_c$CONNECTIONS" compliance-many.lua
echo "RESULT server_peak_hwm_kb=$(hwm $SERVER)"
