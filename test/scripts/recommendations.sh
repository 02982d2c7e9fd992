#!/usr/bin/env bash
# Cluster-level behaviour of recommendations, health() and metrics() (TAP):
#   - metrics() passes a strict parser of the text format (and promtool when
#     it can be had from Debian's prometheus package), with label values that
#     need escaping (a database and a role named with quotes and backslashes)
#     read back exactly; the parser itself rejects broken input;
#   - every query of test/prometheus/queries.yaml runs and has the columns
#     it declares;
#   - a transaction left open in another session becomes a long_transaction
#     (warning, then critical), its action ends it, and health() sees it;
#   - after a restart the cold cache gives cache_hit_ratio rows for the
#     database and the statement, with shared_buffers advice when the
#     database does not fit;
#   - without shared_preload_libraries everything still answers.
# Runs against the scratch cluster of test/run_tests.sh (environment:
# MNP_PGBIN, MNP_PGDATA, MNP_LOG, PGHOST, PGPORT, PGUSER) and leaves it
# running with its normal settings.
set -u
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="python3 $ROOT/test/prometheus/check_metrics.py"

DB=mnp_reco_cluster
ODD_DB='mnp "odd"\db'
ODD_ROLE='reco "q" \ role'
WORK=$(mktemp -d /tmp/mnp-reco-tap.XXXXXX)
chmod 755 "$WORK"
BG=
cleanup() {
  if [ -n "$BG" ]; then kill "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

sql() { q "$DB" "$1"; }
restart() {	# restart [postgres options]
  mnp_pg_ctl stop -m fast >/dev/null
  if [ $# -gt 0 ]; then mnp_pg_ctl start -o "$*" >/dev/null; else mnp_pg_ctl start >/dev/null; fi
}
skip() {	# skip COUNT REASON
  for _ in $(seq "$1"); do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $2"; done
}

psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
  -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" \
  -c "DROP DATABASE IF EXISTS \"mnp \"\"odd\"\"\\db\"" -c "CREATE DATABASE \"mnp \"\"odd\"\"\\db\"" \
  -c "DROP ROLE IF EXISTS \"reco \"\"q\"\" \\ role\"" -c "CREATE ROLE \"reco \"\"q\"\" \\ role\" LOGIN" \
  -c "DROP ROLE IF EXISTS reco_tap_plain" -c "CREATE ROLE reco_tap_plain LOGIN" >/dev/null
sql "CREATE EXTENSION medianest_perf" >/dev/null

# --- the text format --------------------------------------------------------
PGDATABASE="$ODD_DB" PGUSER="$ODD_ROLE" psql -XAtq -c "SELECT pg_sleep(0.3) AS odd_one" >/dev/null
sql "CREATE TABLE t AS SELECT g AS id, g % 10 AS k FROM generate_series(1, 2000) g" >/dev/null
for i in 1 2 3; do sql "SELECT count(*) FROM t WHERE k = $i" >/dev/null; done
# (psql ends the value with one more line feed of its own: drop it)
sql "SELECT medianest_perf.metrics()" | head -c -1 >"$WORK/metrics.prom"
$CHECK --series "$WORK/metrics.prom" >"$WORK/series.txt" 2>"$WORK/check.err"
tap_is "$?" 0 "metrics() passes the strict format check"
sed 's/^/# /' "$WORK/check.err"
tap_is "$(python3 - "$WORK/series.txt" "$ODD_DB" "$ODD_ROLE" <<'EOF'
import json, sys
db, role = sys.argv[2], sys.argv[3]
n = 0
for line in open(sys.argv[1], encoding='utf-8'):
    name, labels, value = line.rstrip('\n').split('\t')
    labels = json.loads(labels)
    if name == 'medianest_perf_statement_calls_total' and labels.get('datname') == db and labels.get('user') == role:
        n += 1
print(n)
EOF
)" 1 "label values with quotes and backslashes read back exactly"
tap_like "$(grep -c '^medianest_perf_statement_duration_seconds_bucket{.*le="+Inf"' "$WORK/metrics.prom")" '^[1-9][0-9]*$' \
  "statement histograms are there, with +Inf buckets"

PROMTOOL=$(command -v promtool || true)
if [ -z "$PROMTOOL" ] && [ "$(id -u)" -eq 0 ]; then
  # promtool ships in Debian's prometheus package; take the binary only
  # (installing the package would also start a Prometheus server)
  TOOLS=${MNP_TOOLS_DIR:-/tmp/mnp-tools}
  if [ ! -x "$TOOLS/usr/bin/promtool" ]; then
    mkdir -p "$TOOLS"
    ( cd "$TOOLS" && { apt-get download prometheus >/dev/null 2>&1 \
                       || { apt-get update -qq >/dev/null 2>&1 && apt-get download prometheus >/dev/null 2>&1; }; } \
      && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x ./usr/bin/promtool && rm -f prometheus_*.deb ) \
      >/dev/null 2>&1
  fi
  [ -x "$TOOLS/usr/bin/promtool" ] && PROMTOOL=$TOOLS/usr/bin/promtool
fi
if [ -n "$PROMTOOL" ]; then
  out=$("$PROMTOOL" check metrics <"$WORK/metrics.prom" 2>&1)
  rc=$?
  tap_is "$rc" 0 "promtool check metrics accepts metrics()"
  [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# promtool: /'
else
  skip 1 "promtool not available"
fi

# the checker rejects what it must
bad() {	# bad DESCRIPTION TEXT...
  local d=$1; shift
  printf '%b' "$*" >"$WORK/bad.prom"
  $CHECK "$WORK/bad.prom" >/dev/null 2>&1
  tap_is "$?" 1 "the checker rejects $d"
}
bad "a bad escape" '# HELP m x\n# TYPE m gauge\nm{a="\\q"} 1\n'
bad "a sample before its TYPE" 'm 1\n# HELP m x\n# TYPE m gauge\n'
bad "a duplicate series" '# HELP m x\n# TYPE m gauge\nm{a="1"} 1\nm{a="1"} 2\n'
bad "a non-cumulative histogram" '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 4\nh_bucket{le="+Inf"} 5\nh_sum 3\nh_count 5\n'
bad "a +Inf bucket that differs from _count" '# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="+Inf"} 5\nh_sum 3\nh_count 6\n'
bad "a missing final line feed" '# HELP m x\n# TYPE m gauge\nm 1'

# --- postgres_exporter queries ------------------------------------------------
out=$(python3 - "$ROOT/test/prometheus/queries.yaml" <<'EOF' 2>&1
import subprocess, sys, yaml
spec = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))
problems = []
for key, q in spec.items():
    r = subprocess.run(['psql', '-XA', '-F', '\t', '-d', 'mnp_reco_cluster', '-v', 'ON_ERROR_STOP=1',
                        '-c', q['query']], capture_output=True, text=True)
    if r.returncode != 0:
        problems.append('%s: %s' % (key, r.stderr.strip()))
        continue
    cols = r.stdout.split('\n')[0].split('\t')
    for m in q['metrics']:
        (col, desc), = m.items()
        if col not in cols:
            problems.append('%s: no column %s' % (key, col))
        if desc.get('usage') not in ('LABEL', 'GAUGE', 'COUNTER'):
            problems.append('%s: bad usage for %s' % (key, col))
print('%d queries, %s' % (len(spec), '; '.join(problems) or 'ok'))
EOF
)
tap_is "$out" "4 queries, ok" "every query of queries.yaml runs and has the columns it declares"

