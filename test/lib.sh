# Shared shell helpers for the test, demo and benchmark scripts.
# Source it; it defines functions and never starts anything by itself.
#
# Servers always run as the postgres user, in a directory that user owns, on
# a free port, and are stopped by data directory (pg_ctl stop -D).
#
# MNP_SANDBOX=DIR installs the extension into a private copy of the
# PostgreSQL tree under DIR instead of the system one, so that several
# checkouts can be tested side by side on one machine.

MNP_ROOT=${MNP_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}

mnp_log() { printf '==> %s\n' "$*" >&2; }

# Build (warnings are errors) and install; sets MNP_PGBIN.
mnp_build_install() {
  local sysbin
  sysbin=$(pg_config --bindir)
  make -C "$MNP_ROOT" -s -j2 >/dev/null
  if [ -n "${MNP_SANDBOX:-}" ]; then
    local pgver tree
    pgver=$(basename "$(dirname "$sysbin")")
    tree="$MNP_SANDBOX/usr/lib/postgresql/$pgver"
    if [ ! -x "$tree/bin/postgres" ]; then
      mkdir -p "$tree" "$MNP_SANDBOX/usr/share/postgresql"
      cp -a "$sysbin" "$(pg_config --pkglibdir)" "$tree/"
      cp -a "$(pg_config --sharedir)" "$MNP_SANDBOX/usr/share/postgresql/"
      chmod -R a+rX "$MNP_SANDBOX"
    fi
    make -C "$MNP_ROOT" -s install DESTDIR="$MNP_SANDBOX" >/dev/null
    MNP_PGBIN="$tree/bin"
  else
    make -C "$MNP_ROOT" -s install >/dev/null
    MNP_PGBIN="$sysbin"
  fi
  export MNP_PGBIN
}

# Print a TCP port on 127.0.0.1 that nothing listens on.
mnp_free_port() {
  local p tries=0
  while [ $tries -lt 200 ]; do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
    tries=$((tries + 1))
  done
  echo "no free port found" >&2
  return 1
}

mnp_as_postgres() { runuser -u postgres -- "$@"; }

# mnp_cluster_init DIR [extra postgresql.conf lines...]
# Creates DIR (owned by postgres) holding data/, sock/ and server.log,
# and exports MNP_PGDATA, MNP_PORT, MNP_SOCKDIR, MNP_LOG, PGHOST, PGPORT, PGUSER.
mnp_cluster_init() {
  local dir=$1; shift
  mkdir -p "$dir"
  chown postgres: "$dir"
  chmod 755 "$dir"
  MNP_PGDATA="$dir/data"
  MNP_SOCKDIR="$dir/sock"
  MNP_LOG="$dir/server.log"
  MNP_PORT=$(mnp_free_port)
  mnp_as_postgres mkdir -p "$MNP_SOCKDIR"
  mnp_as_postgres "$MNP_PGBIN/initdb" -D "$MNP_PGDATA" -A trust -U postgres \
    --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2; return 1; }
  {
    echo "port = $MNP_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$MNP_SOCKDIR'"
    echo "shared_preload_libraries = 'medianest_perf'"
    echo "fsync = off"
    echo "max_connections = 120"
    echo "lc_messages = 'C'"
    for line in "$@"; do echo "$line"; done
  } | mnp_as_postgres tee -a "$MNP_PGDATA/postgresql.conf" >/dev/null
  export MNP_PGDATA MNP_SOCKDIR MNP_LOG MNP_PORT
  export PGHOST="$MNP_SOCKDIR" PGPORT="$MNP_PORT" PGUSER=postgres
}

# mnp_pg_ctl ARGS...: pg_ctl on the current cluster, as postgres.
mnp_pg_ctl() {
  mnp_as_postgres "$MNP_PGBIN/pg_ctl" -D "$MNP_PGDATA" -l "$MNP_LOG" -w -t 120 "$@"
}

mnp_cluster_start() { mnp_pg_ctl start >/dev/null; }

# Stop the cluster by its data directory, if it is running.
mnp_cluster_stop() {
  if [ -n "${MNP_PGDATA:-}" ] && [ -f "$MNP_PGDATA/postmaster.pid" ]; then
    mnp_as_postgres "$MNP_PGBIN/pg_ctl" -D "$MNP_PGDATA" -m fast -w -t 120 stop >/dev/null 2>&1 || true
  fi
}

# --- minimal TAP producer for test/scripts/*.sh ---------------------------
TAP_N=0
TAP_FAILED=0
# tap_is GOT WANT DESCRIPTION
tap_is() {
  TAP_N=$((TAP_N + 1))
  if [ "$1" = "$2" ]; then
    echo "ok $TAP_N - $3"
  else
    echo "not ok $TAP_N - $3"
    printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}
tap_like() {	# tap_like GOT REGEX DESCRIPTION
  TAP_N=$((TAP_N + 1))
  if printf '%s' "$1" | grep -Eq -- "$2"; then
    echo "ok $TAP_N - $3"
  else
    echo "not ok $TAP_N - $3"
    printf '#   got:  %s\n#   want match: %s\n' "$1" "$2"
    TAP_FAILED=$((TAP_FAILED + 1))
  fi
}
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }

# q DB SQL: one value, unaligned, errors to stdout
q() { psql -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2" 2>&1; }
