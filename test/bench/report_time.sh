#!/usr/bin/env bash
# How long medianest_perf.report() takes with 5000 tracked statements
# (prints figures, asserts nothing).
#
# Builds a scratch cluster with medianest_perf preloaded (max_statements =
# 10000, so that nothing is evicted), a database with TABLES tables of 1000
# rows and 3 indexes each, and fills the statement store with STATEMENTS
# distinct statements (SHAPES query shapes per table: filters on different
# columns with different operators, with and without ORDER BY / LIMIT, each
# run 1 to 3 times), plus SLOW slow executions captured with their plans and a
# few N+1 loops.  Then it times, each in a new session (so that the per-session
# caches of the bloat report and the index advice, when those parts are
# installed, are filled by the first call):
#   - report()            first call in a session, then ROUNDS more calls
#   - report('text')      the same
# and prints the median and the maximum of each, and the size of the output.
#
# Usage: test/bench/report_time.sh   (as root; MNP_SANDBOX is honoured)
#   STATEMENTS (default 5000), SLOW (default 200), ROUNDS (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

STATEMENTS=${STATEMENTS:-5000}
SLOW=${SLOW:-200}
ROUNDS=${ROUNDS:-5}
SHAPES=50
TABLES=$(( (STATEMENTS + SHAPES - 1) / SHAPES ))

bash test/install_deps.sh
mnp_build_install

WORK=$(mktemp -d /tmp/mnp-bench-report.XXXXXX)
chmod 755 "$WORK"
cleanup() { mnp_cluster_stop; rm -rf "$WORK"; }
trap cleanup EXIT

mnp_cluster_init "$WORK/cluster" "medianest_perf.max_statements = 10000" \
  "medianest_perf.query_text_memory = '16MB'" "medianest_perf.track = top" >/dev/null
mnp_cluster_start
DB=mnp_bench_report
psql -XAtq -d postgres -c "CREATE DATABASE $DB"
psql -XAtq -d $DB -c "CREATE EXTENSION medianest_perf"

mnp_log "creating $TABLES tables"
psql -XAtq -d $DB <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$TABLES LOOP
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a int, b int, c int, d text, e timestamptz)', i);
    EXECUTE format('INSERT INTO t%s SELECT g, g %% 97, g %% 13, g %% 7, md5(g::text), now() - g * interval ''1 min''
                      FROM generate_series(1, 1000) g', i);
    EXECUTE format('CREATE INDEX t%s_a ON t%s (a)', i, i);
    EXECUTE format('CREATE INDEX t%s_b_c ON t%s (b, c)', i, i);
  END LOOP;
END \$\$;
SQL
psql -XAtq -d $DB -c "VACUUM ANALYZE" >/dev/null

mnp_log "filling the statement store with $STATEMENTS distinct statements"
psql -XAtq -d $DB -c "SELECT medianest_perf.reset()" >/dev/null
# 50 shapes: 5 columns x 5 operators, each with and without ORDER BY ... LIMIT
python3 - "$STATEMENTS" "$SHAPES" >"$WORK/workload.sql" <<'EOF'
import sys
n, shapes = int(sys.argv[1]), int(sys.argv[2])
cols = ['id', 'a', 'b', 'c', 'e']
ops = ['=', '<', '>', '<=', '<>']
k = 0
t = 1
while k < n:
    for ci, col in enumerate(cols):
        for oi, op in enumerate(ops):
            for ordered in (False, True):
                if k >= n:
                    break
                val = "now() - interval '1 hour'" if col == 'e' else str(k % 50)
                q = 'SELECT count(*) FROM (SELECT id FROM t%d WHERE %s %s %s' % (t, col, op, val)
                q += (' ORDER BY d LIMIT 10) s;' if ordered else ') s;')
                for _ in range(1 + k % 3):
                    print(q)
                k += 1
    t += 1
EOF
psql -XAtq -d $DB -f "$WORK/workload.sql" >/dev/null

mnp_log "$SLOW slow executions and some N+1 loops"
for i in $(seq 1 "$SLOW"); do
  echo "SET medianest_perf.slow_query_ms = 5; SET medianest_perf.critical_query_ms = 8;"
  echo "SELECT count(*), pg_sleep(0.005 + $((i % 5)) * 0.001) FROM t$(( (i % TABLES) + 1 )) WHERE a = $((i % 90));"
done | psql -XAtq -d $DB >/dev/null
for i in $(seq 1 20); do
  echo "BEGIN; SELECT id FROM t$i WHERE a = 5 LIMIT 10;"
  for j in $(seq 1 10); do echo "SELECT d FROM t$(( i + 1 )) WHERE id = $j;"; done
  echo "COMMIT;"
done | psql -XAtq -d $DB >/dev/null

psql -XAtq -d $DB -c "SELECT '# store: ' || entries || ' statement entries (max ' || max_entries || '), ' || evicted_entries || ' evicted' FROM medianest_perf.statements_info"
psql -XAtq -d $DB -c "SELECT '# this database: ' || count(*) || ' statements, ' || (SELECT count(*) FROM medianest_perf.slow_queries) || ' slow executions, ' || (SELECT count(*) FROM medianest_perf.n_plus_one) || ' N+1 incidents, ' || (SELECT count(*) FROM medianest_perf.recommendations) || ' recommendations' FROM medianest_perf.statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
psql -XAtq -d $DB -c "SELECT '# optional parts: bloat ' || CASE WHEN to_regclass('medianest_perf.bloat_report') IS NULL THEN 'absent' ELSE 'installed' END || ', index advisor ' || CASE WHEN to_regproc('medianest_perf.index_advice') IS NULL THEN 'absent' ELSE 'installed' END"

# time FORMAT: ROUNDS+1 calls in one new session; the first is reported apart
time_report() {
  local fmt=$1 out="$WORK/timing-$1.txt"
  {
    echo '\timing on'
    for _ in $(seq 0 "$ROUNDS"); do echo "SELECT length(medianest_perf.report('$fmt'));"; done
  } | psql -Xq -d $DB >"$out"
  python3 - "$fmt" "$out" <<'EOF'
import re, statistics, sys
fmt, path = sys.argv[1], sys.argv[2]
text = open(path).read()
ms = [float(x) for x in re.findall(r'Time: ([0-9.]+) ms', text)]
size = re.findall(r'^\s*([0-9]+)\s*$', text, re.M)
rest = ms[1:]
print("report('%s'): first call in a session %.0f ms; next %d calls: median %.0f ms, max %.0f ms; %s bytes"
      % (fmt, ms[0], len(rest), statistics.median(rest), max(rest), size[-1]))
EOF
}
time_report html
time_report text