# --- a transaction left open ------------------------------------------------------
( echo "BEGIN; SELECT txid_current();"; sleep 30 ) | psql -XAtq -d "$DB" >/dev/null 2>&1 &
BG=$!
sleep 3
long="SET medianest_perf.long_transaction_warning = '1s';
      SELECT severity, object ~ '^pid [0-9]+\$', action ~ '^SELECT pg_terminate_backend\\([0-9]+\\);\$',
             finding ~ 'has had a transaction open for [0-9.]+s \\(idle in transaction, long_transaction_warning = 1s\\), idle for'
        FROM medianest_perf.recommendations WHERE category = 'long_transaction'"
tap_is "$(sql "$long")" "warning|t|t|t" "an idle transaction older than long_transaction_warning is a warning"
tap_is "$(sql "SET medianest_perf.long_transaction_warning = '1s'; SET medianest_perf.long_transaction_critical = '2s';
               SELECT severity FROM medianest_perf.recommendations WHERE category = 'long_transaction'")" \
  critical "and critical past long_transaction_critical"
tap_is "$(sql "SELECT (details->'oldest_transaction_s'->>'value')::float8 >= 2, (details->'oldest_transaction_s'->>'score')::float8 < 100
                 FROM medianest_perf.health() WHERE component = 'transactions'")" "t|t" "health() counts the open transaction against transactions"
