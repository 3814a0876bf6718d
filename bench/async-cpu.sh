#!/bin/bash
# CPU per message of the sync and the _async calls, one connection, 1 KiB
# messages, against Postfix smtp-sink on loopback (issue 18: _async <= 1.2x
# sync). See bench/README.md, "CPU of the _async calls".
#
#   bench/async-cpu.sh [--reps N] LABEL=BUILD_DIR [LABEL=BUILD_DIR...]
#
# For each build, interleaved, REPS times: `msgobj-bench smtp` and
# `smtp-async` with 1 and 3001 messages under `perf stat -e
# task-clock,context-switches`; CPU per message is the difference over
# 3000 (start-up removed). Task-clock counts only this process's CPU, so
# other jobs on the machine change it less than wall time. Prints each
# run, then per build the median and the minimum, and the ratio async/sync.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPS=10
N=3001
PY=/usr/bin/python3
if [ "${1:-}" = --reps ]; then REPS=$2; shift 2; fi
[ $# -gt 0 ] || set -- "build=$SRC/_build"

WORK=$(mktemp -d)
SINK_PID=
cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

$PY "$SRC/bench/peers.py" mkmsg "$WORK" >/dev/null
rm -f "$WORK/big.eml" "$WORK/attach.bin"
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
/usr/sbin/smtp-sink -4 -c -a "${user[@]}" "127.0.0.1:$PORT" 1024 >"$WORK/sink.out" 2>&1 &
SINK_PID=$!
for _ in $(seq 100); do ss -ltnH "sport = :$PORT" | grep -q . && break; sleep 0.05; done

one() { # BUILD MODE N -> "task-clock-ms context-switches"
  MSGOBJ_TRANSPORT_PATH=$1/transports/smtp perf stat -x, -e task-clock,context-switches \
    -o "$WORK/stat" "$1/bench/msgobj-bench" "$2" "$PORT" "$3" "$WORK/msg-1k.eml" >/dev/null
  awk -F, '/task-clock/ { t = $1 } /context-switches/ { c = $1 } END { print t, c }' "$WORK/stat"
}

for r in $(seq "$REPS"); do
  for lb in "$@"; do
    for mode in smtp smtp-async; do
      read -r t1 c1 < <(one "${lb#*=}" "$mode" 1)
      read -r tn cn < <(one "${lb#*=}" "$mode" "$N")
      awk -v l="${lb%%=*}" -v m="$mode" -v a="$tn" -v b="$t1" -v c="$cn" -v d="$c1" -v n="$((N - 1))" \
        'BEGIN { printf "%s %s %.1f %.2f\n", l, m, (a - b) * 1000 / n, (c - d) / n }' | tee -a "$WORK/runs"
    done
  done
done

$PY - "$WORK/runs" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, mode, us, cs = line.split()
    runs.setdefault(label, {}).setdefault(mode, []).append((float(us), float(cs)))
print("build     sync µs/msg med (min)  async µs/msg med (min)  ratio med (min)  context switches/msg sync, async")
for label, modes in runs.items():
    s = [u for u, _ in modes["smtp"]]
    a = [u for u, _ in modes["smtp-async"]]
    print("%-9s %8.1f (%5.1f)          %8.1f (%5.1f)           %5.2f (%4.2f)     %.2f, %.2f" % (
        label, statistics.median(s), min(s), statistics.median(a), min(a),
        statistics.median(a) / statistics.median(s), min(a) / min(s),
        statistics.median(c for _, c in modes["smtp"]),
        statistics.median(c for _, c in modes["smtp-async"])))
PY
