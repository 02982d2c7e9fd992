#!/usr/bin/env bash
# The long versions of the reliability checks (run on demand, not by
# `make test`); prints figures, the TAP lines of the checks, and exits
# non-zero if a check failed.
#
#   SMITH_QUERIES  random statements sent by sqlsmith (default 100000)
#   SOAK_SECONDS   length of the pgbench soak (default 600)
#   SOAK_CLIENTS   pgbench clients (default 16)
#
# The soak runs a mixed workload (lookups, updates, N+1 bursts, slow
# statements) with every collector on and tiny stores (so evictions and
# overwrites happen all the time) while other sessions read every view and
# reset in a loop; afterwards it checks that the server never crashed, that
# the clients saw no error, that the stores stayed within their bounds, and
# that a long-lived session's memory did not grow.
set -uo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

SMITH_QUERIES=${SMITH_QUERIES:-100000}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_CLIENTS=${SOAK_CLIENTS:-16}

bash test/install_deps.sh
mnp_build_install
WORK=$(mktemp -d /tmp/mnp-soak.XXXXXX)
chmod 755 "$WORK"	# the postgres user must reach the cluster inside it
trap 'mnp_cluster_stop; rm -rf "$WORK"' EXIT
mnp_cluster_init "$WORK/cluster" \
  "max_connections = 200" \
  "medianest_perf.track = 'all'" \
  "medianest_perf.max_statements = 200" \
  "medianest_perf.slow_query_max = 50" \
  "medianest_perf.n_plus_one_max = 20" \
  "medianest_perf.slow_query_ms = 5" \
  "medianest_perf.slow_query_analyze = on" \
  "medianest_perf.slow_query_sample_rate = 0.5" || exit 1
mnp_cluster_start || { cat "$MNP_LOG"; exit 1; }

echo "== reliability checks, long version (sqlsmith: $SMITH_QUERIES statements)"
start=$(date +%s)
SMITH_QUERIES=$SMITH_QUERIES bash test/scripts/reliability.sh | tee "$WORK/reliability.tap"
echo "   took $(( $(date +%s) - start )) s"

echo "== soak: ${SOAK_SECONDS}s, $SOAK_CLIENTS clients, readers and resets in a loop"
DB=mnp_soak
psql -XAtq -d postgres -c "CREATE DATABASE $DB" >/dev/null
q $DB "CREATE EXTENSION medianest_perf" >/dev/null
"$MNP_PGBIN/pgbench" -i -q -s 20 $DB >/dev/null 2>&1
cat > "$WORK/mixed.pgb" <<'SQL'
\set aid random(1, 2000000)
\set bid random(1, 20)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT count(*) FROM pgbench_accounts WHERE bid = :bid AND aid % 977 = 0;
BEGIN;
SELECT aid FROM pgbench_accounts WHERE bid = :bid LIMIT 6;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
\set a random(1, 2000000)
SELECT abalance FROM pgbench_accounts WHERE aid = :a;
COMMIT;
SQL
chmod a+r "$WORK/mixed.pgb"
# distinct statements, so that the 200-entry store keeps evicting
for i in $(seq 1 50); do
  echo "SELECT count(*) FROM pgbench_branches WHERE bid IN ($(seq -s, 1 "$i"));"
done > "$WORK/distinct.pgb"
chmod a+r "$WORK/distinct.pgb"

views=$(q $DB "SELECT string_agg(format('SELECT count(*) FROM %I.%I;', schemaname, viewname), ' ')
                 FROM pg_views WHERE schemaname = 'medianest_perf'")
reader_errors=0
(
  end=$(( $(date +%s) + SOAK_SECONDS ))
  errs=0; n=0
  while [ "$(date +%s)" -lt "$end" ]; do
    extra=""; [ $((n % 10)) -eq 9 ] && extra="SELECT medianest_perf.reset();"
    psql -XAtq -v ON_ERROR_STOP=1 -d $DB -c "$views $extra" >/dev/null 2>>"$WORK/reader.err" || errs=$((errs + 1))
    n=$((n + 1))
    sleep 0.2
  done
  echo "$errs $n" > "$WORK/reader.result"
) &
"$MNP_PGBIN/pgbench" -n -M prepared -c "$SOAK_CLIENTS" -j 2 -T "$SOAK_SECONDS" \
  -f "$WORK/mixed.pgb@10" -f "$WORK/distinct.pgb@1" $DB > "$WORK/pgbench.out" 2>&1
pgb_rc=$?
wait
read -r reader_errors reader_loops < "$WORK/reader.result"
crashes=$(grep -c 'terminated by signal' "$MNP_LOG")
grep -E '^(number of transactions actually processed|number of failed|tps|latency average)' "$WORK/pgbench.out" | sed 's/^/   /'
echo "   view readers: $reader_loops loops, $reader_errors errors"
q $DB "SELECT 'statements: ' || entries || '/' || max_entries || ' entries, ' || evictions || ' evictions, ' || dropped_samples || ' dropped' FROM medianest_perf.statements_info"
q $DB "SELECT 'slow ring: ' || entries || '/' || max_entries || ', ' || overwritten || ' overwritten' FROM medianest_perf.slow_queries_info"

TAP_N=0
tap_is "$pgb_rc" 0 "soak: pgbench finished without error"
tap_is "$reader_errors" 0 "soak: view readers and resets saw no error"
tap_is "$crashes" 0 "soak: no backend crash in the server log"
tap_is "$(q $DB "SELECT entries <= max_entries FROM medianest_perf.statements_info")" t "soak: statement store within its bound"
tap_done
rel_failed=$(grep -c '^not ok' "$WORK/reliability.tap")
[ "$TAP_FAILED" -eq 0 ] && [ "$rel_failed" -eq 0 ]
