#!/usr/bin/env bash
# `make test`: install dependencies, build with -Wall -Wextra -Werror, install,
# start a scratch cluster with the extension preloaded, run the pg_regress
# suite (sql/ + expected/), the pgTAP suite (test/pgtap/*.sql via pg_prove)
# and the cluster-level TAP scripts (test/scripts/*.sh via prove), stop the
# cluster and exit non-zero on any failure.  The last line is
# "N passed, N failed" summed over all suites.
set -uo pipefail
cd "$(dirname "$0")/.."
MNP_ROOT=$(pwd)
. test/lib.sh

bash test/install_deps.sh || { echo "dependency installation failed" >&2; exit 1; }

mnp_log "building (-Wall -Wextra -Werror) and installing"
make -s clean >/dev/null 2>&1 || true
mnp_build_install || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

WORK=$(mktemp -d /tmp/mnp-test.XXXXXX)
cleanup() {
  mnp_cluster_stop
  if [ "${MNP_KEEP:-0}" = 1 ]; then mnp_log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

mnp_cluster_init "$WORK" \
  "medianest_perf.track = top" \
  "log_min_messages = warning"
mnp_cluster_start || { cat "$MNP_LOG"; echo "0 passed, 1 failed"; exit 1; }
mnp_log "scratch cluster on port $MNP_PORT ($MNP_PGDATA)"

passed=0
failed=0

# --- pg_regress ----------------------------------------------------------
mnp_log "pg_regress suite"
rm -rf results regression.diffs regression.out
make -s installcheck >"$WORK/regress.out" 2>&1
regress_rc=$?
cat "$WORK/regress.out"
rp=$(grep -cE '\.\.\. ok' "$WORK/regress.out")
rf=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$WORK/regress.out")
if [ $regress_rc -ne 0 ]; then
  [ "$rf" -eq 0 ] && rf=1
  [ -f regression.diffs ] && { echo "---- regression.diffs ----"; cat regression.diffs; }
fi
passed=$((passed + rp)); failed=$((failed + rf))

# --- TAP suites ----------------------------------------------------------
# run_tap NAME COMMAND...: run a TAP producer, count ok / not ok lines.
run_tap() {
  local name=$1; shift
  local out="$WORK/$name.tap" rc tp tf
  "$@" >"$out" 2>&1
  rc=$?
  cat "$out"
  tp=$(grep -cE '^[[:space:]]*ok [0-9]' "$out")
  tf=$(grep -cE '^[[:space:]]*not ok [0-9]' "$out")
  if [ $rc -ne 0 ] && [ "$tf" -eq 0 ]; then tf=1; fi
  passed=$((passed + tp)); failed=$((failed + tf))
}

mnp_log "pgTAP suite"
psql -XqAt -d postgres -c "DROP DATABASE IF EXISTS mnp_tap" -c "CREATE DATABASE mnp_tap" >/dev/null
psql -XqAt -d mnp_tap -c "CREATE EXTENSION pgtap" -c "CREATE EXTENSION medianest_perf" >/dev/null
run_tap pgtap pg_prove -v -d mnp_tap test/pgtap/*.sql

if ls test/scripts/*.sh >/dev/null 2>&1; then
  mnp_log "cluster-level TAP scripts"
  run_tap scripts prove -v test/scripts/*.sh
fi

if grep -q 'terminated by signal' "$MNP_LOG"; then
  echo "server log shows a backend crash:"
  grep -B5 'terminated by signal' "$MNP_LOG"
  failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
