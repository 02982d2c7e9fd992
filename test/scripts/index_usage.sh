#!/usr/bin/env bash
# Cluster-level behaviour of index usage scoring (TAP):
#   - without shared_preload_libraries the views still work (no statement
#     evidence: statements_using is NULL), index_queries() refuses with
#     55000, and the thresholds work from a fresh session;
#   - with track_commit_timestamp = on, an index created after the
#     extension has a known age (its creation commit), judged against
#     unused_index_min_age; a statistics reset moves observed_since;
#   - in a database cloned from a template that has the extension, the
#     install anchor is not trusted;
#   - an index being built by CREATE INDEX CONCURRENTLY is not "invalid",
#     also for a role that cannot see other sessions' progress; once the
#     build is cancelled it is, and its REINDEX action repairs it.
# Runs against the scratch cluster of test/run_tests.sh (environment:
# MNP_PGBIN, MNP_PGDATA, MNP_LOG, PGHOST, PGPORT, PGUSER) and leaves it
# running with its normal settings.
set -u
. "$(dirname "$0")/../lib.sh"

DB=mnp_iu_cluster
sql() { psql -XAtq -v ON_ERROR_STOP=1 -d "${2:-$DB}" -c "$1" 2>&1; }
restart() {	# restart [postgres options]
  mnp_pg_ctl stop -m fast >/dev/null
  if [ $# -gt 0 ]; then mnp_pg_ctl start -o "$*" >/dev/null; else mnp_pg_ctl start >/dev/null; fi
}
fresh_db() {
  sql "DROP DATABASE IF EXISTS ${DB}_clone" postgres >/dev/null
  sql "DROP DATABASE IF EXISTS $DB" postgres >/dev/null
  sql "CREATE DATABASE $DB" postgres >/dev/null
  sql "CREATE EXTENSION medianest_perf" >/dev/null
}
verdict() { sql "SELECT verdict FROM medianest_perf.index_usage WHERE indexname = '$1'"; }

# --- not preloaded -------------------------------------------------------
restart "-c shared_preload_libraries=''"
fresh_db
sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a)" >/dev/null
tap_is "$(sql "SELECT medianest_perf.is_preloaded()")" f "without preload: is_preloaded() is false"
tap_is "$(sql "SELECT count(*) FROM medianest_perf.index_statement_counts()")" 0 \
  "without preload: index_statement_counts() is empty, not an error"
tap_is "$(sql "SELECT verdict || ' ' || (statements_using IS NULL)::text FROM medianest_perf.index_usage WHERE indexname = 't_a'")" \
  "ok true" "without preload: index_usage works, statements_using is NULL"
tap_like "$(sql "SELECT reason FROM medianest_perf.index_usage WHERE indexname = 't_a'")" \
  "statement statistics unavailable \(medianest_perf is not preloaded\)" "without preload: the reason says why there is no statement evidence"
tap_is "$(psql -XAtq -d $DB -c "SET medianest_perf.unused_index_min_age = 0" \
          -c "SELECT verdict FROM medianest_perf.index_usage WHERE indexname = 't_a'" 2>&1)" \
  unused "without preload: a threshold set before the library is loaded applies"
tap_is "$(sql "SELECT count(*) > 0 FROM medianest_perf.table_scans")" t "without preload: table_scans works"
out=$(psql -XAtq -d $DB -v VERBOSITY=verbose -c "SELECT * FROM medianest_perf.index_queries('t_a')" 2>&1)
tap_like "$out" "55000" "without preload: index_queries() fails with SQLSTATE 55000"
tap_like "$out" "shared_preload_libraries" "without preload: the error names shared_preload_libraries"

# --- track_commit_timestamp: the age of a new index is known ----------------
restart "-c track_commit_timestamp=on"
fresh_db
sql "CREATE TABLE t (a int); CREATE INDEX t_a ON t (a)" >/dev/null
tap_is "$(sql "SELECT observed_since IS NOT NULL AND observed_since > now() - interval '1 minute' FROM medianest_perf.index_usage WHERE indexname = 't_a'")" \
  t "commit timestamps: observed_since is the creation of the index"
tap_like "$(psql -XAtq -d $DB -c "SET medianest_perf.unused_index_min_age = '1h'" \
            -c "SELECT verdict || ': ' || reason FROM medianest_perf.index_usage WHERE indexname = 't_a'" 2>&1)" \
  "^ok: too early to judge: observed only in the [0-9.]+s since .*, less than unused_index_min_age = 1h" \
  "commit timestamps: a new index is too young for unused_index_min_age = 1h"