tap_like "$(PGUSER=reco_tap_plain q "$DB" "SET medianest_perf.long_transaction_warning = '1s';
          SELECT count(*) FROM medianest_perf.recommendations WHERE category = 'long_transaction'" 2>&1)" \
  "permission denied to set parameter \"medianest_perf.long_transaction_warning\"" \
  "thresholds are for superusers to set"
action=$(sql "SET medianest_perf.long_transaction_warning = '1s';
              SELECT action FROM medianest_perf.recommendations WHERE category = 'long_transaction'")
sql "$action" >/dev/null
sleep 1
tap_is "$(sql "SET medianest_perf.long_transaction_warning = '1s';
               SELECT count(*) FROM medianest_perf.recommendations WHERE category = 'long_transaction'")" 0 \
  "its action ends it"
wait "$BG" 2>/dev/null
BG=

# --- a cold cache -------------------------------------------------------------------
sql "CREATE TABLE big AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 60000) g" >/dev/null
sql "VACUUM ANALYZE big" >/dev/null
restart
sql "SELECT pg_stat_reset()" >/dev/null
sql "SELECT medianest_perf.reset_statements()" >/dev/null
sql "SELECT count(*) FROM big" >/dev/null
sql "SELECT pg_stat_force_next_flush()" >/dev/null
sleep 0.5
tap_is "$(sql "SELECT severity, object = 'database ' || current_database(), finding LIKE '%so the database fits: the misses come from a cold cache%', action IS NULL
                 FROM medianest_perf.recommendations WHERE category = 'cache_hit_ratio' AND object LIKE 'database %'")" \
  "critical|t|t|t" "after a restart the database hit ratio is critical, and the advice says the cache is cold"
tap_is "$(sql "SELECT count(*), bool_and(evidence->>'query' LIKE 'SELECT count(*) FROM big%'), bool_and((evidence->>'hit_ratio')::float8 < 0.9)
                 FROM medianest_perf.recommendations WHERE category = 'cache_hit_ratio' AND object LIKE 'query %'")" \
  "1|t|t" "the statement that read the table from disk gets its own cache_hit_ratio row"
tap_is "$(sql "SELECT score < 100 FROM medianest_perf.health() WHERE component = 'cache_efficiency'")" t \
  "health() lowers cache_efficiency"
restart "-c shared_buffers=1MB"
sql "SELECT pg_stat_reset()" >/dev/null
sql "SELECT count(*) FROM big" >/dev/null
sql "SELECT pg_stat_force_next_flush()" >/dev/null
sleep 0.5
tap_is "$(sql "SELECT action, finding LIKE '%so the working set may not fit: raise shared_buffers to 2MB%'
                 FROM medianest_perf.recommendations WHERE category = 'cache_hit_ratio' AND object LIKE 'database %'")" \
  "ALTER SYSTEM SET shared_buffers = '2MB';|t" "a database larger than shared_buffers gets a shared_buffers setting to try"

# --- not preloaded ------------------------------------------------------------------
restart "-c shared_preload_libraries=''"
if [ "$(sql "SELECT medianest_perf.is_preloaded()")" = f ]; then
  tap_is "$(sql "SELECT count(*) >= 0 FROM medianest_perf.recommendations")" t "without preload: recommendations answers"
  tap_is "$(sql "SELECT score IS NULL, details->>'note' FROM medianest_perf.health() WHERE component = 'query_performance'")" \
    "t|medianest_perf is not preloaded: no statement statistics" "without preload: query_performance has no score and says why"
  sql "SELECT medianest_perf.metrics()" | head -c -1 >"$WORK/np.prom"
  $CHECK "$WORK/np.prom" >/dev/null 2>&1
  tap_is "$?" 0 "without preload: metrics() passes the format check"
  tap_is "$(grep -c '^medianest_perf_info{version="1.0",preloaded="false"} 1$' "$WORK/np.prom")|$(grep -c '^medianest_perf_statement' "$WORK/np.prom")" \
    "1|0" "without preload: metrics() says so and has no statement series"
else
  skip 4 "the library cannot be loaded without shared_preload_libraries in this build"
fi
restart

psql -XAtq -d postgres -c "DROP DATABASE $DB" -c "DROP DATABASE \"mnp \"\"odd\"\"\\db\"" \
  -c "DROP ROLE \"reco \"\"q\"\" \\ role\"" -c "DROP ROLE reco_tap_plain" >/dev/null
tap_done
