#!/usr/bin/env bash
# The out-of-tree sendmail transport (examples/sendmail-transport): built
# against the installed msgobj-1.0.pc alone (the build installed into a
# temporary prefix), installed into its transportdir, then loaded by name
# and tested with fake sendmail programs (tests/sendmail).
# Usage: check-sendmail-transport.sh BUILDDIR SRCDIR PYTHON
set -euo pipefail
build=$1
src=$2
python=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp/stage" --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | "$python" -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
pc=$(find "$tmp/stage" -name msgobj-1.0.pc | head -n1)
test -n "$pc"
mkdir "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$tmp/stage$prefix|" "$pc" >"$tmp/pkgconfig/msgobj-1.0.pc"
export PKG_CONFIG_PATH="$tmp/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
transportdir=$(pkg-config --variable=transportdir msgobj-1.0)

meson setup "$tmp/build" "$src/examples/sendmail-transport" >/dev/null
meson compile -C "$tmp/build" >/dev/null
meson install -C "$tmp/build" --quiet >/dev/null
test -f "$transportdir/libmsgobj-sendmail.so"

libdir=$(dirname "$(find "$tmp/stage" -name 'libmsgobj-1.0.so' | head -n1)")
typelibdir=$(dirname "$(find "$tmp/stage" -name 'MsgObj-1.0.typelib' | head -n1)")
env -u MSGOBJ_CONFIG MSGOBJ_TRANSPORT_PATH="$transportdir" LD_LIBRARY_PATH="$libdir" \
  GI_TYPELIB_PATH="$typelibdir" PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$src/tests" \
  "$python" -m pytest -v -p no:cacheprovider "$src/tests/sendmail"
