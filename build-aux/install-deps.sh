#!/usr/bin/env bash
# Installs the Debian 12 packages that building and testing libmsgobj need,
# only those that are missing. Never lets packaging start a system server
# (the tests start their own Postfix smtp-sink, aiosmtpd and INN on
# 127.0.0.1). Usage: build-aux/install-deps.sh [--build-only]
set -euo pipefail

build=(
  meson ninja-build pkg-config gcc libc6-dev
  libglib2.0-dev libgmime-3.0-dev glib-networking
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0 valac
  python3-gi python3-pytest
)
tests=(
  openssl valgrind clang-format procps iproute2
  postfix python3-aiosmtpd inn2
)

want=("${build[@]}")
[ "${1:-}" = "--build-only" ] || want+=("${tests[@]}")

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    exec sudo "$0" "$@"
  fi
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# No daemon may start from packaging: a system innd on *:119 or a Postfix
# on *:25 is not ours to run.
own_policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  own_policy=1
fi
trap '[ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d' EXIT

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# inn2's postinst needs a domain and a usenet alias on a host without an
# FQDN or a Postfix configuration (see shared research, env.md).
if printf '%s\n' "${missing[@]}" | grep -qx inn2; then
  mkdir -p /etc/news
  grep -q '^usenet:' /etc/aliases 2>/dev/null || echo 'usenet: root' >>/etc/aliases
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" || {
  # The postinst of inn2 fails once when inn.conf has no domain: set it
  # and finish configuring.
  if [ -f /etc/news/inn.conf ]; then
    sed -i 's/^#\{0,1\}domain:.*/domain:                      localdomain/' /etc/news/inn.conf
  fi
  dpkg --configure -a
}
if [ -f /etc/news/inn.conf ] && ! grep -q '^domain: *[a-z]' /etc/news/inn.conf; then
  sed -i 's/^#\{0,1\}domain:.*/domain:                      localdomain/' /etc/news/inn.conf
  dpkg --configure -a
fi
