#!/usr/bin/env bash
# The HTML report in a real browser (TAP):
#   - a database with hostile names (a table called <script>alert(1)</script>,
#     a statement with </svg> in it, an application_name with an onerror
#     attribute), slow executions, an N+1 loop and a duplicate index;
#   - the page written by the documented command
#     psql -XAtc "select medianest_perf.report()" -o report.html;
#   - headless Chromium (Debian's package, installed when missing):
#     a 1280x4000 screenshot and a DOM dump from its command line, then
#     test/report/browser_check.py over the DevTools pipe: every chart has a
#     non-zero rendered box, no console error (a script or resource blocked
#     by the page's Content-Security-Policy would be one), no dialog, no
#     request besides the page, no <script> element, no horizontal overflow,
#     and the hostile texts shown as text;
#   - negative controls: the same checks on doctored copies of the page
#     (charts hidden, a zero-width chart, an injected script with and without
#     the page's CSP) must fail, so that the checks above can fail;
#   - without shared_preload_libraries the report still renders and says why
#     the statement sections are empty.
# Runs against the scratch cluster of test/run_tests.sh (environment:
# MNP_PGBIN, MNP_PGDATA, MNP_LOG, PGHOST, PGPORT, PGUSER) and leaves it
# running with its normal settings.  MNP_REPORT_SCREENSHOT=FILE keeps the
# screenshot.
set -u
. "$(dirname "$0")/../lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHECK="python3 $ROOT/test/report/browser_check.py"

DB=mnp_report_browser
WORK=$(mktemp -d /tmp/mnp-report-tap.XXXXXX)
chmod 755 "$WORK"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

sql() { q "$DB" "$1"; }
restart() {	# restart [postgres options]
  mnp_pg_ctl stop -m fast >/dev/null
  if [ $# -gt 0 ]; then mnp_pg_ctl start -o "$*" >/dev/null; else mnp_pg_ctl start >/dev/null; fi
}
skip() {	# skip COUNT REASON
  for _ in $(seq "$1"); do TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $2"; done
}
# jq-like one-liner: field EXPR of the JSON in FILE (python expression over d)
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# --- Chromium --------------------------------------------------------------------
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ] && [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }
  CHROMIUM=$(command -v chromium || true)
fi
tap_like "$CHROMIUM" 'chromium$' "Debian's chromium is installed"
if [ -z "$CHROMIUM" ]; then
  tap_done
  exit 1
fi
# the flags every run uses, each with a fresh profile
chromium_run() {	# chromium_run ARGS...
  local profile
  profile=$(mktemp -d "$WORK/profile.XXXXXX")
  timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" 2>>"$WORK/chromium.log"
}

# --- a database with hostile names --------------------------------------------------
psql -XAtq -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
sql "CREATE EXTENSION medianest_perf" >/dev/null
{
  echo 'SET medianest_perf.unused_index_min_age = 0;'
  echo 'CREATE TABLE "<script>alert(1)</script>" (id int PRIMARY KEY, v int, note text);'
  echo 'INSERT INTO "<script>alert(1)</script>" SELECT g, g % 50, md5(g::text) FROM generate_series(1, 20000) g;'
  echo 'CREATE INDEX "<b>v</b>" ON "<script>alert(1)</script>" (v);'
  echo 'CREATE INDEX "v copy" ON "<script>alert(1)</script>" (v);'
  echo 'ANALYZE "<script>alert(1)</script>";'
  echo 'SELECT medianest_perf.reset();'
  # a few statements with many calls of varied duration, for the histograms
  for i in $(seq 1 150); do
    echo "SELECT count(*) FROM \"<script>alert(1)</script>\" WHERE v = $((i % 50));"
    echo "SELECT 1 AS \"</svg><script>alert(2)</script>\", pg_sleep(0.0005 * $((i % 7)));"
    echo "SELECT note FROM \"<script>alert(1)</script>\" ORDER BY note DESC LIMIT 3 OFFSET $((i * 7));"
  done
  # slow and critical executions, from an application with markup in its name
  echo "SET application_name = '<img src=x onerror=alert(3)>';"
  echo 'SET medianest_perf.slow_query_ms = 20;'
  echo 'SET medianest_perf.critical_query_ms = 70;'
  for i in $(seq 1 8); do
    echo "SELECT pg_sleep(0.03 + 0.03 * $((i % 4))), '</svg></text><script>alert(4)</script>' AS payload;"
  done
  echo 'RESET application_name;'
  echo 'SET medianest_perf.slow_query_ms = 100000;'
  # an N+1 loop
  for t in 1 2 3; do
    echo 'BEGIN;'
    echo 'SELECT id FROM "<script>alert(1)</script>" WHERE id <= 10 ORDER BY id;'
    for j in $(seq 1 10); do echo "SELECT note FROM \"<script>alert(1)</script>\" WHERE id = $j;"; done
    echo 'COMMIT;'
  done
  echo 'SELECT pg_stat_force_next_flush();'
} | psql -XAtq -d "$DB" -v ON_ERROR_STOP=1 >"$WORK/setup.log" 2>&1
tap_is "$?" 0 "the workload ran"

