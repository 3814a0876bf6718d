#!/bin/sh
# Installs the real servers that the integration suite starts itself:
# Postfix's smtp-sink (Debian "postfix", with "No configuration", so no
# main.cf and no system MTA), aiosmtpd (Debian "python3-aiosmtpd") and Cyrus
# SASL for a private Postfix smtpd (Debian "sasl2-bin" for saslpasswd2 and
# "libsasl2-modules" for the mechanisms and sasldb).
#
# Idempotent: installs only what is missing, runs apt-get update at most once,
# and never lets packaging start a system service (a temporary policy-rc.d
# that answers 101 is put in place when the system has none). Needs root.
set -eu

missing=
[ -x /usr/sbin/smtp-sink ] || missing="$missing postfix"
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing="$missing python3-aiosmtpd"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
[ -x /usr/sbin/saslpasswd2 ] || missing="$missing sasl2-bin"
ls /usr/lib/*/sasl2/libsasldb.so >/dev/null 2>&1 || missing="$missing libsasl2-modules"

if [ -z "$missing" ]; then
    echo "install-servers: smtp-sink, aiosmtpd, openssl and Cyrus SASL are present"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "install-servers: need root to install:$missing" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
    own_policy=yes
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
    trap 'exit 1' INT TERM
fi

echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections

export DEBIAN_FRONTEND=noninteractive
apt-get update
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y --no-install-recommends $missing

[ -x /usr/sbin/smtp-sink ] || { echo "install-servers: smtp-sink still missing" >&2; exit 1; }
/usr/bin/python3 -c 'import aiosmtpd' || { echo "install-servers: aiosmtpd still missing" >&2; exit 1; }
[ -x /usr/sbin/saslpasswd2 ] || { echo "install-servers: saslpasswd2 still missing" >&2; exit 1; }
echo "install-servers: installed:$missing${own_policy:+ (services kept from starting)}"
