#!/usr/bin/env bash
# Accuracy of the N+1 detector on a labeled set of traces.
#
# Each trace is one client session (pgbench -t 1 with a generated custom
# script, protocol cycling through simple / extended / prepared) that plays
# an access pattern: classic N+1, interleaved children, nested loops, ORM
# identity maps, pagination, PL/pgSQL loops, write loops, repeated lookups,
# and negatives (batched = ANY, JOIN, few repeats, no source, OLTP
# transactions, pooled request streams, volatile calls, pauses).  Every
# trace carries the incidents a human reviewer expects.  After each trace
# the findings are read from medianest_perf.n_plus_one and compared.
#
# Prints per kind: TP, FP, FN, precision and recall, then every miss and
# false alarm with its trace.  Prints measurements only; asserts nothing.
#
# Usage: MNP_SANDBOX=/tmp/mnp-sbx-x bash test/bench/nplus1_accuracy.sh
#   (starts and stops its own scratch cluster), or with PGHOST/PGPORT/PGUSER
#   and MNP_PGBIN of a running cluster exported, MNP_USE_RUNNING=1.
set -uo pipefail
cd "$(dirname "$0")/../.."
. test/lib.sh

if [ "${MNP_USE_RUNNING:-0}" != 1 ]; then
  mnp_build_install || { echo "build failed" >&2; exit 1; }
  CL=$(mktemp -d /tmp/mnp-np1-acc.XXXXXX)
  mnp_cluster_init "$CL" "log_min_messages = warning" || exit 1
  mnp_cluster_start || { cat "$MNP_LOG"; exit 1; }
  trap 'mnp_cluster_stop; rm -rf "$CL"' EXIT
fi
BIN=${MNP_PGBIN:?}
DB=mnp_np1_accuracy
T=$(mktemp -d /tmp/mnp-np1-traces.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"; [ -n "${CL:-}" ] && { mnp_cluster_stop; rm -rf "$CL"; }' EXIT
q() { "$BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "$1"; }

"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
"$BIN/psql" -X -q -d "$DB" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE EXTENSION medianest_perf;
CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE posts (id int PRIMARY KEY, author_id int NOT NULL, title text NOT NULL);
CREATE TABLE comments (id int PRIMARY KEY, post_id int NOT NULL, user_id int NOT NULL, body text);
CREATE INDEX ON comments (post_id);
CREATE TABLE settings (key text PRIMARY KEY, value text);
CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL);
CREATE TABLE audit (id int, note text);
CREATE SEQUENCE tickets;
INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 1000) g;
INSERT INTO posts SELECT g, 1 + (g * 7) % 1000, 'post ' || g FROM generate_series(1, 500) g;
INSERT INTO comments SELECT g, 1 + (g - 1) / 6, 1 + (g * 13) % 1000, 'c' || g FROM generate_series(1, 3000) g;
INSERT INTO settings SELECT 'k' || g, 'v' || g FROM generate_series(1, 10) g;
INSERT INTO items SELECT g, g FROM generate_series(1, 200) g;
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

RANDOM=20261121
modes=(simple extended prepared)
ntrace=0
declare -A TP FP FN
kinds=(n_plus_one repeated_identical write_loop)
for k in "${kinds[@]}"; do TP[$k]=0; FP[$k]=0; FN[$k]=0; done
report=""

# Script building blocks (appended to $S).
S=""
emit() { S+="$1"$'\n'; }
lookup_user() { emit "\\set u $1"; emit "SELECT name FROM users WHERE id = :u;"; }
count_comments() { emit "\\set p $1"; emit "SELECT count(*) FROM comments WHERE post_id = :p;"; }
# end an autocommit trace: the pause closes the burst, the next statement publishes it
end_auto() { emit '\sleep 200 ms'; emit 'SELECT 1;'; }

