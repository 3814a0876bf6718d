#!/bin/sh
# Installs INN 2.7 (Debian's inn2) for the integration suite, without ever
# letting the packaging start a system news server: the tests run their own
# private instance on 127.0.0.1 (tests/integration/inn_server.py).
#
# Idempotent: does nothing when inn2 is already installed and configured.
# Run as root (CI calls it before the tests).
set -eu

INNBIN=/usr/lib/news/bin

installed () {
    [ "$(dpkg-query -W -f='${Status}' inn2 2>/dev/null)" = "install ok installed" ] &&
        [ -x "$INNBIN/innd" ]
}

if installed; then
    echo "install-inn: inn2 is already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-inn: inn2 is missing and installing it needs root" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT="apt-get -y -q --no-install-recommends -o DPkg::Lock::Timeout=600"

# invoke-rc.d asks policy-rc.d before starting a service; 101 means "no".
# Keep one that already refuses (as on this project's CI image); otherwise
# put ours in place for the duration of the install.
POLICY=/usr/sbin/policy-rc.d
SAVED=""
OURS=""
rc=0
if [ -x "$POLICY" ]; then
    "$POLICY" inn2 start >/dev/null 2>&1 || rc=$?
fi
if [ ! -x "$POLICY" ] || [ "$rc" -ne 101 ]; then
    if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
        SAVED="$POLICY.msgobj-saved.$$"
        mv "$POLICY" "$SAVED"
    fi
    OURS=yes
    printf '#!/bin/sh\n# Installed by msgobj install-inn.sh while installing inn2.\nexit 101\n' >"$POLICY"
    chmod 0755 "$POLICY"
fi
restore_policy () {
    if [ -n "$OURS" ]; then
        rm -f "$POLICY"
        if [ -n "$SAVED" ]; then
            mv "$SAVED" "$POLICY"
        fi
    fi
}
trap restore_policy EXIT
trap 'exit 1' INT TERM HUP

# Daemons the packages could start (inn2 pulls in cron): note which run now.
running () { # PIDFILE NAME: prints the PID if that process runs
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$2"; then
        echo "$pid"
    fi
}
BEFORE_INND=$(running /run/news/innd.pid innd)
BEFORE_CRON=$(running /run/crond.pid cron)

# The postinst runs newaliases to add a "usenet" alias, which fails when
# postfix has no main.cf ("No configuration"); with the alias present it
# skips that step.
grep -q '^usenet:' /etc/aliases 2>/dev/null || echo 'usenet: root' >>/etc/aliases

# inn2 depends on default-mta | mail-transport-agent: without an MTA, apt
# would pull in exim4. Postfix with "No configuration" runs nothing.
PKGS=inn2
if ! dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null |
        grep -q '^ii .*mail-transport-agent'; then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    PKGS="$PKGS postfix"
fi

# Once per run of this script, and only because something is missing.
$APT update
# The first configure fails on a host name without a domain ("hostname
# does not resolve or domain not set in inn.conf"); fix inn.conf and finish.
# shellcheck disable=SC2086 # $APT and $PKGS are word lists
if ! $APT install $PKGS; then
    echo "install-inn: finishing inn2's configuration (domain in inn.conf)" >&2
fi
if [ -f /etc/news/inn.conf ] && ! grep -q '^domain:[[:space:]]*[^[:space:]]' /etc/news/inn.conf; then
    sed -i 's/^#\{0,1\}domain:.*/domain:                      localdomain/' /etc/news/inn.conf
    grep -q '^domain:' /etc/news/inn.conf ||
        echo 'domain:                      localdomain' >>/etc/news/inn.conf
fi
dpkg --configure -a

# Nothing should be running (policy-rc.d said no); if a daemon came up
# anyway, stop it by the PID in its pid file, and disable inn2's init script.
for spec in /run/news/innd.pid:innd:"$BEFORE_INND" /run/crond.pid:cron:"$BEFORE_CRON"; do
    pidfile=${spec%%:*}
    rest=${spec#*:}
    name=${rest%%:*}
    before=${rest#*:}
    pid=$(running "$pidfile" "$name")
    if [ -n "$pid" ] && [ "$pid" != "$before" ]; then
        echo "install-inn: stopping $name (pid $pid), started by the packaging" >&2
        kill "$pid" 2>/dev/null || true
    fi
done
if command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d inn2 disable >/dev/null 2>&1 || true
fi

if ! installed; then
    echo "install-inn: inn2 is still not installed" >&2
    exit 1
fi
echo "install-inn: inn2 $(dpkg-query -W -f='${Version}' inn2) installed"
