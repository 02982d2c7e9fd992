#!/usr/bin/env bash
# Cost of reading the index_usage and table_scans views on a large schema
# (prints figures, asserts nothing).
#
# Builds a scratch cluster with medianest_perf preloaded and a database with
# TABLES tables (each: a primary key, a plain index, an exact duplicate of it,
# a two-column index it is a prefix of, a partial and an expression index,
# i.e. 6 indexes) plus PARTS partitioned tables of 4 partitions with two
# partitioned indexes each, runs a few indexed queries so that the statement
# store has index lists, then times with pgbench (one client, -t ROUNDS):
#   - SELECT count(*) FROM pg_stat_user_indexes     (baseline: the catalog view)
#   - SELECT count(*) FROM medianest_perf.index_usage
#   - SELECT * FROM medianest_perf.index_usage WHERE verdict <> 'ok'
#   - SELECT count(*) FROM medianest_perf.table_scans
# and prints the average latency of each.
#
# Usage: test/bench/index_usage.sh   (as root; MNP_SANDBOX is honoured)
#   TABLES (default 1000), PARTS (default 50), ROUNDS (default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

TABLES=${TABLES:-1000}
PARTS=${PARTS:-50}
ROUNDS=${ROUNDS:-20}

bash test/install_deps.sh
mnp_build_install

WORK=$(mktemp -d /tmp/mnp-bench-iu.XXXXXX)
cleanup() { mnp_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

mnp_cluster_init "$WORK" "max_locks_per_transaction = 256" >/dev/null
mnp_cluster_start
DB=mnp_bench_iu
psql -XAtq -d postgres -c "CREATE DATABASE $DB"
psql -XAtq -d $DB -c "CREATE EXTENSION medianest_perf"

mnp_log "creating $TABLES tables x 6 indexes and $PARTS partitioned tables"
psql -XAtq -d $DB <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$TABLES LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a int, b int, s text)', i);
    EXECUTE format('INSERT INTO t%s SELECT g, g %% 100, g, g::text FROM generate_series(1, 50) g', i);
    EXECUTE format('CREATE INDEX t%s_a ON t%s (a)', i, i);
    EXECUTE format('CREATE INDEX t%s_a_dup ON t%s (a)', i, i);
    EXECUTE format('CREATE INDEX t%s_a_b ON t%s (a, b)', i, i);
    EXECUTE format('CREATE INDEX t%s_b_part ON t%s (b) WHERE a > 10', i, i);
    EXECUTE format('CREATE INDEX t%s_lower ON t%s (lower(s))', i, i);
  END LOOP;
  FOR i IN 1..$PARTS LOOP
    EXECUTE format('CREATE TABLE p%s (id int, k int) PARTITION BY RANGE (id)', i);
    FOR j IN 0..3 LOOP
      EXECUTE format('CREATE TABLE p%s_%s PARTITION OF p%s FOR VALUES FROM (%s) TO (%s)',
                     i, j, i, j * 100, (j + 1) * 100);
    END LOOP;
    EXECUTE format('CREATE INDEX p%s_k ON p%s (k)', i, i);
    EXECUTE format('CREATE INDEX p%s_id ON p%s (id)', i, i);
  END LOOP;
END \$\$;
SQL
psql -XAtq -d $DB -c "VACUUM ANALYZE" >/dev/null

# indexed statements, so that statement_indexes has something to join
for i in $(seq 1 50); do
  echo "SET enable_seqscan = off; SELECT count(*) FROM t$i WHERE a = 1; SELECT count(*) FROM t$i WHERE id = 2;"
done | psql -XAtq -d $DB >/dev/null
psql -XAtq -d $DB -c "SELECT pg_stat_force_next_flush()" >/dev/null

indexes=$(psql -XAtq -d $DB -c "SELECT count(*) FROM medianest_perf.index_usage")
tables=$(psql -XAtq -d $DB -c "SELECT count(*) FROM medianest_perf.table_scans")
echo "# schema: $indexes indexes (index_usage rows), $tables tables (table_scans rows)"
psql -XAtq -d $DB -c "SELECT '# verdicts: ' || string_agg(verdict || '=' || n, ', ' ORDER BY verdict) FROM (SELECT verdict, count(*) n FROM medianest_perf.index_usage GROUP BY verdict) v"

bench() {	# bench NAME SQL
  local f="$WORK/q.sql" lat
  echo "$2" > "$f"
  chmod a+r "$f"
  lat=$("$MNP_PGBIN/pgbench" -n -c 1 -t "$ROUNDS" -f "$f" -d $DB 2>/dev/null |
        awk -F' = ' '/latency average/ {print $2}')
  printf '%-45s %s\n' "$1" "$lat"
}

echo "# average latency over $ROUNDS runs (pgbench -n -c 1 -t $ROUNDS)"
bench "pg_stat_user_indexes (baseline)" "SELECT count(*) FROM pg_stat_user_indexes;"
bench "index_usage, all rows" "SELECT count(*) FROM medianest_perf.index_usage;"
bench "index_usage, findings with reasons" "SELECT indexname, verdict, reason, action FROM medianest_perf.index_usage WHERE verdict <> 'ok';"
bench "table_scans, all rows" "SELECT count(*) FROM medianest_perf.table_scans;"
