#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing libmsgobj need,
# only those that are missing (apt-get update first). The real servers of
# the integration suite come from tests/integration/install-servers.sh
# (smtp-sink, aiosmtpd) and install-inn.sh (INN), which never let the
# packaging start a system server. Usage: install-deps.sh [--build-only]
set -euo pipefail
cd "$(dirname "$0")/.."

want=(
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgmime-3.0-dev glib-networking
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 valac
  python3-gi
)
[ "${1:-}" = "--build-only" ] || want+=(python3-pytest gjs gi-docgen openssl valgrind clang-format git)

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages (${missing[*]}): run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" != "--build-only" ]; then
  # smtp-sink's postfix first: inn2 then finds an MTA and pulls in no exim4.
  tests/integration/install-servers.sh
  tests/integration/install-inn.sh
fi
