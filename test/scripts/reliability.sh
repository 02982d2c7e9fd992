#!/usr/bin/env bash
# Reliability under random SQL, concurrency and long sessions (TAP).
#   - sqlsmith sends random statements with every collector on (track = all,
#     plan capture with analyze, tiny slow thresholds): no backend crash;
#   - pgbench clients run a known workload while other sessions read every
#     view of the extension in a loop: no error, and the calls of the known
#     statement add up exactly; then the same with resets in the loop;
#   - a long-lived session runs thousands of statements: its memory does not
#     grow with the number of statements.
# Environment as for every test/scripts/*.sh (see restart.sh).
set -u
. "$(dirname "$0")/../lib.sh"

DB=mnp_reliability
SMITH_QUERIES=${SMITH_QUERIES:-3000}
psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
q $DB "CREATE EXTENSION medianest_perf" >/dev/null
q $DB "CREATE TABLE items (id int PRIMARY KEY, grp int, name text, price numeric, tags text[], doc jsonb)" >/dev/null
q $DB "INSERT INTO items SELECT g, g % 50, 'item ' || g, g * 1.5, ARRAY['a' || g % 7], jsonb_build_object('k', g) FROM generate_series(1, 5000) g" >/dev/null
q $DB "CREATE TABLE orders (id int PRIMARY KEY, item_id int REFERENCES items, qty int, at timestamptz DEFAULT now())" >/dev/null
q $DB "INSERT INTO orders SELECT g, 1 + g % 5000, g % 9, now() FROM generate_series(1, 20000) g" >/dev/null
q $DB "CREATE INDEX ON orders (item_id)" >/dev/null
q $DB "ANALYZE" >/dev/null

crashes_before=$(grep -c 'terminated by signal' "$MNP_LOG")

# --- random SQL ------------------------------------------------------------
# As a role without superuser (sqlsmith also calls functions such as
# pg_terminate_backend), with every collector of the extension switched on.
psql -XAtq -d postgres -c "DROP ROLE IF EXISTS mnp_smith" -c "CREATE ROLE mnp_smith LOGIN IN ROLE pg_read_all_stats" >/dev/null
q $DB "GRANT SELECT ON ALL TABLES IN SCHEMA public TO mnp_smith" >/dev/null
psql -XAtq -d postgres \
  -c "ALTER ROLE mnp_smith SET statement_timeout = '2s'" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.track = 'all'" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.slow_query_ms = 1" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.critical_query_ms = 2" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.slow_query_analyze = on" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.slow_query_sample_rate = 1" \
  -c "ALTER ROLE mnp_smith SET medianest_perf.slow_query_parameters = on" >/dev/null
smith_out=$(timeout 600 sqlsmith --target="host=$PGHOST port=$PGPORT dbname=$DB user=mnp_smith" \
  --seed=4242 --max-queries="$SMITH_QUERIES" 2>&1 | tail -5)
smith_rc=$?
crashes_after=$(grep -c 'terminated by signal' "$MNP_LOG")
tap_is "$((crashes_after - crashes_before))" 0 "sqlsmith: $SMITH_QUERIES random statements, no backend crash"
tap_is "$(q $DB "SELECT 1")" 1 "server still answers after sqlsmith"
tap_is "$(q $DB "SELECT count(*) > 0 FROM medianest_perf.statements")" t "statements were recorded during sqlsmith"
if [ $smith_rc -ne 0 ]; then echo "# sqlsmith exit $smith_rc: $smith_out"; fi

