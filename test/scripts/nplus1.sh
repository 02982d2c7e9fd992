#!/usr/bin/env bash
# Cluster-level TAP tests of the N+1 detector, driven by real client
# sessions: pgbench in simple, extended and prepared protocol modes,
# concurrent sessions, autocommit bursts, PL/pgSQL loops (track = all),
# negatives (batched, JOIN, below threshold, far apart, pgbench's built-in
# OLTP scripts), and, on a private scratch cluster, the bounded store
# (eviction) and persistence across a restart.
#
# Environment (exported by test/run_tests.sh): PGHOST, PGPORT, PGUSER,
# MNP_PGBIN (bin dir with pgbench).  Run from the repository top.
set -uo pipefail

BIN=${MNP_PGBIN:?MNP_PGBIN must point at the PostgreSQL bin directory}
DB=mnp_np1_tap
WORK=$(mktemp -d /tmp/mnp-np1-tap.XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

n=0
failed=0
ok() {    # ok CONDITION-RESULT(0/1) NAME
  n=$((n + 1))
  if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
is() {    # is GOT EXPECTED NAME
  n=$((n + 1))
  if [ "$1" = "$2" ]; then echo "ok $n - $3"
  else
    echo "not ok $n - $3"; failed=$((failed + 1))
    printf '#   got:      %s\n#   expected: %s\n' "$1" "$2"
  fi
}
q() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
bench() { # bench MODE SCRIPT [pgbench options...]: run a custom script
  local mode=$1 script=$2; shift 2
  "$BIN/pgbench" -n -M "$mode" -f "$WORK/$script" "$@" "$DB" >>"$WORK/pgbench.log" 2>&1
}
reset() { q "SELECT medianest_perf.reset()" >/dev/null; }
# Poll until the SQL returns the expected value (a session publishes its last
# autocommit burst when it exits, which happens after the client has left).
poll() {  # poll SQL EXPECTED
  local got i
  for i in $(seq 1 50); do
    got=$(q "$1")
    [ "$got" = "$2" ] && break
    sleep 0.1
  done
  echo "$got"
}
incidents() { # kind:source_table:repeated_table:occurrences:max_repeats, sorted
  q "SELECT string_agg(kind || ':' ||
                       coalesce(substring(source_query from '(?:FROM|INTO|UPDATE) +(\w+)'), '-') || ':' ||
                       substring(repeated_query from '(?:FROM|INTO|UPDATE) +(\w+)') || ':' ||
                       occurrences || ':' || max_repeats, ' ' ORDER BY kind, repeated_query, source_query)
       FROM medianest_perf.n_plus_one"
}

echo "1..29"

# --- schema ------------------------------------------------------------------
"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
q "CREATE EXTENSION IF NOT EXISTS medianest_perf" >/dev/null
"$BIN/psql" -X -q -d "$DB" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id int PRIMARY KEY, author_id int NOT NULL, title text NOT NULL);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL, user_id int NOT NULL, body text);
CREATE INDEX ON comments (post_id);
CREATE TABLE audit (id int, note text);
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 200) g;
INSERT INTO posts SELECT g, 1 + (g * 7) % 200, 'post ' || g FROM generate_series(1, 100) g;
INSERT INTO comments SELECT g, 1 + (g - 1) / 3, 1 + (g * 13) % 200, 'c' || g FROM generate_series(1, 300) g;
CREATE FUNCTION load_authors(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE p record; who text; k int := 0;
BEGIN
  FOR p IN SELECT author_id FROM posts ORDER BY id LIMIT n LOOP
    SELECT name INTO who FROM users WHERE id = p.author_id;
    k := k + 1;
  END LOOP;
  RETURN k;
END $$;
ANALYZE;
SQL

# --- pgbench scripts -----------------------------------------------------------
# Six posts, then per post its author and its comment count (interleaved).
cat >"$WORK/loop_tx.sql" <<'SQL'
\set lim 6
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT :lim;
\set a 8
SELECT name FROM users WHERE id = :a;
\set p 1
SELECT count(*) FROM comments WHERE post_id = :p;
\set a 15
SELECT name FROM users WHERE id = :a;
\set p 2
SELECT count(*) FROM comments WHERE post_id = :p;
\set a 22
SELECT name FROM users WHERE id = :a;
\set p 3
SELECT count(*) FROM comments WHERE post_id = :p;
\set a 29
SELECT name FROM users WHERE id = :a;
\set p 4
SELECT count(*) FROM comments WHERE post_id = :p;
\set a 36
SELECT name FROM users WHERE id = :a;
\set p 5
SELECT count(*) FROM comments WHERE post_id = :p;
\set a 43
SELECT name FROM users WHERE id = :a;
\set p 6
SELECT count(*) FROM comments WHERE post_id = :p;
END;
SQL
# The same in autocommit; the pause ends the burst (gap >= 100 ms).
grep -v -e '^BEGIN;' -e '^END;' "$WORK/loop_tx.sql" >"$WORK/loop_auto.sql"
echo '\sleep 250 ms' >>"$WORK/loop_auto.sql"

for mode in simple extended prepared; do
  reset
  bench "$mode" loop_tx.sql -t 3
  is "$(incidents)" \
     "n_plus_one:posts:comments:3:6 n_plus_one:posts:users:3:6" \
     "$mode protocol, transactions: both interleaved children found, 3 occurrences"
  reset
  bench "$mode" loop_auto.sql -t 3
  is "$(poll "SELECT sum(occurrences) FROM medianest_perf.n_plus_one" 6)" "6" \
     "$mode protocol, autocommit: each burst is one unit of work"
  is "$(incidents)" \
     "n_plus_one:posts:comments:3:6 n_plus_one:posts:users:3:6" \
     "$mode protocol, autocommit: same findings as in transactions"
done

# Nested: 3 posts -> 3 comments each -> the author of each comment.
cat >"$WORK/nested.sql" <<'SQL'
BEGIN;
SELECT id FROM posts ORDER BY id LIMIT 3;
\set p 1
SELECT user_id FROM comments WHERE post_id = :p ORDER BY id;
\set u 14
SELECT name FROM users WHERE id = :u;
\set u 27
SELECT name FROM users WHERE id = :u;
\set u 40
SELECT name FROM users WHERE id = :u;
\set p 2
SELECT user_id FROM comments WHERE post_id = :p ORDER BY id;
\set u 53
SELECT name FROM users WHERE id = :u;
\set u 66
SELECT name FROM users WHERE id = :u;
\set u 79
SELECT name FROM users WHERE id = :u;
\set p 3
SELECT user_id FROM comments WHERE post_id = :p ORDER BY id;
\set u 92
SELECT name FROM users WHERE id = :u;
\set u 105
SELECT name FROM users WHERE id = :u;
\set u 118
SELECT name FROM users WHERE id = :u;
END;
SQL
reset
bench extended nested.sql -t 1
is "$(incidents)" "n_plus_one:comments:users:1:9" \
   "nested N+1: the inner lookups are attributed to the middle statement"
reset
PGOPTIONS='-c medianest_perf.n_plus_one_min_repeats=3' bench prepared nested.sql -t 1
is "$(incidents)" "n_plus_one:comments:users:1:9 n_plus_one:posts:comments:1:3" \
   "nested N+1 with threshold 3: two incidents, each with its own source"

# Write loop and repeated identical lookups.
{
  echo 'BEGIN;'
  for i in 1 2 3 4 5 6 7; do echo "\\set i $i"; echo "INSERT INTO audit VALUES (:i, 'row');"; done
  echo 'END;'
} >"$WORK/writes.sql"
{
  echo 'BEGIN;'
  for i in 1 2 3 4 5 6; do echo '\set u 7'; echo 'SELECT name FROM users WHERE id = :u;'; done
  echo 'END;'
} >"$WORK/same.sql"
for mode in simple prepared; do
  reset
  bench "$mode" writes.sql -t 2
  bench "$mode" same.sql -t 1
  is "$(incidents)" "repeated_identical:-:users:1:6 write_loop:-:audit:2:7" \
     "$mode protocol: write loop and repeated identical lookup"
done
is "$(q "SELECT suggestion FROM medianest_perf.n_plus_one WHERE kind = 'write_loop'")" \
   "insert all rows in one statement: INSERT INTO public.audit (id, note) SELECT * FROM unnest(\$1::integer[], \$2::text[]), or one multi-row VALUES list, or COPY public.audit (id, note) FROM STDIN for large batches" \
   "write loop advice names the columns and their types"

# PL/pgSQL loop: nested statements, visible with track = all only.
printf 'SELECT load_authors(8);\n\\sleep 200 ms\n' >"$WORK/plpgsql.sql"
reset
PGOPTIONS='-c medianest_perf.track=all' bench extended plpgsql.sql -t 2
is "$(poll "SELECT sum(occurrences) FROM medianest_perf.n_plus_one" 2)" "2" "PL/pgSQL loop published, one unit of work per call"
is "$(incidents)" "n_plus_one:posts:users:2:8" "PL/pgSQL FOR loop with track = all: source is the loop's query"
reset
PGOPTIONS='-c medianest_perf.track=top' bench extended plpgsql.sql -t 2
sleep 0.5
is "$(incidents)" "" "PL/pgSQL FOR loop with track = top: nested statements not seen"

# --- negatives -------------------------------------------------------------------
cat >"$WORK/batched.sql" <<'SQL'
BEGIN;
SELECT id, author_id FROM posts ORDER BY id LIMIT 6;
SELECT id, name FROM users WHERE id = ANY('{8,15,22,29,36,43}'::int[]);
SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.author_id ORDER BY p.id LIMIT 6;
END;
SQL
{
  echo 'BEGIN;'; echo 'SELECT id, author_id FROM posts ORDER BY id LIMIT 6;'
  for a in 8 15 22; do echo "\\set a $a"; echo 'SELECT name FROM users WHERE id = :a;'; done
  echo 'END;'
} >"$WORK/three.sql"
{
  echo 'SELECT id, author_id FROM posts ORDER BY id LIMIT 6;'
  for a in 8 15 22 29 36 43; do echo '\sleep 150 ms'; echo "\\set a $a"; echo 'SELECT name FROM users WHERE id = :a;'; done
} >"$WORK/far.sql"
# three lookups per burst, from four sessions at once: must not merge
{
  echo 'SELECT id, author_id FROM posts ORDER BY id LIMIT 6;'
  for a in 8 15 22; do echo "\\set a $a"; echo 'SELECT name FROM users WHERE id = :a;'; done
  echo '\sleep 200 ms'
} >"$WORK/three_auto.sql"
reset
bench extended batched.sql -t 5
bench prepared three.sql -t 5
bench simple far.sql -t 1
bench prepared three_auto.sql -t 5 -c 4 -j 2
sleep 0.5
is "$(incidents)" "" "no incident for = ANY, JOIN, 3 repeats, repeats 150 ms apart, 4 concurrent sessions of 3"

"$BIN/pgbench" -i -q -s 1 "$DB" >>"$WORK/pgbench.log" 2>&1
for builtin in tpcb-like simple-update select-only; do
  reset
  "$BIN/pgbench" -n -b "$builtin" -M prepared -c 2 -j 2 -t 300 "$DB" >>"$WORK/pgbench.log" 2>&1
  ok $? "pgbench built-in $builtin ran"
  sleep 0.3
  is "$(incidents)" "" "pgbench built-in $builtin (random OLTP mix): no incident"
done

# detection switched off
reset
PGOPTIONS='-c medianest_perf.n_plus_one=off' bench extended loop_tx.sql -t 2
is "$(incidents)" "" "medianest_perf.n_plus_one = off: nothing detected"

# --- private cluster: bounded store, eviction, persistence ---------------------------
if [ "$(id -u)" -ne 0 ] || ! id postgres >/dev/null 2>&1; then
  for t in 1 2 3 4; do n=$((n + 1)); echo "ok $n # skip needs root to start a private cluster"; done
else
  (
    . test/lib.sh
    # lib.sh has its own q DB SQL; this script's q takes only the SQL
    q() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }
    PRIV="$WORK/priv"
    mnp_cluster_init "$PRIV" "medianest_perf.n_plus_one_max = 10" "log_min_messages = warning" || exit 1
    mnp_cluster_start || exit 1
    trap 'mnp_cluster_stop' EXIT
    DB=postgres
    q "CREATE EXTENSION medianest_perf" >/dev/null
    for t in $(seq 1 15); do
      q "CREATE TABLE t$t (id int PRIMARY KEY, v int)"
      q "INSERT INTO t$t SELECT g, g FROM generate_series(1, 10) g" >/dev/null
    done
    for t in $(seq 1 15); do
      { echo 'BEGIN;'; echo "SELECT id FROM t$t ORDER BY id LIMIT 6;"
        for i in 1 2 3 4 5 6; do echo "\\set i $i"; echo "SELECT v FROM t$t WHERE id = :i;"; done
        echo 'END;'; } >"$WORK/priv_$t.sql"
      "$BIN/pgbench" -n -M extended -f "$WORK/priv_$t.sql" -t 1 postgres >>"$WORK/pgbench.log" 2>&1
    done
    echo "$(q "SELECT entries || ':' || max_entries || ':' || evicted FROM medianest_perf.n_plus_one_info")" >"$WORK/priv_info"
    mnp_pg_ctl restart >/dev/null
    echo "$(q "SELECT count(*) || ':' || sum(occurrences) FROM medianest_perf.n_plus_one")" >"$WORK/priv_after"
    mnp_cluster_stop
    echo "garbage" | runuser -u postgres -- tee "$MNP_PGDATA/pg_stat/medianest_perf_nplus1.stat" >/dev/null
    mnp_cluster_start
    echo "$(q "SELECT count(*) FROM medianest_perf.n_plus_one")" >"$WORK/priv_corrupt"
    grep -c 'ignoring medianest_perf incidents file' "$MNP_LOG" >"$WORK/priv_warn"
  )
  is "$(cat "$WORK/priv_info" 2>/dev/null)" "10:10:5" "store bounded at n_plus_one_max = 10, 5 evictions counted"
  is "$(cat "$WORK/priv_after" 2>/dev/null)" "10:10" "incidents survive a clean restart"
  is "$(cat "$WORK/priv_corrupt" 2>/dev/null)" "0" "a corrupt incidents file is ignored"
  is "$(cat "$WORK/priv_warn" 2>/dev/null)" "1" "... with a WARNING in the server log"
fi

"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
if [ "$failed" -ne 0 ]; then
  echo "# pgbench log:"; sed 's/^/# /' "$WORK/pgbench.log" | tail -40
fi
[ "$failed" -eq 0 ]
