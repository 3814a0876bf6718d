#!/usr/bin/env bash
# On a fresh Debian 12 machine: installs what the build needs, builds
# libmsgobj in _build, and sends one message through the default pickup
# transport with the msgobj command, printing the path of the .eml file.
set -euo pipefail
cd "$(dirname "$0")/.."

build-aux/install-deps.sh --build-only
if [ -f _build/build.ninja ]; then
  meson setup --reconfigure _build >/dev/null
else
  meson setup _build >/dev/null
fi
ninja -C _build >/dev/null

# The built tree's transports (smtp, nntp) for the command run from here.
export MSGOBJ_TRANSPORT_PATH="$PWD/_build/transports/smtp:$PWD/_build/transports/nntp"
_build/tools/msgobj send \
  --from "libmsgobj <bootstrap@example.org>" \
  --to "postmaster@example.org" \
  --subject "libmsgobj is built" \
  --text "This message was written by build-aux/bootstrap.sh through the pickup transport."