# run_trace NAME "EXPECTED LABELS" [PGOPTIONS]
# Labels: n_plus_one:<source table>:<repeated table>, repeated_identical:<table>,
# write_loop:<table>.  The script is in $S.
run_trace() {
  local name=$1 expected=$2 opts=${3:-} mode got l k
  mode=${modes[$((ntrace % 3))]}
  ntrace=$((ntrace + 1))
  printf '%s' "$S" >"$T/trace.sql"
  q "SELECT medianest_perf.reset()" >/dev/null
  PGOPTIONS="$opts" "$BIN/pgbench" -n -M "$mode" -t 1 -f "$T/trace.sql" "$DB" >"$T/pgbench.log" 2>&1 ||
    { echo "trace $name failed:"; cat "$T/pgbench.log"; }
  got=$(q "SELECT string_agg(CASE WHEN kind = 'n_plus_one' THEN kind || ':' ||
                   coalesce(substring(source_query from '(?:FROM|INTO|UPDATE) +(\w+)'), '-') || ':'
                   ELSE kind || ':' END ||
                   substring(repeated_query from '(?:FROM|INTO|UPDATE) +(\w+)'), ' ' ORDER BY 1)
           FROM medianest_perf.n_plus_one")
  for l in $expected; do
    k=${l%%:*}
    if [[ " $got " == *" $l "* ]]; then TP[$k]=$((TP[$k] + 1))
    else FN[$k]=$((FN[$k] + 1)); report+="  miss         $l  in trace $name ($mode)"$'\n'; fi
  done
  for l in $got; do
    k=${l%%:*}
    if [[ " $expected " != *" $l "* ]]; then
      FP[$k]=$((FP[$k] + 1)); report+="  false alarm  $l  in trace $name ($mode)"$'\n'
    fi
  done
  S=""
}

# distinct random ids
rand_ids() { shuf -i 1-"$1" -n "$2" --random-source=<(yes "$RANDOM") | tr '\n' ' '; }

# --- positives -------------------------------------------------------------------------------
for n in 5 6 8 12 20 40; do
  for tx in 1 0; do
    [ $tx = 1 ] && emit 'BEGIN;'
    emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
    for i in $(seq 1 "$n"); do lookup_user $((1 + (i * 7) % 1000)); done
    if [ $tx = 1 ]; then emit 'END;'; else end_auto; fi
    run_trace "classic n=$n tx=$tx" "n_plus_one:posts:users"
  done
done
for n in 5 7 10 25; do
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
  for i in $(seq 1 "$n"); do lookup_user $((1 + (i * 7) % 1000)); count_comments "$i"; done
  emit 'END;'
  run_trace "interleaved n=$n" "n_plus_one:posts:users n_plus_one:posts:comments"
  emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
  for i in $(seq 1 "$n"); do count_comments "$i"; lookup_user $((1 + (i * 7) % 1000)); done
  end_auto
  run_trace "interleaved reversed n=$n" "n_plus_one:posts:users n_plus_one:posts:comments"
done
for km in "5 2" "6 3" "3 4" "8 6" "2 6"; do
  set -- $km; k=$1; m=$2
  emit 'BEGIN;'; emit "SELECT id FROM posts ORDER BY id LIMIT $k;"
  for p in $(seq 1 "$k"); do
    emit "\\set p $p"; emit "\\set m $m"
    emit "SELECT user_id FROM comments WHERE post_id = :p ORDER BY id LIMIT :m;"
    for c in $(seq 1 "$m"); do lookup_user $((1 + (((p - 1) * 6 + c) * 13) % 1000)); done
  done
  emit 'END;'
  exp=""
  [ "$k" -ge 5 ] && exp+="n_plus_one:posts:comments "
  [ $((k * m)) -ge 5 ] && exp+="n_plus_one:comments:users"
  run_trace "nested k=$k m=$m" "$exp"
