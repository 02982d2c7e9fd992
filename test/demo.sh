#!/usr/bin/env bash
# `make demo`: from a clean Debian 12 machine to real findings.
#
# Installs what is missing, builds and installs the extension, starts a
# scratch cluster (as postgres, on a free port, under a temporary directory)
# with the extension preloaded, creates a MediaNest-like database with
# realistic skew, runs a workload that contains the problems the extension
# exists to find, prints what it finds, applies the advisor's DDL with
# \gexec, reruns the workload and prints before/after timings.
#
# The cluster is left running (how to connect and stop it is printed at the
# end) unless DEMO_STOP=1 (or `make demo DEMO_STOP=1`).
# DEMO_SCALE (default 1) multiplies the data size.
set -euo pipefail
cd "$(dirname "$0")/.."
MNP_ROOT=$(pwd)
. test/lib.sh

SCALE=${DEMO_SCALE:-1}
CLIENTS=${DEMO_CLIENTS:-8}
SECONDS_PER_RUN=${DEMO_SECONDS:-20}
START=$(date +%s)
step() { printf '\n\033[1m==> [%3ss] %s\033[0m\n' "$(( $(date +%s) - START ))" "$*"; }

step "installing dependencies (if missing)"
bash test/install_deps.sh

step "building and installing medianest_perf"
mnp_build_install

DIR=$(mktemp -d /tmp/medianest-demo.XXXXXX)
step "starting a scratch cluster in $DIR"
mnp_cluster_init "$DIR" \
  "shared_buffers = 256MB" \
  "medianest_perf.track = 'top'" \
  "medianest_perf.bloat_min_bytes = '1MB'" \
  "medianest_perf.slow_query_ms = 200" \
  "medianest_perf.critical_query_ms = 1000" \
  "medianest_perf.slow_query_parameters = on" \
  "track_io_timing = on"
mnp_cluster_start
if [ "${DEMO_STOP:-0}" = 1 ]; then trap 'mnp_cluster_stop; rm -rf "$DIR"' EXIT; fi

DB=medianest
psql -XqAt -d postgres -c "CREATE DATABASE $DB" >/dev/null
psql -XqAt -d $DB -c "CREATE EXTENSION medianest_perf" >/dev/null
P() { psql -X -q -v ON_ERROR_STOP=1 -d $DB "$@"; }

step "creating the MediaNest schema and data (scale $SCALE)"
P -v scale="$SCALE" -f test/demo/schema.sql

# statistics of the freshly loaded tables, from a new session (the loading
# session's counters reach the statistics system only when it ends)
P -c "ANALYZE users, media_requests, session_tokens, playlists, playlist_items" >/dev/null

step "running the workload for ${SECONDS_PER_RUN}s with $CLIENTS clients (pgbench, extended protocol)"
P -c "SELECT medianest_perf.reset()" >/dev/null
run_workload() {
  "$MNP_PGBIN/pgbench" -n -M extended -c "$CLIENTS" -j 2 -T "$SECONDS_PER_RUN" \
    -f test/demo/browse.pgb@40 -f test/demo/request_page.pgb@15 \
    -f test/demo/nplus1.pgb@10 -f test/demo/session.pgb@30 \
    -f test/demo/report.pgb@1 -f test/demo/write.pgb@4 \
    -D scale="$SCALE" -r $DB 2>&1
}
run_workload > "$DIR/workload-before.txt"
grep -E '^(tps|latency average)' "$DIR/workload-before.txt" | sed 's/^/    /'

step "top statements by total time, with latency percentiles"
P -f test/demo/show_statements.sql

step "slow executions (over 200 ms) with their plans"
P -f test/demo/show_slow.sql

step "findings of the other parts"
P -f test/demo/show_findings.sql

step "applying the advisor's DDL with \\gexec"
if psql -XAtq -d $DB -c "SELECT to_regproc('medianest_perf.index_advice') IS NOT NULL" | grep -q t; then
  P -c "SELECT ddl FROM medianest_perf.index_advice()" -A -t > "$DIR/advice.sql"
  sed 's/^/    /' "$DIR/advice.sql"
  echo 'SELECT ddl FROM medianest_perf.index_advice() \gexec' | P
else
  echo "    (index advisor not present in this build)"
fi

step "rerunning the workload"
P -c "CREATE TABLE demo_before AS SELECT queryid, query, calls, mean_time_ms, p95_ms FROM medianest_perf.statements WHERE toplevel" >/dev/null
P -c "SELECT medianest_perf.reset_statements()" >/dev/null
run_workload > "$DIR/workload-after.txt"

step "before / after (mean and p95 per statement, from medianest_perf.statements)"
P -c "SELECT left(regexp_replace(b.query, '\s+', ' ', 'g'), 60) AS statement,
             round(b.mean_time_ms::numeric, 2) AS mean_before_ms,
             round(a.mean_time_ms::numeric, 2) AS mean_after_ms,
             round(b.p95_ms::numeric, 2) AS p95_before_ms,
             round(a.p95_ms::numeric, 2) AS p95_after_ms,
             round((b.mean_time_ms / nullif(a.mean_time_ms, 0))::numeric, 1) AS speedup
        FROM demo_before b
        JOIN medianest_perf.statements a ON a.queryid = b.queryid AND a.toplevel
       WHERE b.query !~ 'medianest_perf|demo_before'
       ORDER BY b.mean_time_ms * b.calls DESC LIMIT 10"
before_tps=$(awk '/^tps/ {print $3; exit}' "$DIR/workload-before.txt")
after_tps=$(awk '/^tps/ {print $3; exit}' "$DIR/workload-after.txt")
echo "    transactions/s: before $before_tps, after $after_tps (clients wait 120 ms between requests)"

step "done in $(( $(date +%s) - START ))s"
if [ "${DEMO_STOP:-0}" = 1 ]; then
  echo "    the cluster is stopped and removed (DEMO_STOP=1)"
else
  cat <<EOF
    The demo cluster is still running. Connect with:
      psql -h $MNP_SOCKDIR -p $MNP_PORT -U postgres $DB
    Stop it with:
      runuser -u postgres -- $MNP_PGBIN/pg_ctl -D $MNP_PGDATA stop
EOF
fi