# --- the page ---------------------------------------------------------------------
HTML=$WORK/report.html
PGOPTIONS='-c medianest_perf.unused_index_min_age=0' psql -XAtc "select medianest_perf.report()" -d "$DB" -o "$HTML"
tap_is "$?" 0 'psql -XAtc "select medianest_perf.report()" -o report.html works'
tap_is "$(head -c 15 "$HTML")" '<!DOCTYPE html>' "the file is an HTML document"
charts=$(grep -o '<svg class="chart' "$HTML" | wc -l)
svgs=$(grep -o '<svg ' "$HTML" | wc -l)
tap_like "$charts" '^([89]|[1-9][0-9]+)$' "the page has charts ($charts)"

# --- the command line: screenshot and DOM dump ---------------------------------------
chromium_run --screenshot="$WORK/report.png" --window-size=1280,4000 "file://$HTML" >/dev/null
tap_is "$(python3 -c "import struct,sys; b=open(sys.argv[1],'rb').read(); print(b[:8]==b'\x89PNG\r\n\x1a\n', *struct.unpack('>II', b[16:24]))" "$WORK/report.png" 2>&1)" \
  "True 1280 4000" "chromium --screenshot writes a 1280x4000 PNG"
tap_like "$(stat -c %s "$WORK/report.png" 2>/dev/null || echo 0)" '^[0-9]{6,}$' \
  "the screenshot is not blank (at least 100 kB of picture)"
if [ -n "${MNP_REPORT_SCREENSHOT:-}" ]; then cp "$WORK/report.png" "$MNP_REPORT_SCREENSHOT"; fi
chromium_run --dump-dom "file://$HTML" >"$WORK/dom.html"
tap_is "$(grep -o '<svg ' "$WORK/dom.html" | wc -l)|$(grep -ci '<script' "$WORK/dom.html")" "$svgs|0" \
  "the DOM after load has every SVG of the page and no script element"
tap_like "$(grep -c '&lt;script&gt;alert(1)&lt;/script&gt;' "$WORK/dom.html")" '^[1-9]' \
  "the DOM holds the table name as text"

# --- the browser's view -------------------------------------------------------------
$CHECK --screenshot "$WORK/full.png" --text '<script>alert(1)</script>' --text '</svg><script>alert(2)</script>' \
  --text '<img src=x onerror=alert(3)>' --text '</svg></text><script>alert(4)</script>' "$HTML" >"$WORK/check.json" 2>"$WORK/check.err"
tap_is "$?" 0 "the DevTools check ran"
sed 's/^/# /' "$WORK/check.err" | head -20
tap_is "$(field "$WORK/check.json" "d['charts']")" "$charts" "every chart is rendered with a non-zero box"
tap_is "$(field "$WORK/check.json" "min(min(s['width'], s['height']) for s in d['svgs']) > 0")" "True" \
  "no SVG of the page has an empty box"
tap_like "$(field "$WORK/check.json" "sum(s['shapes'] for s in d['svgs'] if (s['cls'] or '').endswith('hist'))")" '^[1-9][0-9]+$' \
  "the histograms have bars"