done
for nd in "10 6" "20 5" "30 12"; do
  set -- $nd; n=$1; d=$2
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
  for u in $(rand_ids 1000 "$d"); do lookup_user "$u"; done
  emit 'END;'
  run_trace "identity map n=$n distinct=$d" "n_plus_one:posts:users"
done
for n in 10 16; do
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
  for i in $(seq 1 "$n"); do lookup_user $((1 + i % 4)); done   # 4 authors, at most 4 each
  emit 'END;'
  run_trace "no identity map n=$n (4 authors, each <= 4 times)" "n_plus_one:posts:users"
done
emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 12;"
for i in $(seq 1 12); do lookup_user $((1 + i % 2)); done          # 2 authors, 6 times each
emit 'END;'
run_trace "no identity map, 2 authors 6 times each" "n_plus_one:posts:users repeated_identical:users"
for pages in 2 3; do
  emit 'BEGIN;'
  for pg in $(seq 0 $((pages - 1))); do
    emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10 OFFSET $((pg * 10));"
    for i in $(seq 1 10); do lookup_user $((1 + (pg * 10 + i) * 7 % 1000)); done
  done
  emit 'END;'
  run_trace "pagination pages=$pages" "n_plus_one:posts:users"
done
for n in 6 15; do
  emit "SELECT load_authors($n);"; end_auto
  run_trace "plpgsql FOR loop n=$n (track=all)" "n_plus_one:posts:users" "-c medianest_perf.track=all"
done
for k in 5 9; do
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10;"
  for i in $(seq 1 "$k"); do emit "SELECT value FROM settings WHERE key = 'k3';"; done
  emit 'END;'
  run_trace "same setting read $k times" "repeated_identical:settings"
done
for n in 5 10 50; do
  emit 'BEGIN;'
  for i in $(seq 1 "$n"); do emit "\\set i $i"; emit "INSERT INTO audit VALUES (:i, 'event');"; done
  emit 'END;'
  run_trace "insert loop n=$n" "write_loop:audit"
done
for n in 6 12; do
  emit "SELECT id, qty FROM items ORDER BY id LIMIT $n;"
  for i in $(seq 1 "$n"); do emit "\\set i $i"; emit "UPDATE items SET qty = qty + 1 WHERE id = :i;"; done
  end_auto
  run_trace "update loop n=$n" "write_loop:items"
done
# hard cases the detector is known to miss (kept in the set on purpose)
emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 6;"
for i in $(seq 1 6); do lookup_user $((10 + i)); lookup_user $((100 + i)); done  # author and editor
emit 'END;'
run_trace "hard: two lookups of one statement per row" "n_plus_one:posts:users"
emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 6;"
for i in $(seq 1 6); do emit '\sleep 120 ms'; lookup_user $((10 + i)); done
end_auto
run_trace "hard: 120 ms of client work per row in autocommit" "n_plus_one:posts:users"

# --- negatives -----------------------------------------------------------------------------
for n in 6 30; do
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT $n;"
  emit "SELECT id, name FROM users WHERE id = ANY('{$(seq -s, 1 "$n")}'::int[]);"
  emit 'END;'
  run_trace "batched = ANY n=$n" ""
  emit "SELECT p.id, u.name FROM posts p JOIN users u ON u.id = p.author_id ORDER BY p.id LIMIT $n;"
  end_auto
  run_trace "JOIN n=$n" ""
done
for n in 2 3 4; do
  emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10;"
  for i in $(seq 1 "$n"); do lookup_user "$i"; done
  emit 'END;'
  run_trace "only $n repeats" ""
done
for n in 6 20; do
  emit 'BEGIN;'
  for u in $(rand_ids 1000 "$n"); do lookup_user "$u"; done
  emit 'END;'
  run_trace "lookups without a source n=$n" ""