# --- concurrency: known workload, readers in a loop ------------------------
q $DB "SELECT medianest_perf.reset()" >/dev/null
script=$(mktemp); chmod a+r "$script"
cat > "$script" <<'SQL'
\set id random(1, 5000)
SELECT name, price FROM items WHERE id = :id;
UPDATE items SET price = price WHERE id = :id;
SQL
views=$(q $DB "SELECT string_agg(format('SELECT count(*) FROM %I.%I;', schemaname, viewname), ' ' ORDER BY viewname)
                 FROM pg_views WHERE schemaname = 'medianest_perf'")
reader() {	# reader ITERATIONS EXTRA_SQL: read every view in a loop
  local i errs=0
  for i in $(seq 1 "$1"); do
    psql -XAtq -v ON_ERROR_STOP=1 -d $DB -c "$views $2" >/dev/null 2>"$WORK_ERR.$BASHPID" || errs=$((errs + 1))
  done
  echo $errs
}
WORK_ERR=$(mktemp)
( reader 30 "" > "$WORK_ERR.r1" ) &
( reader 30 "" > "$WORK_ERR.r2" ) &
"$MNP_PGBIN/pgbench" -n -M prepared -c 8 -j 2 -t 300 -f "$script" $DB > "$WORK_ERR.pgb" 2>&1
pgb_rc=$?
wait
tap_is "$pgb_rc" 0 "pgbench with 8 clients while views are read: no error"
tap_is "$(cat "$WORK_ERR.r1")|$(cat "$WORK_ERR.r2")" "0|0" "view readers saw no error"
tap_is "$(q $DB "SELECT sum(calls) FROM medianest_perf.statements WHERE query = 'SELECT name, price FROM items WHERE id = \$1'")" \
  2400 "8 clients x 300 transactions: calls add up exactly"
tap_is "$(q $DB "SELECT sum(calls) FROM medianest_perf.statements WHERE query = 'UPDATE items SET price = price WHERE id = \$1'")" \
  2400 "and for the UPDATE too"

# resets racing with the workload and the readers
( reader 20 "SELECT medianest_perf.reset();" > "$WORK_ERR.r3" ) &
( reader 20 "" > "$WORK_ERR.r4" ) &
"$MNP_PGBIN/pgbench" -n -M prepared -c 8 -j 2 -t 300 -f "$script" $DB > "$WORK_ERR.pgb" 2>&1
pgb_rc=$?
wait
tap_is "$pgb_rc" 0 "pgbench while another session resets in a loop: no error"
tap_is "$(cat "$WORK_ERR.r3")|$(cat "$WORK_ERR.r4")" "0|0" "resetting and reading sessions saw no error"
tap_is "$(q $DB "SELECT count(*) FROM pg_locks WHERE NOT granted")" 0 "no lock left waiting"
rm -f "$script" "$WORK_ERR"*

# --- memory of a long-lived session ------------------------------------------
# One session runs 2000, then 20000 more distinct-constant statements; the
# memory it holds must not grow with the number of statements.
mem_script=$(mktemp); chmod a+r "$mem_script"
{
  echo "SET medianest_perf.track = 'all';"
  for i in $(seq 1 2000); do echo "SELECT name FROM items WHERE id = $((i % 5000 + 1));"; done
  echo "SELECT sum(total_bytes) AS m1 FROM pg_backend_memory_contexts \\gset"
  for i in $(seq 1 20000); do echo "SELECT name FROM items WHERE id = $((i % 5000 + 1));"; done
  echo "SELECT sum(total_bytes) AS m2 FROM pg_backend_memory_contexts \\gset"
  echo "\\echo :m1 :m2"
} > "$mem_script"
read -r m1 m2 < <(psql -XAtq -d $DB -f "$mem_script" 2>/dev/null | tail -1)
rm -f "$mem_script"
growth=$(( ${m2:-0} - ${m1:-0} ))
echo "# backend memory after 2000 statements: $m1 bytes, after 22000: $m2 bytes"
tap_is "$([ -n "${m1:-}" ] && [ "$growth" -le 65536 ] && echo bounded)" bounded \
  "a session's memory does not grow with the statements it runs (growth $growth bytes)"

psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "DROP ROLE IF EXISTS mnp_smith" >/dev/null
tap_done
