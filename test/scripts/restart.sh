#!/usr/bin/env bash
# Cluster-level behaviour of the statement store (TAP):
#   - statistics survive a clean restart and the saved file is consumed;
#   - a corrupt, truncated, foreign or other-version file is ignored with a
#     WARNING and the server starts;
#   - an immediate stop (crash recovery) restarts cleanly;
#   - without shared_preload_libraries the functions refuse with 55000;
#   - a tiny store evicts, truncates texts and never fails a statement.
# Runs against the scratch cluster of test/run_tests.sh (environment:
# MNP_PGBIN, MNP_PGDATA, MNP_LOG, PGHOST, PGPORT, PGUSER) and leaves it
# running with its normal settings.
set -u
. "$(dirname "$0")/../lib.sh"

DB=mnp_restart
STAT="$MNP_PGDATA/pg_stat/medianest_perf.stat"

restart() {	# restart [postgres options]: clean stop, start with options
  mnp_pg_ctl stop -m fast >/dev/null
  if [ $# -gt 0 ]; then mnp_pg_ctl start -o "$*" >/dev/null; else mnp_pg_ctl start >/dev/null; fi
}
log_since() { tail -c +"$1" "$MNP_LOG"; }
log_size() { stat -c %s "$MNP_LOG"; }

psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
q $DB "CREATE EXTENSION medianest_perf" >/dev/null
q $DB "SELECT medianest_perf.reset()" >/dev/null
for i in 1 2 3 4 5 6 7; do q $DB "SELECT 'marker' || $i AS restart_marker" >/dev/null; done
MARK="SELECT calls FROM medianest_perf.statements WHERE query = 'SELECT \$1 || \$2 AS restart_marker'"
tap_is "$(q $DB "$MARK")" 7 "marker statement counted before restart"

# --- clean restart -------------------------------------------------------
mnp_pg_ctl stop -m fast >/dev/null
tap_is "$([ -s "$STAT" ] && echo yes)" yes "statistics file written at shutdown"
mnp_pg_ctl start >/dev/null
tap_is "$(q $DB "$MARK")" 7 "marker calls survive a clean restart"
tap_is "$(q $DB "SELECT query FROM medianest_perf.statements WHERE query LIKE '%restart_marker'")" \
  'SELECT $1 || $2 AS restart_marker' "normalized text survives a clean restart"
tap_is "$([ -e "$STAT" ] && echo present || echo consumed)" consumed "statistics file removed after loading"

# --- damaged files -------------------------------------------------------
# damage NAME COMMAND: stop cleanly, damage the file, start, check.
damage() {
  local name=$1 cmd=$2 expect=$3 pos
  mnp_pg_ctl stop -m fast >/dev/null
  eval "$cmd"
  pos=$(( $(log_size) + 1 ))
  if mnp_pg_ctl start >/dev/null 2>&1; then
    tap_is up up "server starts with a $name statistics file"
  else
    tap_is down up "server starts with a $name statistics file"
  fi
  tap_like "$(log_since $pos)" "WARNING: +ignoring medianest_perf statistics file.*$expect" \
    "$name file ignored with a WARNING ($expect)"
  tap_is "$(q $DB "SELECT count(*) FROM medianest_perf.statements WHERE query LIKE '%restart_marker'")" 0 \
    "$name file: statistics start empty"
  tap_is "$([ -e "$STAT" ] && echo present || echo removed)" removed "$name file removed"
  for i in 1 2 3; do q $DB "SELECT 'marker' || $i AS restart_marker" >/dev/null; done
}
damage corrupt \
  'size=$(stat -c %s "$STAT"); printf "\xff\xfe\xfd\xfc" | dd of="$STAT" bs=1 seek=$((size / 2)) conv=notrunc status=none' \
  "checksum"
damage truncated \
  'size=$(stat -c %s "$STAT"); truncate -s $((size - 20)) "$STAT"' \
  "checksum"
damage foreign \
  'head -c 4096 /dev/urandom > "$STAT"; chown postgres: "$STAT"' \
  "not a medianest_perf statistics file"
damage other-version \
  'printf "\x63\x00\x00\x00" | dd of="$STAT" bs=1 seek=4 conv=notrunc status=none' \
  "another version"
damage tiny \
  'printf "MNPS" > "$STAT"; chown postgres: "$STAT"' \
  "impossible size"

# --- crash recovery --------------------------------------------------------
mnp_pg_ctl stop -m immediate >/dev/null
if mnp_pg_ctl start >/dev/null 2>&1; then r=up; else r=down; fi
tap_is "$r" up "server restarts after an immediate stop"
tap_is "$(q $DB "SELECT 1")" 1 "and answers queries"

# --- not preloaded -------------------------------------------------------
restart "-c shared_preload_libraries=''"
out=$(psql -XAtq -d $DB -v VERBOSITY=verbose -c "SELECT count(*) FROM medianest_perf.statements" 2>&1)
tap_like "$out" "55000" "without preload: statements view fails with SQLSTATE 55000"
tap_like "$out" "HINT: +Add medianest_perf to shared_preload_libraries" "without preload: the hint names shared_preload_libraries"
out=$(psql -XAtq -d $DB -c "SELECT medianest_perf.reset()" 2>&1)
tap_like "$out" "must be loaded via shared_preload_libraries" "without preload: reset() refuses politely"
tap_is "$(q $DB "SELECT 1")" 1 "without preload: ordinary statements run"

# --- a tiny store: eviction and text truncation ----------------------------
restart "-c medianest_perf.max_statements=100 -c medianest_perf.query_text_memory=64 -c medianest_perf.slow_query_max=10"
q $DB "SELECT medianest_perf.reset()" >/dev/null
errors=0
sqlfile=$(mktemp)
for i in $(seq 1 400); do
  list=$(seq -s, 1 "$i")
  echo "SELECT count(*) FROM (VALUES (1)) v(x) WHERE x IN ($list);" >> "$sqlfile"
done
# one statement far longer than a quarter of the text memory
printf 'SELECT 1 AS long_text /* %s */;\n' "$(head -c 30000 /dev/zero | tr '\0' 'x')" >> "$sqlfile"
psql -XAtq -v ON_ERROR_STOP=1 -d $DB -f "$sqlfile" >/dev/null 2>&1 || errors=1
rm -f "$sqlfile"
tap_is "$errors" 0 "401 distinct statements in a 100-entry store: no error for the application"
info=$(q $DB "SELECT entries <= 100, evictions > 0, evicted_entries >= 300, text_bytes_used <= text_bytes_max, truncated_texts > 0 FROM medianest_perf.statements_info")
tap_is "$info" "t|t|t|t|t" "store stays bounded, evictions and truncation counted"
tap_is "$(q $DB "SELECT calls, length(query) < 20000 FROM medianest_perf.statements WHERE query LIKE 'SELECT \$1 AS long_text%'")" \
  "1|t" "an oversized text is stored truncated and its statement still counted"

# --- the slow-query ring wraps around, keeping the newest ------------------
q $DB "SELECT medianest_perf.reset_slow_queries()" >/dev/null
pos=$(( $(log_size) + 1 ))
sqlfile=$(mktemp)
echo "SET medianest_perf.slow_query_ms = 1; SET medianest_perf.log_slow_queries = on;" > "$sqlfile"
for i in $(seq 1 25); do echo "SELECT pg_sleep(0.003) AS wrap_$i;" >> "$sqlfile"; done
psql -XAtq -v ON_ERROR_STOP=1 -d $DB -f "$sqlfile" >/dev/null 2>&1
rm -f "$sqlfile"
tap_is "$(q $DB "SELECT entries, max_entries, captured, overwritten FROM medianest_perf.slow_queries_info")" \
  "10|10|25|15" "slow ring of 10 after 25 captures: 10 kept, 15 overwrites counted"
tap_is "$(q $DB "SELECT min(seq), max(seq), bool_and(query ~ 'wrap_(1[6-9]|2[0-5])\$') FROM medianest_perf.slow_queries")" \
  "16|25|t" "the newest 10 slow executions are the ones kept"
tap_like "$(log_since $pos)" "LOG: +medianest_perf: slow query: duration: [0-9.]+ ms  queryid: -?[0-9]+  rows: 1  plan:" \
  "log_slow_queries writes one LOG line with duration, queryid and plan"
tap_is "$(log_since $pos | grep -c 'medianest_perf: slow query')" 25 "one LOG line per slow execution"

# --- back to normal --------------------------------------------------------
restart
psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null
tap_done