done
emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 6;"
for i in $(seq 1 6); do emit '\sleep 150 ms'; lookup_user $((10 + i)); done
end_auto
run_trace "lookups 150 ms apart in autocommit" ""
for t in $(seq 1 20); do
  emit 'BEGIN;'
  lookup_user $((RANDOM % 1000 + 1)); count_comments $((RANDOM % 500 + 1))
  emit "\\set i $((RANDOM % 200 + 1))"; emit "UPDATE items SET qty = qty + 1 WHERE id = :i;"
  emit "\\set i $t"; emit "INSERT INTO audit VALUES (:i, 'oltp');"
  emit 'END;'
done
run_trace "20 OLTP transactions" ""
for r in $(seq 1 200); do lookup_user $((RANDOM % 1000 + 1)); done
end_auto
run_trace "select-only stream, autocommit" ""
for r in $(seq 1 30); do
  emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10;"; lookup_user $((RANDOM % 1000 + 1))
done
end_auto
run_trace "pooled stream: one lookup per request" ""
for r in $(seq 1 30); do
  emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10;"
  lookup_user $((RANDOM % 1000 + 1)); lookup_user $((RANDOM % 1000 + 1))
done
end_auto
run_trace "pooled stream: two lookups per request" ""
for r in $(seq 1 30); do
  emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 10;"
  emit "\\set i $r"; emit "INSERT INTO audit VALUES (:i, 'visit');"
done
end_auto
run_trace "pooled stream: one insert per request (known limit)" ""
for k in 6; do
  for i in $(seq 1 "$k"); do emit "SELECT value FROM settings WHERE key = 'k3';"; done
  end_auto
  run_trace "same setting read $k times, autocommit, no source (known limit)" "repeated_identical:settings"
done
for r in $(seq 1 30); do lookup_user $((RANDOM % 1000 + 1)); count_comments $((RANDOM % 500 + 1)); done
end_auto
run_trace "alternating lookups without a source" ""
emit 'BEGIN;'
for i in $(seq 1 10); do emit "SELECT nextval('tickets');"; done
emit 'END;'
run_trace "nextval 10 times" ""
emit 'BEGIN;'; emit "SELECT id FROM posts ORDER BY id LIMIT 6;"
for p in $(seq 1 6); do
  emit "\\set p $p"; emit "SELECT user_id FROM comments WHERE post_id = :p ORDER BY id LIMIT 3;"
  for c in 1 2 3; do lookup_user $((p * 10 + c)); done
done
for k in 1 2 4 5 6 7 8; do emit "SELECT value FROM settings WHERE key = 'k$k';"; done
emit 'END;'
run_trace "nested loop, then unrelated reads by key" "n_plus_one:posts:comments n_plus_one:comments:users"
emit 'BEGIN;'; emit "SELECT id, author_id FROM posts ORDER BY id LIMIT 50;"
lookup_user 1; count_comments 1; emit "SELECT value FROM settings WHERE key = 'k1';"
emit "SELECT count(*) FROM items;"; emit 'END;'
run_trace "report: one big read, then unrelated single reads" ""

# --- results ---------------------------------------------------------------------------------
echo "N+1 detector accuracy on $ntrace labeled traces (medianest_perf defaults: min_repeats 5, gap 100 ms)"
printf '%-20s %4s %4s %4s %10s %8s\n' kind TP FP FN precision recall
for k in "${kinds[@]}"; do
  tp=${TP[$k]} fp=${FP[$k]} fn=${FN[$k]}
  prec=$(awk -v a="$tp" -v b="$fp" 'BEGIN { if (a + b == 0) print "n/a"; else printf "%.3f", a / (a + b) }')
  rec=$(awk -v a="$tp" -v b="$fn" 'BEGIN { if (a + b == 0) print "n/a"; else printf "%.3f", a / (a + b) }')
  printf '%-20s %4d %4d %4d %10s %8s\n' "$k" "$tp" "$fp" "$fn" "$prec" "$rec"
done
echo "misses and false alarms:"
printf '%s' "${report:-  none}"
echo
"$BIN/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
