#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing libmsgobj need,
# only those that are missing (apt-get update first). The real servers of
# the integration suite come from tests/integration/install-servers.sh
# (smtp-sink, aiosmtpd) and install-inn.sh (INN), which never let the
# packaging start a system server. Needs root only when something is
# missing. CI (.ci/run) runs it before build-aux/run-tests.sh.
#
# Usage: install-deps.sh [--build-only] [--check]
#   --build-only  only what building needs (no test tools, no servers)
#   --check       install nothing: list what is missing and fail if
#                 anything is (build-aux/run-tests.sh runs this)
set -euo pipefail
cd "$(dirname "$0")/.."

build_only=0
check=0
for arg in "$@"; do
  case $arg in
    --build-only) build_only=1 ;;
    --check) check=1 ;;
    *)
      echo "usage: $0 [--build-only] [--check]" >&2
      exit 2
      ;;
  esac
done

want=(
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgmime-3.0-dev glib-networking
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 valac
  python3-gi
  libsoup-3.0-dev libgsasl-dev libopendkim-dev libgpgme-dev libgnutls28-dev
)
# The test tools; the servers are checked here but installed by their own
# scripts below.
[ "$build_only" = 1 ] || want+=(python3-pytest libpython3.11-testsuite gjs gi-docgen openssl valgrind clang-format git
                                python3-dkim opendkim-tools gpgsm gnupg
                                postfix python3-aiosmtpd inn2)

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if [ "$check" = 1 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing Debian packages: ${missing[*]}" >&2
    echo "install them with build-aux/install-deps.sh (as root)" >&2
    exit 1
  fi
  exit 0
fi

servers=(postfix python3-aiosmtpd inn2)
apt_missing=()
for p in "${missing[@]}"; do
  case " ${servers[*]} " in
    *" $p "*) ;;
    *) apt_missing+=("$p") ;;
  esac
done

if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages (${apt_missing[*]}): run as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_missing[@]}"
fi

if [ "$build_only" != 1 ]; then
  # smtp-sink's postfix first: inn2 then finds an MTA and pulls in no exim4.
  tests/integration/install-servers.sh
  tests/integration/install-inn.sh
fi