tap_is "$(field "$WORK/check.json" "d['errors']")" "[]" "no console error, exception or blocked resource"
tap_is "$(field "$WORK/check.json" "(d['dialogs'], d['requests'], d['scripts'])")" "([], [], 0)" \
  "no dialog, no request besides the page, no script element"
tap_is "$(field "$WORK/check.json" "d['width'] <= 1280")" "True" "no horizontal overflow at 1280 px"
tap_is "$(field "$WORK/check.json" "[s for s in d['sections'] if s not in ('bloat', 'index-advice')]")" \
  "['summary', 'health', 'recommendations', 'statements', 'slow-queries', 'n-plus-one', 'indexes', 'about']" \
  "the sections, in order"
tap_is "$(field "$WORK/check.json" "all(n > 0 for n in d['texts'].values())")" "True" \
  "the hostile names and texts are shown as text: $(field "$WORK/check.json" "d['texts']")"

# --- negative controls: the checks can fail -------------------------------------------
sed 's|</head>|<style>svg.chart{display:none}</style></head>|' "$HTML" >"$WORK/hidden.html"
$CHECK "$WORK/hidden.html" >"$WORK/hidden.json" 2>/dev/null
tap_is "$(field "$WORK/hidden.json" "d['charts']")" 0 "control: charts hidden by CSS are counted as not rendered"
python3 - "$HTML" "$WORK/zero.html" <<'EOF'
import re, sys
html = open(sys.argv[1]).read()
html = re.sub(r'(<svg class="chart hist"[^>]*?) width="[0-9]+"', r'\1 width="0"', html, count=1)
open(sys.argv[2], 'w').write(html)
EOF
$CHECK "$WORK/zero.html" >"$WORK/zero.json" 2>/dev/null
tap_is "$(field "$WORK/zero.json" "(d['charts'], min(s['width'] for s in d['svgs']))")" "($((charts - 1)), 0)" \
  "control: a chart with zero width is caught"
sed 's|<main class="wrap">|<main class="wrap"><script>alert(5)</script>|' "$HTML" >"$WORK/script.html"
$CHECK "$WORK/script.html" >"$WORK/script.json" 2>/dev/null
tap_like "$(field "$WORK/script.json" "(d['dialogs'], ' '.join(d['errors']))")" '^\(\[\], .*Content Security Policy' \
  "control: an injected script is refused by the page's CSP, and the refusal is an error"
sed -e 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' -e 's|<main class="wrap">|<main class="wrap"><script>alert(5)</script>|' \
  "$HTML" >"$WORK/nocsp.html"
$CHECK "$WORK/nocsp.html" >"$WORK/nocsp.json" 2>/dev/null
tap_is "$(field "$WORK/nocsp.json" "(d['dialogs'], d['scripts'])")" "(['5'], 1)" \
  "control: without the CSP the same script runs, and the check sees its dialog"

# --- without shared_preload_libraries -----------------------------------------------------
restart "-c shared_preload_libraries=''"
if [ "$(sql "SELECT medianest_perf.is_preloaded()")" = f ]; then
  psql -XAtc "select medianest_perf.report()" -d "$DB" -o "$WORK/np.html" 2>"$WORK/np.err"
  tap_like "$?|$(grep -o 'medianest_perf is not in shared_preload_libraries' "$WORK/np.html" | wc -l)" '^0\|[1-9]' \
    "without preload: the report renders and says why there are no statement statistics"
  $CHECK "$WORK/np.html" >"$WORK/np.json" 2>/dev/null
  tap_is "$(field "$WORK/np.json" "(d['errors'], d['charts'] > 0, min(min(s['width'], s['height']) for s in d['svgs']) > 0)")" \
    "([], True, True)" "without preload: the page renders its charts without error"
  tap_like "$(sql "SELECT medianest_perf.report('text')")" 'medianest_perf is not in shared_preload_libraries' \
    "without preload: the text report says so too"
else
  skip 3 "the library cannot be loaded without shared_preload_libraries in this build"
fi
restart

psql -XAtq -d postgres -c "DROP DATABASE $DB" >/dev/null
tap_done
