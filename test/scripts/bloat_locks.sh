#!/usr/bin/env bash
# bloat_report does not wait for a relation another session has locked
# (VACUUM FULL, ALTER TABLE, ...): it lists it as skipped and measures the
# rest.  Needs a second session, hence a cluster-level TAP script.  Runs
# against the cluster of `make test` (PGHOST, PGPORT, PGUSER set).
set -u
DB=mnp_bloat_locks
APP=mnp_bloat_locker
PSQL=(psql -X -q -A -t -v ON_ERROR_STOP=1)

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
"${PSQL[@]}" -d "$DB" >/dev/null <<'SQL'
CREATE EXTENSION medianest_perf;
CREATE TABLE locked_t (a int);
INSERT INTO locked_t SELECT generate_series(1, 1000);
CREATE TABLE free_t (a int);
INSERT INTO free_t SELECT generate_series(1, 1000);
SQL

echo "1..4"

# a second session takes ACCESS EXCLUSIVE on locked_t and keeps it
PGAPPNAME=$APP "${PSQL[@]}" -d "$DB" \
  -c "BEGIN" -c "LOCK TABLE locked_t IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(120)" \
  >/dev/null 2>&1 &
locker=$!
granted=f
for _ in $(seq 1 100); do
  granted=$("${PSQL[@]}" -d "$DB" -c "SELECT count(*) > 0 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                                      WHERE a.application_name = '$APP' AND l.mode = 'AccessExclusiveLock' AND l.granted")
  [ "$granted" = t ] && break
  sleep 0.1
done
if [ "$granted" = t ]; then echo "ok 1 - another session holds ACCESS EXCLUSIVE on locked_t"
else echo "not ok 1 - another session holds ACCESS EXCLUSIVE on locked_t"; fi

# the report does not wait (lock_timeout would turn a wait into an error)
out=$("${PSQL[@]}" -d "$DB" -c "SET lock_timeout = '20s'" \
      -c "SELECT string_agg(relname || ':' || method, ',' ORDER BY relname COLLATE \"C\")
            FROM medianest_perf.bloat_report WHERE schemaname = 'public'" 2>&1)
if [ "$out" = "free_t:exact,locked_t:skipped" ]; then echo "ok 2 - bloat_report skips the locked relation and measures the rest"
else echo "not ok 2 - bloat_report skips the locked relation and measures the rest"; echo "# got: $out"; fi

note=$("${PSQL[@]}" -d "$DB" -c "SELECT reliable::text || ' ' || action || ' ' || (note LIKE 'Not measured: another session holds a lock%')::text
                                  FROM medianest_perf.bloat_report WHERE relname = 'locked_t'" 2>&1)
if [ "$note" = "false none true" ]; then echo "ok 3 - the skipped row says why, is unreliable and proposes nothing"
else echo "not ok 3 - the skipped row says why, is unreliable and proposes nothing"; echo "# got: $note"; fi

# end the locking session (the backend this script started), then measure
"${PSQL[@]}" -d "$DB" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                           WHERE application_name = '$APP' AND datname = '$DB'" >/dev/null
wait "$locker" 2>/dev/null
out=$("${PSQL[@]}" -d "$DB" -c "SELECT method FROM medianest_perf.bloat_report WHERE relname = 'locked_t'" 2>&1)
if [ "$out" = "exact" ]; then echo "ok 4 - once the lock is gone, locked_t is measured"
else echo "not ok 4 - once the lock is gone, locked_t is measured"; echo "# got: $out"; fi

"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
