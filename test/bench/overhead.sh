#!/usr/bin/env bash
# Hook overhead of medianest_perf, measured two ways (prints figures, asserts
# nothing):
#
#  1. Instructions per statement (deterministic): valgrind --tool=callgrind
#     around a single-user backend (postgres --single) fed N1 and then N2
#     primary-key lookups; per statement = (Ir(N2) - Ir(N1)) / (N2 - N1).
#     Variants: no extension, pg_stat_statements, medianest_perf (default
#     settings: statistics + slow-query capture armed at 1000 ms), and
#     medianest_perf with slow-query capture off, each in simple
#     (SELECT ... WHERE aid = k) and prepared (EXECUTE q(k)) form.
#
#  2. Server CPU per transaction (wall-clock independent): pgbench -S
#     -M prepared, one client, against three clusters (none,
#     pg_stat_statements, medianest_perf) in interleaved rounds; the CPU is
#     read from the postmaster's accumulated child CPU time
#     (/proc/PID/stat cutime + cstime) before and after each round.
#     Medians over the rounds.
#
# Usage: test/bench/overhead.sh           (as root; installs what is missing)
#   N1, N2           statements per callgrind run (default 1000, 6000)
#   ROUNDS, TXNS     pgbench rounds and transactions per round (5, 20000)
#   SKIP_CALLGRIND=1 / SKIP_PGBENCH=1 to run one part only
#   EXTRA_VARIANTS   extra "name|postgres -c options" callgrind variants,
#                    separated by ';'
set -euo pipefail
cd "$(dirname "$0")/../.."
MNP_ROOT=$(pwd)
. test/lib.sh

N1=${N1:-1000}
N2=${N2:-6000}
ROUNDS=${ROUNDS:-5}
TXNS=${TXNS:-20000}

bash test/install_deps.sh valgrind
mnp_build_install

