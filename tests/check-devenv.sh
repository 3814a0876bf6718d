#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `meson devenv` gives a shell where C, Python and gjs find the uninstalled
# library, typelib and transports (README.md).
# Usage: check-devenv.sh BUILDDIR PYTHON
set -eu
build=$1
python=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/hello.c" <<'C'
#include <msgobj.h>

int
main (void)
{
  g_auto (GStrv) names = msg_transport_list_names ();
  g_autofree char *list = g_strjoinv (" ", names);

  g_print ("%s\n", list);
  return 0;
}
C

cat > "$tmp/check.sh" <<'SH'
set -eu
cc -o hello hello.c $(pkg-config --cflags --libs msgobj-1.0)
./hello | grep -qx "nntp pickup smtp"
"$1" -c 'import gi; gi.require_version("MsgObj", "1.0"); from gi.repository import MsgObj; assert "smtp" in MsgObj.Transport.list_names()'
if command -v gjs >/dev/null; then
  gjs -c 'imports.gi.versions.MsgObj = "1.0"; if (!imports.gi.MsgObj.Transport.list_names().includes("smtp")) imports.system.exit(1);'
fi
msgobj transports | grep -qx smtp
SH

# Outside the build's own test environment: only what devenv sets.
env -u GI_TYPELIB_PATH -u LD_LIBRARY_PATH -u MSGOBJ_TRANSPORT_PATH -u PKG_CONFIG_PATH \
  meson devenv -C "$build" -w "$tmp" sh check.sh "$python"
echo "meson devenv: C, Python and gjs find the uninstalled library"