sleep 1.2
tap_is "$(psql -XAtq -d $DB -c "SET medianest_perf.unused_index_min_age = '1s'" \
          -c "SELECT verdict FROM medianest_perf.index_usage WHERE indexname = 't_a'" 2>&1)" \
  unused "commit timestamps: observed for more than unused_index_min_age = 1s, it is unused"
before=$(sql "SELECT observed_since FROM medianest_perf.index_usage WHERE indexname = 't_a'")
sql "SELECT pg_stat_reset()" >/dev/null
tap_is "$(sql "SELECT observed_since > '$before' AND observed_since = (SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()) FROM medianest_perf.index_usage WHERE indexname = 't_a'")" \
  t "a statistics reset moves observed_since to the reset"

# --- a database cloned from a template with the extension -------------------
restart
sql "CREATE DATABASE ${DB}_clone TEMPLATE $DB" postgres >/dev/null
tap_is "$(sql "SELECT count(*) FROM medianest_perf.index_usage WHERE indexname = 't_a' AND observed_since IS NULL" ${DB}_clone)" \
  1 "clone of a template: the template's install anchor is not trusted"
sql "DROP DATABASE ${DB}_clone" postgres >/dev/null

# --- CREATE INDEX CONCURRENTLY in progress, then cancelled ----------------
fresh_db
sql "CREATE TABLE w (a int); INSERT INTO w SELECT generate_series(1, 100)" >/dev/null
sql "DROP ROLE IF EXISTS iu_script_reader; CREATE ROLE iu_script_reader; GRANT USAGE ON SCHEMA medianest_perf TO iu_script_reader" >/dev/null
# a writer keeps a transaction open: the build waits for it
psql -XAtq -d $DB -c "BEGIN" -c "INSERT INTO w VALUES (0)" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
writer_job=$!
for _ in $(seq 1 100); do
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = '$DB' AND query = 'SELECT pg_sleep(60)'")" = 1 ] && break
  sleep 0.1
done
psql -XAtq -d $DB -c "CREATE INDEX CONCURRENTLY w_building ON w (a)" >/dev/null 2>&1 &
builder_job=$!
for _ in $(seq 1 100); do
  [ "$(sql "SELECT count(*) FROM pg_stat_progress_create_index p JOIN pg_database d ON d.oid = p.datid WHERE d.datname = '$DB'")" = 1 ] && break
  sleep 0.1
done
tap_is "$(sql "SELECT valid::text || ' ' || verdict || ' ' || (action IS NULL)::text FROM medianest_perf.index_usage WHERE indexname = 'w_building'")" \
  "false ok true" "a build in progress is not invalid and has no action"
tap_like "$(sql "SELECT reason FROM medianest_perf.index_usage WHERE indexname = 'w_building'")" \
  "^index is being built" "its reason says it is being built"
tap_is "$(psql -XAtq -d $DB -c "SET ROLE iu_script_reader" \
          -c "SELECT verdict FROM medianest_perf.index_usage WHERE indexname = 'w_building'" 2>&1)" \
  ok "also for a role that cannot see the other session's progress"
sql "SELECT pg_cancel_backend(pid) FROM pg_stat_progress_create_index" >/dev/null
wait $builder_job
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$DB' AND query = 'SELECT pg_sleep(60)'" >/dev/null
wait $writer_job
tap_is "$(sql "SELECT verdict || ': ' || action FROM medianest_perf.index_usage WHERE indexname = 'w_building'")" \
  "invalid: REINDEX INDEX CONCURRENTLY public.w_building;" "a cancelled build is invalid, with a REINDEX action"
tap_is "$(printf '%s\n' \
            "SELECT action FROM medianest_perf.index_usage WHERE indexname = 'w_building' \\gexec" \
            "SELECT valid FROM medianest_perf.index_usage WHERE indexname = 'w_building';" |
          psql -XAtq -v ON_ERROR_STOP=1 -d $DB 2>&1)" \
  t "running the action makes the index valid"

sql "DROP DATABASE IF EXISTS $DB" postgres >/dev/null
sql "DROP ROLE IF EXISTS iu_script_reader" postgres >/dev/null
restart
tap_done
