#!/usr/bin/env bash
# Cluster-level behaviour of the index advisor (TAP):
#   - bound parameters of extended-protocol statements are sampled and the
#     advisor plans with them (a partial index only the real value shows);
#   - medianest_perf.sample_text_bytes = 0 turns samples off (generic plans),
#     and a sample that does not fit is counted, not kept;
#   - a cancelled advice call (statement_timeout) is not swallowed, and the
#     planner hooks are gone afterwards;
#   - without shared_preload_libraries the advisor works on an explicit
#     statement array, and the store-based workload refuses with 55000.
# Runs against the scratch cluster of test/run_tests.sh and leaves it
# running with its normal settings.
set -u
. "$(dirname "$0")/../lib.sh"

DB=mnp_advisor
restart() {	# restart [postgres options]
  mnp_pg_ctl stop -m fast >/dev/null
  if [ $# -gt 0 ]; then mnp_pg_ctl start -o "$*" >/dev/null; else mnp_pg_ctl start >/dev/null; fi
}

psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
psql -XAtq -d $DB -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION medianest_perf;
SET default_statistics_target = 1000;
CREATE TABLE tasks (id int PRIMARY KEY, state text NOT NULL, owner int NOT NULL, due date NOT NULL)
  WITH (autovacuum_enabled = off);
INSERT INTO tasks
  SELECT g, CASE WHEN g % 200 = 0 THEN 'failed' WHEN g % 3 = 0 THEN 'queued' ELSE 'done' END,
         g % 1000, date '2024-01-01' + g % 365
    FROM generate_series(1, 100000) g;
VACUUM ANALYZE tasks;
SQL

# --- extended protocol: parameter values are sampled ------------------------
q $DB "SELECT medianest_perf.reset()" >/dev/null
script=$(mktemp)
cat > "$script" <<'EOF'
SELECT count(*) FROM tasks WHERE state = :state;
EOF
chmod a+r "$script"
"$MNP_PGBIN/pgbench" -n -M extended -t 4 -D state=failed -f "$script" $DB >/dev/null 2>&1
tap_is "$(q $DB "SELECT parameter_types::text || ' ' || parameter_values::text FROM medianest_perf.statement_samples() WHERE query LIKE '%FROM tasks WHERE state = \$1%'")" \
  "{text} {failed}" "extended protocol: the bound value and its type are sampled"
tap_is "$(q $DB "SELECT key_columns::text || ' ' || predicate FROM medianest_perf.index_advice()")" \
  "{state} (state = 'failed'::text)" "the advisor plans with the sampled value: a partial index for the rare state"
# samples are not saved; the first execution after a restart (the 5th,
# not a regular sampling point) takes a new one
restart
"$MNP_PGBIN/pgbench" -n -M extended -t 1 -D state=failed -f "$script" $DB >/dev/null 2>&1
rm -f "$script"
tap_is "$(q $DB "SELECT s.parameter_values::text || ' ' || t.calls FROM medianest_perf.statement_samples() s JOIN medianest_perf.statements t USING (userid, dbid, toplevel, queryid) WHERE s.query LIKE '%FROM tasks WHERE state = \$1%'")" \
  "{failed} 5" "after a restart, the next execution is sampled again"
# parameter values can be kept out of samples
q $DB "SELECT medianest_perf.reset()" >/dev/null
script=$(mktemp)
echo 'SELECT count(*) FROM tasks WHERE state = :state;' > "$script"
chmod a+r "$script"
PGOPTIONS="-c medianest_perf.sample_parameters=off" \
  "$MNP_PGBIN/pgbench" -n -M extended -t 4 -D state=failed -f "$script" $DB >/dev/null 2>&1
tap_is "$(q $DB "SELECT count(*) FROM medianest_perf.statement_samples() WHERE query LIKE '%FROM tasks WHERE state = \$1%'")" \
  0 "sample_parameters = off: no sample for a statement with bound parameters"

# --- samples off -------------------------------------------------------------
restart "-c medianest_perf.sample_text_bytes=0"
q $DB "SELECT medianest_perf.reset()" >/dev/null
q $DB "SELECT count(*) FROM tasks WHERE state = 'failed'" >/dev/null
q $DB "SELECT count(*) FROM tasks WHERE owner = 17" >/dev/null
tap_is "$(q $DB "SELECT count(*) FROM medianest_perf.statement_samples()")" 0 "sample_text_bytes = 0: no samples"
tap_is "$(q $DB "SELECT string_agg(key_columns::text || ' ' || coalesce(predicate, '-'), ', ' ORDER BY rank) FROM medianest_perf.index_advice()")" \
  "{owner} -, {state} -" "without samples: generic plans, full indexes only (the rare state cannot be seen)"

# --- a sample that does not fit is counted ------------------------------------
restart "-c medianest_perf.sample_text_bytes=64"
q $DB "SELECT medianest_perf.reset()" >/dev/null
before=$(q $DB "SELECT samples_skipped FROM medianest_perf.statement_samples_info()")
q $DB "SELECT count(*) FROM tasks WHERE owner = 17 AND due > date '2024-02-01' AND state <> 'something long enough'" >/dev/null
after=$(q $DB "SELECT samples_skipped FROM medianest_perf.statement_samples_info()")
tap_is "$([ "$after" -gt "$before" ] && echo counted)" counted "a sample longer than sample_text_bytes is counted as skipped"
tap_is "$(q $DB "SELECT count(*) FROM medianest_perf.statement_samples() WHERE query LIKE '%something long%'")" 0 \
  "and not kept"

# --- cancel ------------------------------------------------------------------
restart
stmts=$(for i in $(seq 1 300); do printf "'SELECT * FROM tasks t JOIN tasks u ON u.owner = t.owner WHERE t.state = ''failed'' AND t.due > ''2024-%02d-01'' AND u.id > %d',\n" $((i % 12 + 1)) "$i"; done)
out=$(psql -XAt -d $DB 2>&1 <<SQL
SET statement_timeout = 50;
SELECT count(*) FROM medianest_perf.index_advice(statements => ARRAY[${stmts%,}]);
RESET statement_timeout;
EXPLAIN (COSTS OFF) SELECT * FROM tasks WHERE owner = 5;
SELECT count(*) FROM medianest_perf.index_advice(statements => ARRAY['SELECT * FROM tasks WHERE owner = 5']);
SQL
)
tap_like "$out" "canceling statement due to statement timeout" "a statement timeout cancels the advice call"
tap_like "$out" "Seq Scan on tasks" "after the cancel, plans see no hypothetical index"
tap_like "$out" '^1$' "and the next advice call works"

# --- not preloaded ------------------------------------------------------------
restart "-c shared_preload_libraries=''"
tap_is "$(q $DB "SELECT key_columns::text FROM medianest_perf.index_advice(statements => ARRAY['SELECT * FROM tasks WHERE owner = 5'])")" \
  "{owner}" "without preload: advice for an explicit statement array"
out=$(psql -XAtq -d $DB -v VERBOSITY=verbose -c "SELECT * FROM medianest_perf.index_advice()" 2>&1)
tap_like "$out" "55000" "without preload: the workload from the store refuses with 55000"
out=$(psql -XAtq -d $DB -v VERBOSITY=verbose -c "SELECT * FROM medianest_perf.statement_samples()" 2>&1)
tap_like "$out" "55000" "without preload: statement_samples() refuses with 55000"

restart
psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
tap_done
