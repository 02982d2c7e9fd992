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
CLIENTS=${DEMO_CLIENTS:-4}
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
  "medianest_perf.track = 'all'" \
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
  P -c "SELECT ddl FROM medianest_perf.index_advice() \\gexec"
else
  echo "    (index advisor not present in this build)"
fi

step "rerunning the workload"
P -c "SELECT medianest_perf.reset_statements()" >/dev/null
run_workload > "$DIR/workload-after.txt"

step "before / after"
before_tps=$(awk '/^tps/ {print $3; exit}' "$DIR/workload-before.txt")
after_tps=$(awk '/^tps/ {print $3; exit}' "$DIR/workload-after.txt")
before_lat=$(awk '/^latency average/ {print $4; exit}' "$DIR/workload-before.txt")
after_lat=$(awk '/^latency average/ {print $4; exit}' "$DIR/workload-after.txt")
printf '    %-22s %12s %12s\n' "" before after
printf '    %-22s %12s %12s\n' "transactions/s" "$before_tps" "$after_tps"
printf '    %-22s %12s %12s\n' "mean latency (ms)" "$before_lat" "$after_lat"
echo "    per script (mean latency, ms):"
paste <(awk '/^SQL script/ {name=$4} /^ - latency average/ && name {print name, $5; name=""}' "$DIR/workload-before.txt") \
      <(awk '/^SQL script/ {name=$4} /^ - latency average/ && name {print $5; name=""}' "$DIR/workload-after.txt") |
  awk '{ printf "      %-32s %10s -> %s\n", $1, $2, $3 }'

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
