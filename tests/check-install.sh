#!/usr/bin/env bash
# Installs the build into a temporary prefix and builds examples/send.c
# against it with pkg-config alone, then runs it: the installed headers,
# pkg-config file, library and transport directory are complete.
set -euo pipefail
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
# Point our .pc file (only it) at the staged tree. pkg-config's
# --define-variable=prefix would apply to every package, gio-2.0 included,
# and send its include directory into the staged tree too.
pc=$(find "$tmp" -name msgobj-1.0.pc | head -n1)
test -n "$pc"
mkdir "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$tmp$prefix|" "$pc" >"$tmp/pkgconfig/msgobj-1.0.pc"
export PKG_CONFIG_PATH="$tmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# The valgrind suppressions for applications (docs/common-mistakes.md),
# in a form valgrind reads.
datadir=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="datadir"][0])')
case "$datadir" in /*) ;; *) datadir="$prefix/$datadir" ;; esac
supp="$tmp$datadir/msgobj/msgobj-app.supp"
test -f "$supp"
if command -v valgrind >/dev/null; then
  valgrind -q --suppressions="$supp" true
fi
flags=$(pkg-config --cflags --libs msgobj-1.0)
transportdir=$(pkg-config --variable=transportdir msgobj-1.0)
test -f "$transportdir/libmsgobj-smtp.so"
test -f "$transportdir/libmsgobj-nntp.so"
cc -o "$tmp/send" "$src/examples/send.c" $flags
libdir=$(dirname "$(find "$tmp" -name 'libmsgobj-1.0.so' | head -n1)")
out=$(env -u MSGOBJ_CONFIG XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" \
  LD_LIBRARY_PATH="$libdir" "$tmp/send" smtpserverpickupdirectory="$tmp")
case "$out" in
  "$tmp"/*.eml) echo "ok: $out" ;;
  *) echo "unexpected output: $out" >&2; exit 1 ;;
esac