WORK=$(mktemp -d /tmp/mnp-bench.XXXXXX)
chown postgres: "$WORK"
CLUSTERS=()
cleanup() {
  for d in "${CLUSTERS[@]}"; do
    mnp_as_postgres "$MNP_PGBIN/pg_ctl" -D "$d" -m fast -w stop >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# ---------------------------------------------------------------------------
# 1. callgrind
# ---------------------------------------------------------------------------
if [ "${SKIP_CALLGRIND:-0}" != 1 ]; then
  mnp_log "callgrind: preparing a single-user data directory"
  SD="$WORK/single"
  mnp_as_postgres "$MNP_PGBIN/initdb" -D "$SD" -A trust -U postgres --no-sync >/dev/null
  printf '%s\n' \
    "CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));" \
    "INSERT INTO accounts SELECT g, g % 10, 0, '' FROM generate_series(1, 100000) g;" \
    "VACUUM ANALYZE accounts;" |
    mnp_as_postgres "$MNP_PGBIN/postgres" --single -D "$SD" postgres >/dev/null

  # gen FORM N: a single-user script of N lookups
  gen() {
    local form=$1 n=$2 f="$WORK/$1-$2.sql"
    if [ "$form" = simple ]; then
      awk -v n="$n" 'BEGIN { srand(42); for (i = 0; i < n; i++) printf "SELECT abalance FROM accounts WHERE aid = %d;\n", 1 + int(rand() * 100000) }' > "$f"
    else
      { echo "PREPARE q(int) AS SELECT abalance FROM accounts WHERE aid = \$1;"
        awk -v n="$n" 'BEGIN { srand(42); for (i = 0; i < n; i++) printf "EXECUTE q(%d);\n", 1 + int(rand() * 100000) }'; } > "$f"
    fi
    chmod a+r "$f"
    echo "$f"
  }

  # ir OPTIONS SCRIPT: total instructions of one single-user run
  ir() {
    local opts=$1 script=$2 out="$WORK/cg.$$.$RANDOM"
    # shellcheck disable=SC2086
    mnp_as_postgres valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$MNP_PGBIN/postgres" --single -D "$SD" $opts postgres < "$script" >/dev/null 2>&1
    awk '/^(summary|totals):/ { print $2; exit }' "$out"
    rm -f "$out"
  }

  VARIANTS=(
    "none|-c shared_preload_libraries="
    "pg_stat_statements|-c shared_preload_libraries=pg_stat_statements"
    "medianest_perf|-c shared_preload_libraries=medianest_perf -c medianest_perf.save=off"
    "medianest_perf (slow capture off)|-c shared_preload_libraries=medianest_perf -c medianest_perf.save=off -c medianest_perf.slow_query_ms=0 -c medianest_perf.critical_query_ms=0"
  )
  if [ -n "${EXTRA_VARIANTS:-}" ]; then
    IFS=';' read -r -a extra <<<"$EXTRA_VARIANTS"
    VARIANTS+=("${extra[@]}")
  fi

  declare -A PER
  for form in simple prepared; do
    s1=$(gen $form $N1); s2=$(gen $form $N2)
    for v in "${VARIANTS[@]}"; do
      name=${v%%|*}; opts=${v#*|}
      mnp_log "callgrind: $form / $name"
      a=$(ir "$opts" "$s1"); b=$(ir "$opts" "$s2")
      PER["$form|$name"]=$(awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" 'BEGIN { printf "%.0f", (b - a) / (n2 - n1) }')
    done
  done

  echo
  echo "Instructions per primary-key lookup (callgrind, postgres --single, N1=$N1, N2=$N2)"
  printf '%-40s %14s %10s %14s %10s\n' variant "simple Ir" "added" "prepared Ir" "added"
  for v in "${VARIANTS[@]}"; do
    name=${v%%|*}
    s=${PER["simple|$name"]}; p=${PER["prepared|$name"]}
    s0=${PER["simple|none"]}; p0=${PER["prepared|none"]}
    printf '%-40s %14s %9.2f%% %14s %9.2f%%\n' "$name" "$s" \
      "$(awk -v a="$s" -v b="$s0" 'BEGIN { print (a - b) * 100 / b }')" "$p" \
      "$(awk -v a="$p" -v b="$p0" 'BEGIN { print (a - b) * 100 / b }')"
  done
fi

# ---------------------------------------------------------------------------
# 2. pgbench, server CPU per transaction
# ---------------------------------------------------------------------------
if [ "${SKIP_PGBENCH:-0}" != 1 ]; then
  declare -A PORT DATA
  for v in none pg_stat_statements medianest_perf; do
    dir="$WORK/pgb-$v"
    preload=$v; [ "$v" = none ] && preload=""
    mkdir -p "$dir"; chown postgres: "$dir"
    mnp_as_postgres "$MNP_PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    port=$(mnp_free_port)
    {
      echo "port = $port"
      echo "listen_addresses = ''"
      echo "unix_socket_directories = '$dir'"
      echo "shared_preload_libraries = '$preload'"
      echo "fsync = off"
      echo "medianest_perf.save = off"
    } | mnp_as_postgres tee -a "$dir/data/postgresql.conf" >/dev/null
    mnp_as_postgres "$MNP_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
    CLUSTERS+=("$dir/data")
    PORT[$v]=$port; DATA[$v]=$dir
    "$MNP_PGBIN/pgbench" -h "$dir" -p "$port" -U postgres -i -s 10 -q postgres >/dev/null 2>&1
  done

  # child CPU seconds of a postmaster (reaped backends), from /proc
  child_cpu() {
    local pid
    pid=$(head -1 "$1/data/postmaster.pid")
    awk -v hz="$(getconf CLK_TCK)" '{ print ($16 + $17) / hz }' "/proc/$pid/stat"
  }

  declare -A CPU
  for r in $(seq 1 "$ROUNDS"); do
    for v in none pg_stat_statements medianest_perf; do
      dir=${DATA[$v]}
      before=$(child_cpu "$dir")
      "$MNP_PGBIN/pgbench" -h "$dir" -p "${PORT[$v]}" -U postgres -S -M prepared -c 1 -t "$TXNS" -n postgres >/dev/null 2>&1
      sleep 0.5	# let the postmaster reap the backend
      after=$(child_cpu "$dir")
      us=$(awk -v a="$after" -v b="$before" -v t="$TXNS" 'BEGIN { printf "%.3f", (a - b) * 1e6 / t }')
      CPU[$v]="${CPU[$v]:-} $us"
      mnp_log "pgbench round $r / $v: $us us server CPU per transaction"
    done
  done

  echo
  echo "Server CPU per transaction, pgbench -S -M prepared -c 1 -t $TXNS, $ROUNDS interleaved rounds (median)"
  base=$(echo ${CPU[none]} | tr ' ' '\n' | median)
  printf '%-22s %12s %10s   %s\n' variant "us/txn" "vs none" "rounds"
  for v in none pg_stat_statements medianest_perf; do
    m=$(echo ${CPU[$v]} | tr ' ' '\n' | median)
    printf '%-22s %12.3f %9.2f%%   %s\n' "$v" "$m" \
      "$(awk -v a="$m" -v b="$base" 'BEGIN { print (a - b) * 100 / b }')" "${CPU[$v]# }"
  done
fi
