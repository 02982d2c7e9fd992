#!/usr/bin/env bash
# Install what `make test` and `make demo` need, only if something is missing.
# Debian 12, run as root (CI runs as root with no terminal).
set -euo pipefail

packages=(
  build-essential
  postgresql-15
  postgresql-server-dev-15
  postgresql-15-pgtap
  libtap-parser-sourcehandler-pgtap-perl
  libkrb5-dev
  sqlsmith
  python3
  chromium
  fonts-dejavu-core
)
# Extra packages a caller may ask for (benchmarks, soak tests).
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]}; run as root or install them first" >&2
  exit 1
fi

echo "==> installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Keep the Debian package from creating and starting its default cluster:
# every server here is a scratch one started by our own scripts.
mkdir -p /etc/postgresql-common/createcluster.d
if [ ! -f /etc/postgresql-common/createcluster.d/50-medianest-nocluster.conf ]; then
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/50-medianest-nocluster.conf
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
