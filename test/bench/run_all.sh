#!/usr/bin/env bash
# Run every benchmark of test/bench/ one after the other and print one
# summary of their figures at the end.  Each benchmark prints measured
# figures and asserts nothing; the full output of each is kept in
# $OUT (default: a new directory under /tmp) for reference.
#
#   BLOAT_MB   table size for bloat_accuracy.sh (default 256; 1024 for the
#              1 GB figure of the README)
#   SKIP       space-separated benchmark names to leave out, e.g.
#              SKIP="soak index_usage"
#
# soak.sh is not run by default (it takes more than ten minutes); add
# RUN_SOAK=1 to include it.
set -uo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-$(mktemp -d /tmp/mnp-bench-all.XXXXXX)}
BLOAT_MB=${BLOAT_MB:-256}
SKIP=${SKIP:-}
RUN_SOAK=${RUN_SOAK:-0}

declare -a ORDER=(overhead nplus1_accuracy bloat_accuracy advisor_quality index_usage)
[ "$RUN_SOAK" = 1 ] && ORDER+=(soak)
declare -A STATUS SECS

for b in "${ORDER[@]}"; do
  case " $SKIP " in *" $b "*) STATUS[$b]=skipped; continue ;; esac
  echo "==> $b (output in $OUT/$b.txt)"
  start=$(date +%s)
  if [ "$b" = bloat_accuracy ]; then
    bash "test/bench/$b.sh" "$BLOAT_MB" > "$OUT/$b.txt" 2>&1
  else
    bash "test/bench/$b.sh" > "$OUT/$b.txt" 2>&1
  fi
  rc=$?
  SECS[$b]=$(( $(date +%s) - start ))
  STATUS[$b]=$([ $rc -eq 0 ] && echo ok || echo "exit $rc")
done

echo
echo "================ summary ================"
for b in "${ORDER[@]}"; do
  printf '\n--- %s: %s' "$b" "${STATUS[$b]}"
  [ -n "${SECS[$b]:-}" ] && printf ' (%ss)' "${SECS[$b]}"
  echo
  [ "${STATUS[$b]}" = skipped ] && continue
  f="$OUT/$b.txt"
  case $b in
    overhead)
      # the two result tables
      sed -n '/^Instructions per primary-key lookup/,/^$/p;/^Server CPU per transaction/,$p' "$f" | grep -v '^==>' ;;
    nplus1_accuracy)
      sed -n '/accuracy on/,$p' "$f" ;;
    bloat_accuracy|advisor_quality|index_usage)
      # everything after the last progress line
      grep -v '^==>\|^NOTICE\|^LOG\|^[0-9-]* [0-9:.]* UTC' "$f" | tail -40 ;;
    soak)
      grep -E '^(   |ok |not ok|1\.\.)' "$f" | tail -20 ;;
  esac
done
echo
echo "full outputs: $OUT"
