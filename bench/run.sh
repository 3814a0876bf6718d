#!/bin/bash
# libmsgobj against peer clients on loopback, in one run, on the same servers.
# See bench/README.md for what each row means.
#
#   bench/run.sh [--build DIR] [--reps N] [--no-big] [--no-nntp] [--no-cancel] [--no-dkim]
#                [--no-latency] [--no-chunking] [--no-tls]
#
# Starts its own Postfix smtp-sink (-c -a, counting), stunnel in front of
# it for the TLS rows and, when INN 2.7 is installed and we are root, a
# private innd, all on free 127.0.0.1 ports; stops them by PID. Installs
# msmtp, curl, swaks and stunnel4 with apt-get only if they are missing
# (as root). Exits non-zero if a server's counters show a
# lost message, a client failed, or a cancellation left a socket open.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$SRC/_build
REPS=5
DO_BIG=1
DO_NNTP=1
DO_CANCEL=1
DO_DKIM=1
DO_LATENCY=1
DO_CHUNKING=1
DO_TLS=1
N_LAT=100             # 1 KiB messages over one connection through the delay proxy
DELAY_MS=20           # added by bench/delay-proxy.py in each direction
QUEUE_DEPTH=8         # sends queued at a time in the pipelined latency row
N_FLUSH=200           # messages of the msgobj flush rows through the delay proxy
N_SMTP=1000           # 1 KiB messages over one connection
N_PROC=25             # messages for the one-process-per-message clients
N_NNTP=2000          # 1 KiB articles over one connection
CANCEL_REPS=10        # per stage, sync and async each
TIMEOUT_REPS=3        # per stage, sync and async each
TIMEOUT=0.2           # smtpconnectiontimeout for the time-out rows
PY=/usr/bin/python3

while [ $# -gt 0 ]; do
  case $1 in
    --build) BUILD=$(cd "$2" && pwd); shift 2 ;;
    --reps) REPS=$2; shift 2 ;;
    --no-big) DO_BIG=0; shift ;;
    --no-nntp) DO_NNTP=0; shift ;;
    --no-cancel) DO_CANCEL=0; shift ;;
    --no-dkim) DO_DKIM=0; shift ;;
    --no-latency) DO_LATENCY=0; shift ;;
    --no-chunking) DO_CHUNKING=0; shift ;;
    --no-tls) DO_TLS=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

BENCH=$BUILD/bench/msgobj-bench
FLOOR=$BUILD/bench/msgobj-floor
[ -x "$BENCH" ] || { echo "run.sh: $BENCH not built (ninja -C $BUILD)" >&2; exit 2; }
export MSGOBJ_TRANSPORT_PATH=$BUILD/transports/smtp:$BUILD/transports/nntp
export LC_ALL=C

SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source
INNBIN=/usr/lib/news/bin

# --- tools -------------------------------------------------------------------

need=()
command -v msmtp >/dev/null || need+=(msmtp)
command -v curl >/dev/null || need+=(curl)
command -v swaks >/dev/null || need+=(swaks)
command -v stunnel4 >/dev/null || need+=(stunnel4)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "run.sh: installing ${need[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >&2
  else
    echo "run.sh: missing ${need[*]} (not root: skipping those rows)" >&2
  fi
fi
[ -x "$SINK" ] || { echo "run.sh: $SINK missing: apt-get install postfix" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time missing" >&2; exit 2; }

WORK=$(mktemp -d /tmp/msgobj-bench.XXXXXX)
chmod 755 "$WORK"   # innd runs as news and must reach its directory
SINK_PID=
INN_PID=
INN_DIR=
STALL_PID=
PROXY_PID=
STUNNEL_PID=
CHUNK_PID=
FAILED=0

cleanup() {
  set +e
  [ -n "$STALL_PID" ] && kill "$STALL_PID" 2>/dev/null && wait "$STALL_PID" 2>/dev/null
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  [ -n "$STUNNEL_PID" ] && kill "$STUNNEL_PID" 2>/dev/null && wait "$STUNNEL_PID" 2>/dev/null
  [ -n "$CHUNK_PID" ] && kill "$CHUNK_PID" 2>/dev/null && wait "$CHUNK_PID" 2>/dev/null
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  [ -n "$INN_PID" ] && stop_inn
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "run.sh: FAILED: $*" >&2
  FAILED=1
}

free_port() {
  $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Readiness without connecting (a probe connection would count as a session).
wait_listen() {
  local port=$1 pid=$2 i
  for i in $(seq 200); do
    ss -ltnH "sport = :$port" | grep -q . && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

now_ns() { date +%s%N; }

# --- smtp-sink -----------------------------------------------------------------

start_sink() {
  local _
  for _ in 1 2 3; do
    SINK_PORT=$(free_port)
    # -c: counters on stdout; -a: no AUTH (its AUTH is fake); as root it
    # must be told which user to switch to.
    local user=()
    [ "$(id -u)" = 0 ] && user=(-u nobody)
    "$SINK" -4 -c -a "${user[@]}" "127.0.0.1:$SINK_PORT" 1024 >"$WORK/sink.out" 2>&1 &
    SINK_PID=$!
    wait_listen "$SINK_PORT" "$SINK_PID" && return 0
    kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=
  done
  echo "run.sh: smtp-sink did not start: $(cat "$WORK/sink.out")" >&2
  exit 1
}

# The sink's last "sess=N quit=N mesg=N" (its lines end in \r).
sink_count() {
  local line
  line=$(tr '\r' '\n' <"$WORK/sink.out" | grep '^sess=' | tail -n 1)
  [ -n "$line" ] || line="sess=0 quit=0 mesg=0"
  echo "$line"
}
sink_field() { sink_count | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# --- INN -------------------------------------------------------------------------

inn_conf_set() {
  local file=$1 key=$2 value=$3
  if grep -Eq "^#?[[:space:]]*$key:" "$file"; then
    sed -i -E "s|^#?[[:space:]]*$key:.*|$key: $value|" "$file"
  else
    echo "$key: $value" >>"$file"
  fi
}

as_news() {
  setpriv --reuid=news --regid=news --init-groups env INNCONF="$INN_DIR/etc/inn.conf" "$@"
}

start_inn() {
  local d=$WORK/inn kv
  INN_DIR=$d
  mkdir -p "$d"/{etc,db,run,log,http} \
    "$d"/spool/{articles,overview,incoming/tmp,incoming/bad,outgoing,archive}
  cp -a /etc/news/. "$d/etc/"
  local conf=$d/etc/inn.conf
  for kv in pathdb=db pathetc=etc pathrun=run pathlog=log pathhttp=http pathspool=spool \
      patharticles=spool/articles pathoverview=spool/overview pathincoming=spool/incoming \
      pathtmp=spool/incoming/tmp pathoutgoing=spool/outgoing patharchive=spool/archive; do
    inn_conf_set "$conf" "${kv%%=*}" "$d/${kv#*=}"
  done
  inn_conf_set "$conf" bindaddress 127.0.0.1
  inn_conf_set "$conf" domain localdomain
  inn_conf_set "$conf" pathhost inn.localdomain
  inn_conf_set "$conf" pathfilter /etc/news/filter
  inn_conf_set "$conf" nnrpdloadlimit 0   # the load average is high on a shared machine
  sed -i -E '/^#?[[:space:]]*bindaddress6:/d' "$conf"
  grep -v '^local\.' /usr/lib/news/examples/active >"$d/db/active"
  grep -v '^local\.' /usr/lib/news/examples/newsgroups >"$d/db/newsgroups"
  : >"$d/db/active.times"
  : >"$d/db/history"
  # No "peer ME": every local connection is a reader's and may POST at once.
  printf 'streaming: true\nmax-connections: 8\n' >"$d/etc/incoming.conf"
  cat >"$d/etc/readers.conf" <<'EOF'
auth "localhost" {
  hosts: "localhost, 127.0.0.1, ::1, stdin"
  default: "<localhost>"
}
access "localhost" {
  users: "<localhost>"
  newsgroups: "*"
  access: RPA
}
EOF
  chown news:news "$d"
  chown -R news:news "$d"/{db,run,log,http,spool}
  as_news "$INNBIN/makedbz" -i -o >"$d/log/makedbz.out" 2>&1 || return 1
  for _ in 1 2 3; do
    INN_PORT=$(free_port)
    inn_conf_set "$conf" port "$INN_PORT"
    inn_conf_set "$conf" nnrpdpostport "$INN_PORT"
    # setpriv execs: $! is innd itself.
    as_news "$INNBIN/innd" -d -f >"$d/log/innd.out" 2>&1 </dev/null &
    INN_PID=$!
    if wait_listen "$INN_PORT" "$INN_PID"; then
      as_news "$INNBIN/ctlinnd" -s newgroup local.bench y >/dev/null && return 0
    fi
    stop_inn
  done
  return 1
}

stop_inn() {
  local pid i
  as_news "$INNBIN/ctlinnd" -s shutdown "bench done" >/dev/null 2>&1 || true
  for i in $(seq 100); do
    kill -0 "$INN_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$INN_PID" 2>/dev/null && kill "$INN_PID" 2>/dev/null
  wait "$INN_PID" 2>/dev/null || true
  # nnrpd processes of this instance only: they carry our INNCONF.
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    if tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" |
        grep -qx "INNCONF=$INN_DIR/etc/inn.conf"; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  INN_PID=
}

# --- measuring -----------------------------------------------------------------

# One timed run: wall seconds (process start included) to $T, peak RSS in
# KiB to $RSS, CPU seconds to $CPU; stdout in $WORK/out. Fails the bench if the command fails.
timed() {
  local start end
  start=$(now_ns)
  # bash's time keyword gives the CPU time in ms (GNU time's %U only in
  # 10 ms steps); it includes /usr/bin/time itself, about 1 ms.
  local TIMEFORMAT='%3U %3S'
  if ! { time /usr/bin/time -f %M -o "$WORK/rss" "$@" >"$WORK/out" 2>"$WORK/err"; } 2>"$WORK/cpu"; then
    fail "$* : $(tail -n 3 "$WORK/err")"
  fi
  end=$(now_ns)
  T=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
  RSS=$(tail -n 1 "$WORK/rss")
  # The client's own CPU time (user + system, its children included): much
  # less disturbed by the machine's other jobs than the wall clock.
  CPU=$(tail -n 1 "$WORK/cpu" | awk '{ printf "%.3f", $1 + $2 }')
}

# measure KEY REPS N CHECK -- command: runs it REPS times; CHECK is "sink"
# (the sink's mesg must grow by N and sess by SESS), "inn" (the group's high
# water mark must grow by N) or "none". Each run adds "KEY SECONDS RSS_KIB
# CPU_SECONDS" to the results; result() gives the best time, the largest
# RSS and the least CPU.
SESS=1

# INN's CPU seconds so far: innd's own and that of the nnrpd processes it
# has reaped (one per connection, so a client's whole session counts once
# it has closed).
inn_cpu() {
  sed 's/.*) //' "/proc/$INND_PID/stat" |
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($12 + $13 + $14 + $15) / hz }'
}

# Until innd has reaped every nnrpd (a closed session's CPU is then in
# its children's time); at most 2 s.
inn_settle() {
  local _
  for _ in $(seq 100); do
    pgrep -P "$INND_PID" -x nnrpd >/dev/null || return 0
    sleep 0.02
  done
}

measure() {
  local key=$1 reps=$2 n=$3 check=$4 r before after sess_before sess_after srv_before
  shift 5
  for r in $(seq "$reps"); do
    case $check in
      sink) before=$(sink_field mesg); sess_before=$(sink_field sess) ;;
      inn) before=$($PY "$SRC/bench/peers.py" nntphigh "$INN_PORT" local.bench)
        inn_settle; srv_before=$(inn_cpu) ;;
    esac
    timed "$@"
    SRV=-
    [ "$check" = inn ] && inn_settle &&
      SRV=$(awk -v a="$srv_before" -v b="$(inn_cpu)" 'BEGIN { printf "%.3f", b - a }')
    # smtp-sink writes its counters right after each reply: settle first.
    case $check in
      sink)
        for _ in $(seq 50); do
          [ "$(sink_field sess)" -ge $((sess_before + SESS)) ] && break
          sleep 0.02
        done
        after=$(sink_field mesg); sess_after=$(sink_field sess)
        [ $((after - before)) -eq "$n" ] ||
          fail "$key: the sink counted $((after - before)) messages, not $n"
        [ $((sess_after - sess_before)) -eq "$SESS" ] ||
          fail "$key: the sink counted $((sess_after - sess_before)) sessions, not $SESS"
        ;;
      inn)
        after=$($PY "$SRC/bench/peers.py" nntphigh "$INN_PORT" local.bench)
        [ $((after - before)) -eq "$n" ] ||
          fail "$key: INN stored $((after - before)) articles, not $n"
        ;;
    esac
    echo "$key $T $RSS $CPU $SRV" >>"$WORK/results"
    printf '  %-28s %8s s  peak RSS %6s KiB  CPU %6s s  server CPU %6s s\n' "$key" "$T" "$RSS" "$CPU" "$SRV" >&2
  done
}

# A loop of one process per message; peak RSS is the largest single child.
per_process() {
  local n=$1 i
  shift
  local max=0 rss
  for i in $(seq "$n"); do
    /usr/bin/time -f %M -o "$WORK/rss1" "$@" <"$MSGFILE" >/dev/null || return 1
    rss=$(tail -n 1 "$WORK/rss1")
    [ "$rss" -gt "$max" ] && max=$rss
  done
  echo "$max" >"$WORK/child-rss"
}

# The RSS of a per-process row is its largest child's, not bash's.
child_rss() {
  awk -v r="$(cat "$WORK/child-rss")" 'NR == FNR { last = FNR; next }
    { if (FNR == last) $3 = r; print }' "$WORK/results" "$WORK/results" >"$WORK/results.new"
  mv "$WORK/results.new" "$WORK/results"
}

# result KEY: the best time of KEY's runs (the others measure the machine's
# other jobs too); result KEY 3: the largest peak RSS; result KEY 4: the
# least CPU time.
result() {
  awk -v k="$1" -v c="${2:-2}" '$1 == k && (n++ == 0 || (c == 3 ? $c > v : $c < v)) { v = $c }
    END { if (n) print v }' "$WORK/results"
}

# ------------------------------------------------------------------------------

echo "msgobj bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)" >&2
echo "  work directory $WORK" >&2
$PY "$SRC/bench/peers.py" mkmsg "$WORK"
MSG=$WORK/msg-1k.eml
start_sink
echo "  smtp-sink pid $SINK_PID on 127.0.0.1:$SINK_PORT" >&2

CURLCFG=$WORK/curl.cfg
# curl_config N FILE [URL [CAFILE]]: N uploads of FILE over one connection.
curl_config() {
  local n=$1 file=$2 url=${3:-smtp://127.0.0.1:$SINK_PORT} cafile=${4:-} i
  : >"$CURLCFG"
  for i in $(seq "$n"); do
    [ "$i" -gt 1 ] && echo next >>"$CURLCFG"
    printf 'url = "%s/localhost"\nupload-file = "%s"\nmail-from = "sender@example.test"\nmail-rcpt = "rcpt@example.test"\nsilent\nshow-error\n' \
      "$url" "$file" >>"$CURLCFG"
    if [ -n "$cafile" ]; then printf 'cacert = "%s"\n' "$cafile" >>"$CURLCFG"; fi
  done
}
SOURCE_ARGS=(-f sender@example.test -t rcpt@example.test -M localhost)

echo "== 1 KiB messages over one connection ($REPS rounds, clients interleaved)" >&2
for r in $(seq "$REPS"); do
  for n in 1 "$N_SMTP"; do
    measure "smtp.msgobj.$n" 1 "$n" sink -- "$BENCH" smtp "$SINK_PORT" "$n" "$MSG"
    measure "smtp.msgobj-new.$n" 1 "$n" sink -- "$BENCH" smtp-new "$SINK_PORT" "$n"
    measure "smtp.msgobj-async.$n" 1 "$n" sink -- "$BENCH" smtp-async "$SINK_PORT" "$n" "$MSG"
    measure "smtp.msgobj-queue.$n" 1 "$n" sink -- "$BENCH" smtp-queue "$SINK_PORT" "$n" "$MSG" 3
    measure "smtp.msgobj-new-queue.$n" 1 "$n" sink -- "$BENCH" smtp-new-queue "$SINK_PORT" "$n" 3
    measure "smtp.smtplib.$n" 1 "$n" sink -- $PY "$SRC/bench/peers.py" smtplib "$SINK_PORT" "$n" "$MSG"
    if command -v curl >/dev/null; then
      curl_config "$n" "$MSG"
      measure "smtp.curl-K.$n" 1 "$n" sink -- curl -K "$CURLCFG"
    fi
    [ -x "$SOURCE" ] &&
      measure "smtp.smtp-source.$n" 1 "$n" sink -- "$SOURCE" -d -m "$n" -F "$MSG" "${SOURCE_ARGS[@]}" "127.0.0.1:$SINK_PORT"
  done
  # The floors under two of issue 18's targets: GMime alone building a
  # message, and a hand-off to a worker thread and back (no network).
  # The hand-off also with both threads on one CPU, its cheapest case.
  # And a message's two waits for replies done blocking (sync), on the
  # caller's main loop (what a design without the worker would cost) and
  # on a worker thread (as the _async calls do).
  { "$FLOOR" gmime 5000; "$FLOOR" handoff 5000; taskset -c 0 "$FLOOR" handoff 5000 | sed 's/^/one-cpu./'
    "$FLOOR" wait 5000 | sed 's/^/wait./'; } |
    awk '/cpu_us=/ { sub("cpu_us=", "", $3); print "floor." $1, $3 }' >>"$WORK/results"
done

# Implicit TLS (as on port 465) through stunnel in front of the sink, one
# connection each: what TLS adds to each client. stunnel's own work is the
# same for all of them.
if [ "$DO_TLS" = 1 ] && command -v stunnel4 >/dev/null && command -v openssl >/dev/null; then
  echo "== 1 KiB messages over one implicit-TLS connection through stunnel ($REPS rounds)" >&2
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
  TLS_PORT=$(free_port)
  printf 'foreground = yes\npid =\n[smtps]\naccept = 127.0.0.1:%s\nconnect = 127.0.0.1:%s\ncert = %s\nkey = %s\n' \
    "$TLS_PORT" "$SINK_PORT" "$WORK/tls.crt" "$WORK/tls.key" >"$WORK/stunnel.conf"
  stunnel4 "$WORK/stunnel.conf" >"$WORK/stunnel.log" 2>&1 &
  STUNNEL_PID=$!
  if wait_listen "$TLS_PORT" "$STUNNEL_PID"; then
    for r in $(seq "$REPS"); do
      for n in 1 "$N_SMTP"; do
        measure "tls.msgobj.$n" 1 "$n" sink -- env "MSGOBJ_BENCH_FIELD=smtpusessl=true;tlscafile=$WORK/tls.crt" \
          "$BENCH" smtp "$TLS_PORT" "$n" "$MSG"
        measure "tls.smtplib.$n" 1 "$n" sink -- $PY "$SRC/bench/peers.py" smtplib-ssl "$TLS_PORT" "$n" "$MSG" "$WORK/tls.crt"
        if command -v curl >/dev/null; then
          curl_config "$n" "$MSG" "smtps://127.0.0.1:$TLS_PORT" "$WORK/tls.crt"
          measure "tls.curl-K.$n" 1 "$n" sink -- curl -K "$CURLCFG"
        fi
      done
    done
  else
    fail "stunnel did not start: $(tail -n 3 "$WORK/stunnel.log")"
  fi
  kill "$STUNNEL_PID" 2>/dev/null; wait "$STUNNEL_PID" 2>/dev/null || true
  STUNNEL_PID=
fi

# Issue 18: one connection through 20 ms of latency each way. The sync
# calls cost two round trips per message (envelope, then content); with
# sends queued, the next envelope follows the final dot: one round trip.
if [ "$DO_LATENCY" = 1 ]; then
  echo "== one connection, $DELAY_MS ms added each way ($N_LAT messages)" >&2
  $PY "$SRC/bench/delay-proxy.py" --listen 0 --to "$SINK_PORT" --delay "$DELAY_MS" --lifetime 3600 \
    --port-file "$WORK/proxy.port" &
  PROXY_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/proxy.port" ] && break; sleep 0.05; done
  PROXY_PORT=$(cat "$WORK/proxy.port")
  measure "lat.msgobj" 1 "$N_LAT" sink -- "$BENCH" smtp "$PROXY_PORT" "$N_LAT" "$MSG"
  measure "lat.msgobj-queue" 1 "$N_LAT" sink -- "$BENCH" smtp-queue "$PROXY_PORT" "$N_LAT" "$MSG" "$QUEUE_DEPTH"
  measure "lat.smtplib" 1 "$N_LAT" sink -- $PY "$SRC/bench/peers.py" smtplib "$PROXY_PORT" "$N_LAT" "$MSG"
  # Several connections: msgobj flush of a directory of N_FLUSH messages
  # with 1 and 8 connections (each keeping sends queued on its transport:
  # one round trip a message), and smtp-source with 8 sessions.
  echo "== several connections, $DELAY_MS ms added each way ($N_FLUSH messages)" >&2
  for c in 1 8; do
    rm -rf "$WORK/drop"; mkdir "$WORK/drop"
    for i in $(seq -w 1 "$N_FLUSH"); do cp "$MSG" "$WORK/drop/m$i.eml"; done
    before=$(sink_field mesg)
    measure "flush.$c" 1 "$N_FLUSH" none -- env HOME="$WORK" "$BUILD/tools/msgobj" --set sendusing=2 \
      --set smtpserver=127.0.0.1 --set smtpserverport="$PROXY_PORT" --set smtpstarttls=never \
      flush --connections "$c" "$WORK/drop"
    sleep 0.2
    [ $(($(sink_field mesg) - before)) -eq "$N_FLUSH" ] ||
      fail "flush.$c: the sink counted $(($(sink_field mesg) - before)) messages, not $N_FLUSH"
  done
  if [ -x "$SOURCE" ]; then
    before=$(sink_field mesg)
    measure "flush.smtp-source" 1 "$N_FLUSH" none -- "$SOURCE" -d -s 8 -m "$N_FLUSH" -F "$MSG" "${SOURCE_ARGS[@]}" "127.0.0.1:$PROXY_PORT"
    sleep 0.2
    [ $(($(sink_field mesg) - before)) -eq "$N_FLUSH" ] ||
      fail "smtp-source -s 8: the sink counted $(($(sink_field mesg) - before)) messages, not $N_FLUSH"
  fi
  kill "$PROXY_PID"; wait "$PROXY_PID" 2>/dev/null || true
  PROXY_PID=
fi

# DATA against BDAT (RFC 3030): smtp-sink offers no CHUNKING, so both go to
# bench/chunking-sink.py, which reads either body in C.
if [ "$DO_CHUNKING" = 1 ]; then
  echo "== DATA vs BDAT, one connection ($REPS rounds, interleaved)" >&2
  $PY "$SRC/bench/chunking-sink.py" --port-file "$WORK/chunk.port" --count-file "$WORK/chunk.count" &
  CHUNK_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/chunk.port" ] && break; sleep 0.05; done
  CHUNK_PORT=$(cat "$WORK/chunk.port")
  for r in $(seq "$REPS"); do
    measure "chunk.data" 1 "$N_SMTP" none -- env MSGOBJ_BENCH_FIELD=smtpusechunking=false "$BENCH" smtp "$CHUNK_PORT" "$N_SMTP" "$MSG"
    measure "chunk.bdat" 1 "$N_SMTP" none -- "$BENCH" smtp "$CHUNK_PORT" "$N_SMTP" "$MSG"
  done
  sleep 0.2
  chunk_mesg=$(sed -n 's/.*mesg=//p' "$WORK/chunk.count")
  [ "$chunk_mesg" = $((2 * REPS * N_SMTP)) ] ||
    fail "chunking-sink counted $chunk_mesg messages, not $((2 * REPS * N_SMTP))"
  kill "$CHUNK_PID"; wait "$CHUNK_PID" 2>/dev/null || true
  CHUNK_PID=
fi

echo "== one process per message ($N_PROC messages)" >&2
MSGFILE=$MSG
SESS=$N_PROC
# The command-line tool, as a script sends one message: the .eml on stdin.
measure "proc.msgobj" 1 "$N_PROC" sink -- bash -c "$(declare -f per_process); WORK=$WORK MSGFILE=$MSG per_process $N_PROC env HOME=$WORK $BUILD/tools/msgobj --set sendusing=2 --set smtpserver=127.0.0.1 --set smtpserverport=$SINK_PORT --set smtpstarttls=never send -"
child_rss
if command -v msmtp >/dev/null; then
  measure "proc.msmtp" 1 "$N_PROC" sink -- bash -c "$(declare -f per_process); WORK=$WORK MSGFILE=$MSG per_process $N_PROC msmtp --host=127.0.0.1 --port=$SINK_PORT --auth=off --tls=off --domain=localhost --from=sender@example.test rcpt@example.test"
  child_rss
fi
if command -v curl >/dev/null; then
  measure "proc.curl" 1 "$N_PROC" sink -- bash -c "$(declare -f per_process); WORK=$WORK MSGFILE=$MSG per_process $N_PROC curl -sS --url smtp://127.0.0.1:$SINK_PORT/localhost --mail-from sender@example.test --mail-rcpt rcpt@example.test --upload-file -"
  child_rss
fi
if command -v swaks >/dev/null; then
  measure "proc.swaks" 1 "$N_PROC" sink -- bash -c "$(declare -f per_process); WORK=$WORK MSGFILE=$MSG per_process $N_PROC swaks --server 127.0.0.1:$SINK_PORT --helo localhost --from sender@example.test --to rcpt@example.test --data - --silent 2"
  child_rss
fi
SESS=1

if [ "$DO_BIG" = 1 ]; then
  echo "== one message with a 100 MiB attachment" >&2
  BIG=$WORK/big.eml
  measure "big.msgobj" 1 1 sink -- "$BENCH" big "$SINK_PORT" "$WORK/attach.bin"
  grep '^mode=big' "$WORK/out" | sed 's/^/  msgobj-bench: /' >&2 || true
  measure "big.smtplib" 1 1 sink -- $PY "$SRC/bench/peers.py" smtplib "$SINK_PORT" 1 "$BIG"
  if command -v curl >/dev/null; then
    curl_config 1 "$BIG"
    measure "big.curl" 1 1 sink -- curl -K "$CURLCFG"
  fi
  [ -x "$SOURCE" ] &&
    measure "big.smtp-source" 1 1 sink -- "$SOURCE" -d -m 1 -F "$BIG" "${SOURCE_ARGS[@]}" "127.0.0.1:$SINK_PORT"
  command -v msmtp >/dev/null &&
    measure "big.msmtp" 1 1 sink -- bash -c "msmtp --host=127.0.0.1 --port=$SINK_PORT --auth=off --tls=off --domain=localhost --from=sender@example.test rcpt@example.test <$BIG"
  BIG_BYTES=$(stat -c %s "$BIG")
  ATTACH_BYTES=$(stat -c %s "$WORK/attach.bin")
fi

HAVE_INN=0
if [ "$DO_NNTP" = 1 ]; then
  if [ "$(id -u)" = 0 ] && [ -x "$INNBIN/innd" ] && id news >/dev/null 2>&1; then
    if start_inn; then
      HAVE_INN=1
      # $INN_PID is the subshell of as_news; innd is its child.
      INND_PID=$(pgrep -P "$INN_PID" -x innd || echo "$INN_PID")
      echo "== articles to INN (innd pid $INN_PID on 127.0.0.1:$INN_PORT)" >&2
      for r in $(seq "$REPS"); do
        for n in 1 "$N_NNTP"; do
          measure "nntp.msgobj.$n" 1 "$n" inn -- "$BENCH" nntp "$INN_PORT" "$n" local.bench
          measure "nntp.nntplib.$n" 1 "$n" inn -- $PY "$SRC/bench/peers.py" nntplib "$INN_PORT" "$n" local.bench
          measure "nntp.msgobj-queue.$n" 1 "$n" inn -- "$BENCH" nntp-queue "$INN_PORT" "$n" local.bench "$QUEUE_DEPTH"
          measure "nntp.msgobj-threads.$n" 1 "$n" inn -- "$BENCH" nntp-threads "$INN_PORT" "$n" local.bench 2
          measure "nntp.raw.$n" 1 "$n" inn -- $PY "$SRC/bench/peers.py" nntpraw "$INN_PORT" "$n" local.bench
          measure "nntp.raw-pipe.$n" 1 "$n" inn -- $PY "$SRC/bench/peers.py" nntpraw "$INN_PORT" "$n" local.bench pipe
          # Several connections: INN's nnrpd and innd then overlap.
          measure "nntp.msgobj-4.$n" 1 "$n" inn -- "$BENCH" nntp-conns "$INN_PORT" "$n" local.bench 4 2
          measure "nntp.nntplib-4.$n" 1 "$n" inn -- $PY "$SRC/bench/peers.py" nntplib "$INN_PORT" "$n" local.bench conns 4
          measure "nntp.raw-4.$n" 1 "$n" inn -- $PY "$SRC/bench/peers.py" nntpraw "$INN_PORT" "$n" local.bench conns 4
          # The command a user drains a news pickup directory with.
          rm -rf "$WORK/news"; mkdir "$WORK/news"
          $PY "$SRC/bench/peers.py" mkarticles "$WORK/news" "$n" local.bench
          measure "nntp.flush-4.$n" 1 "$n" inn -- env HOME="$WORK" "$BUILD/tools/msgobj" --set postusing=2 \
            --set nntpserver=127.0.0.1 --set nntpserverport="$INN_PORT" --set nntpstarttls=never \
            flush --post --connections 4 "$WORK/news"
        done
      done
      stop_inn
    else
      fail "INN did not start: $(tail -n 5 "$WORK/inn/log/innd.out" 2>/dev/null)"
    fi
  else
    echo "== NNTP skipped: needs root and INN 2.7 (apt-get install inn2)" >&2
  fi
fi

if [ "$DO_DKIM" = 1 ]; then
  # The same sends unsigned and signed, interleaved in one process; keys
  # made by msgobj dkim-keygen.
  echo "== DKIM signing: 1 KiB and 1 MiB, unsigned, rsa-2048, ed25519 ($REPS rounds)" >&2
  mkdir "$WORK/dkim"
  "$BUILD/tools/msgobj" dkim-keygen --domain example.test --selector rsa --bits 2048 \
    --output-dir "$WORK/dkim" >/dev/null
  "$BUILD/tools/msgobj" dkim-keygen --domain example.test --selector ed --algorithm ed25519-sha256 \
    --output-dir "$WORK/dkim" >/dev/null
  before=$(sink_field mesg)
  "$BENCH" dkim "$SINK_PORT" "$MSG" "$WORK/dkim" "$REPS" >"$WORK/dkim.out" 2>"$WORK/err" ||
    fail "dkim: $(head -n 3 "$WORK/err")"
  sent=$(sed -n 's/^mode=dkim sent=//p' "$WORK/dkim.out")
  for _ in $(seq 50); do
    [ "$(sink_field mesg)" -ge $((before + ${sent:-0})) ] && break
    sleep 0.02
  done
  [ $(($(sink_field mesg) - before)) -eq "${sent:-0}" ] ||
    fail "dkim: the sink counted $(($(sink_field mesg) - before)) messages, not $sent"
fi

# stall_rows MODE REPS [SECONDS]: the cancel or time-out rows, one stall
# server per stage.
stall_rows() {
  local mode=$1 reps=$2 seconds=${3:-} stage
  : >"$WORK/$mode"
  for stage in greeting ehlo data dot; do
    : >"$WORK/eof.log"
    : >"$WORK/stall.port"
    $PY "$SRC/bench/stall-server.py" "$stage" "$WORK/eof.log" >"$WORK/stall.port" &
    STALL_PID=$!
    for _ in $(seq 100); do [ -s "$WORK/stall.port" ] && break; sleep 0.05; done
    if ! "$BENCH" "$mode" "$(cat "$WORK/stall.port")" "$stage" "$reps" "$WORK/eof.log" \
        ${seconds:+"$seconds"} >>"$WORK/$mode" 2>"$WORK/err"; then
      fail "$mode at $stage: $(head -n 3 "$WORK/err")"
    fi
    kill "$STALL_PID"; wait "$STALL_PID" 2>/dev/null || true
    STALL_PID=
  done
}

if [ "$DO_CANCEL" = 1 ]; then
  echo "== cancellation against a stalling server ($CANCEL_REPS sync + $CANCEL_REPS async per stage)" >&2
  stall_rows cancel "$CANCEL_REPS"
  echo "== time-outs (smtpconnectiontimeout=$TIMEOUT; $TIMEOUT_REPS sync + $TIMEOUT_REPS async per stage)" >&2
  stall_rows timeout "$TIMEOUT_REPS" "$TIMEOUT"
fi

# --- the table -------------------------------------------------------------------

steady() {   # steady rate: (N - 1) / (t(N) - t(1))
  awk -v n="$2" -v a="$(result "$1.1")" -v b="$(result "$1.$2")" \
    'BEGIN { if (b > a) printf "%.0f", (n - 1) / (b - a); else print "-" }'
}
wall() { awk -v n="$2" -v t="$(result "$1")" 'BEGIN { if (t > 0) printf "%.0f", n / t; else print "-" }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v p="$1" -v m="$2" 'BEGIN { if (p + 0 > 0 && m + 0 > 0) printf "%.3g", p / m; else print "-" }'; }

echo
echo "libmsgobj vs peers, 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores; best of $REPS runs, clients interleaved"
echo "ratio = peer / libmsgobj (rates: < 1 means libmsgobj is faster; RSS and CPU: > 1 means the peer uses more)"
echo
printf '%-34s %8s %10s %12s %8s %8s %12s %10s %9s\n' "client (1000 x 1 KiB, 1 conn)" "time s" "msg/s wall" "msg/s steady" "RSS MiB" "CPU s/1k" "ratio steady" "ratio wall" "ratio CPU"
m_steady=$(steady smtp.msgobj "$N_SMTP")
m_wall=$(wall "smtp.msgobj.$N_SMTP" "$N_SMTP")
m_cpu=$(result "smtp.msgobj.$N_SMTP" 4)
for c in msgobj msgobj-new msgobj-async msgobj-queue msgobj-new-queue smtplib curl-K smtp-source; do
  t=$(result "smtp.$c.$N_SMTP")
  [ -n "$t" ] || continue
  s=$(steady "smtp.$c" "$N_SMTP")
  w=$(wall "smtp.$c.$N_SMTP" "$N_SMTP")
  case $c in msgobj) name=libmsgobj ;; msgobj-new) name="libmsgobj, new message each" ;;
    msgobj-async) name="libmsgobj, _async calls" ;; msgobj-queue) name="libmsgobj, 3 _async queued" ;;
    msgobj-new-queue) name="libmsgobj, new each, 3 queued" ;; smtplib) name="python smtplib" ;; curl-K) name="curl -K" ;; *) name=$c ;; esac
  printf '%-34s %8s %10s %12s %8s %8s %12s %10s %9s\n' "$name" "$t" "$w" "$s" "$(mib "$(result "smtp.$c.$N_SMTP" 3)")" \
    "$(result "smtp.$c.$N_SMTP" 4)" "$(ratio "$s" "$m_steady")" "$(ratio "$w" "$m_wall")" \
    "$(ratio "$(result "smtp.$c.$N_SMTP" 4)" "$m_cpu")"
done
for c in msgobj msmtp curl swaks; do
  t=$(result "proc.$c")
  [ -n "$t" ] || continue
  w=$(wall "proc.$c" "$N_PROC")
  cpu=$(awk -v c="$(result "proc.$c" 4)" -v n="$N_PROC" -v m="$N_SMTP" 'BEGIN { printf "%.1f", c / n * m }')
  printf '%-34s %8s %10s %12s %8s %8s %12s %10s %9s\n' "$c, 1 proc/msg ($N_PROC msgs)" "$t" "$w" "$w" "$(mib "$(result "proc.$c" 3)")" \
    "$cpu" "$(ratio "$w" "$m_steady")" "$(ratio "$w" "$m_wall")" "$(ratio "$cpu" "$m_cpu")"
done
if [ -n "$(result tls.msgobj.$N_SMTP)" ]; then
  echo
  printf '%-34s %8s %10s %12s %8s %12s %9s\n' "client (1000 x 1 KiB, 1 TLS conn)" "time s" "msg/s wall" "msg/s steady" "CPU s/1k" "ratio steady" "ratio CPU"
  t_steady=$(steady tls.msgobj "$N_SMTP")
  t_cpu=$(result "tls.msgobj.$N_SMTP" 4)
  for c in msgobj smtplib curl-K; do
    t=$(result "tls.$c.$N_SMTP")
    [ -n "$t" ] || continue
    s=$(steady "tls.$c" "$N_SMTP")
    case $c in msgobj) name="libmsgobj (smtpusessl)" ;; smtplib) name="python smtplib.SMTP_SSL" ;; curl-K) name="curl -K smtps://" ;; esac
    printf '%-34s %8s %10s %12s %8s %12s %9s\n' "$name" "$t" "$(wall "tls.$c.$N_SMTP" "$N_SMTP")" "$s" \
      "$(result "tls.$c.$N_SMTP" 4)" "$(ratio "$s" "$t_steady")" "$(ratio "$(result "tls.$c.$N_SMTP" 4)" "$t_cpu")"
  done
  echo "(implicit TLS through stunnel 4 in front of the same smtp-sink; stunnel's CPU is not counted)"
fi
if [ -n "$(result floor.gmime)" ]; then
  sync_us=$(awk -v a="$(result smtp.msgobj.1 4)" -v b="$(result "smtp.msgobj.$N_SMTP" 4)" -v n="$N_SMTP" \
    'BEGIN { printf "%.0f", (b - a) * 1e6 / (n - 1) }')
  echo
  echo "floors (bench/msgobj-floor: no network, CPU of the whole process, the least of $REPS runs)"
  awk -v g="$(result floor.gmime)" -v s="$(steady smtp.smtplib "$N_SMTP")" 'BEGIN {
    printf "  GMime alone builds, writes and frees the message of \"new message each\": %.1f us;\n", g
    if (s + 0 > 0) printf "  3x python smtplib'"'"'s steady rate leaves %.1f us a message for all of it\n", 1e6 / (3 * s) }'
  awk -v b="$(result floor.bare)" -v t="$(result floor.gtask)" -v b1="$(result floor.one-cpu.bare)" \
    -v t1="$(result floor.one-cpu.gtask)" -v u="$sync_us" 'BEGIN {
    printf "  a round trip to a worker thread and back, doing nothing: %.1f us bare, %.1f us with GTask\n", b, t
    printf "  (both threads on one CPU: %.1f and %.1f us); 1.2x the sync calls'"'"' %d us leaves %.1f us\n", b1, t1, u, 0.2 * u }'
  awk -v s="$(result floor.wait.sync)" -v l="$(result floor.wait.loop)" -v k="$(result floor.wait.kept)" \
    -v w="$(result floor.wait.worker)" 'BEGIN {
    printf "  a message'"'"'s two waits for a reply (echo process): %.1f us blocking, %.1f us on the caller'"'"'s\n", s, l
    printf "  main loop (%.1f with one source kept), %.1f us on a worker thread: +%.1f, +%.1f, +%.1f us\n", k, w, l - s, k - s, w - s }'
fi

if [ "$DO_LATENCY" = 1 ]; then
  echo
  rtt_rate=$(awk -v d="$DELAY_MS" 'BEGIN { printf "%.1f", 1000 / (2 * d) }')
  echo "one connection, $DELAY_MS ms added each way (bench/delay-proxy.py) in front of smtp-sink: 1/RTT = $rtt_rate msg/s"
  printf '%-44s %8s %8s %9s %14s\n' "client ($N_LAT x 1 KiB, 1 conn)" "time s" "msg/s" "x 1/RTT" "x smtplib"
  l_smtplib=$(awk -v n="$N_LAT" -v t="$(result lat.smtplib)" 'BEGIN { if (t > 0) printf "%.1f", n / t }')
  for c in msgobj msgobj-queue smtplib; do
    t=$(result "lat.$c")
    [ -n "$t" ] || continue
    w=$(awk -v n="$N_LAT" -v t="$t" 'BEGIN { printf "%.1f", n / t }')
    case $c in msgobj) name="libmsgobj, sync calls" ;; msgobj-queue) name="libmsgobj, $QUEUE_DEPTH _async sends queued" ;;
      *) name="python smtplib" ;; esac
    printf '%-44s %8s %8s %9s %14s\n' "$name" "$t" "$w" "$(ratio "$w" "$rtt_rate")" "$(ratio "$w" "$l_smtplib")"
  done
  echo
  printf '%-44s %8s %8s %9s %9s %14s\n' "client ($N_FLUSH x 1 KiB, several conns)" "time s" "msg/s" "x 1/RTT" "x N=1" "x smtp-source"
  f_one=$(awk -v n="$N_FLUSH" -v t="$(result flush.1)" 'BEGIN { if (t > 0) printf "%.1f", n / t }')
  f_src=$(awk -v n="$N_FLUSH" -v t="$(result flush.smtp-source)" 'BEGIN { if (t > 0) printf "%.1f", n / t }')
  for c in 1 8 smtp-source; do
    t=$(result "flush.$c")
    [ -n "$t" ] || continue
    w=$(awk -v n="$N_FLUSH" -v t="$t" 'BEGIN { printf "%.1f", n / t }')
    case $c in smtp-source) name="smtp-source -d -s 8" ;; *) name="msgobj flush --connections $c" ;; esac
    printf '%-44s %8s %8s %9s %9s %14s\n' "$name" "$t" "$w" "$(ratio "$w" "$rtt_rate")" "$(ratio "$w" "$f_one")" \
      "$(ratio "$w" "$f_src")"
  done
fi

if [ "$DO_CHUNKING" = 1 ]; then
  echo
  echo "libmsgobj, DATA vs BDAT (smtpusechunking), bench/chunking-sink.py, best of $REPS"
  printf '%-34s %8s %10s %8s %12s %10s\n' "transfer ($N_SMTP x 1 KiB, 1 conn)" "time s" "msg/s wall" "CPU s" "ratio msg/s" "ratio CPU"
  for c in data bdat; do
    t=$(result "chunk.$c")
    [ -n "$t" ] || continue
    printf '%-34s %8s %10s %8s %12s %10s\n' "$(echo "$c" | tr a-z A-Z)" "$t" "$(wall "chunk.$c" "$N_SMTP")" \
      "$(result "chunk.$c" 4)" "$(ratio "$(wall "chunk.$c" "$N_SMTP")" "$(wall chunk.data "$N_SMTP")")" \
      "$(ratio "$(result "chunk.$c" 4)" "$(result chunk.data 4)")"
  done
fi

if [ "$DO_BIG" = 1 ]; then
  echo
  printf '%-34s %8s %10s %8s %7s %12s %10s %9s\n' "client (1 msg, 100 MiB attachment)" "time s" "MiB/s" "RSS MiB" "CPU s" "ratio MiB/s" "ratio RSS" "ratio CPU"
  m_rate=$(awk -v b="$ATTACH_BYTES" -v t="$(result big.msgobj)" 'BEGIN { printf "%.1f", b / 1048576 / t }')
  m_rss=$(result big.msgobj 3)
  for c in msgobj smtplib curl smtp-source msmtp; do
    t=$(result "big.$c")
    [ -n "$t" ] || continue
    r=$(awk -v b="$ATTACH_BYTES" -v t="$t" 'BEGIN { printf "%.1f", b / 1048576 / t }')
    case $c in msgobj) name="libmsgobj (encodes it)" ;; smtplib) name="python smtplib (.eml)" ;; *) name="$c (.eml)" ;; esac
    printf '%-34s %8s %10s %8s %7s %12s %10s %9s\n' "$name" "$t" "$r" "$(mib "$(result "big.$c" 3)")" \
      "$(result "big.$c" 4)" "$(ratio "$r" "$m_rate")" "$(ratio "$(result "big.$c" 3)" "$m_rss")" \
      "$(ratio "$(result "big.$c" 4)" "$(result big.msgobj 4)")"
  done
  echo "(MiB/s counts the 100 MiB attachment; on the wire it is $((BIG_BYTES / 1048576)) MiB of base64)"
  if [ "$m_rss" -ge $((32 * 1024)) ]; then
    fail "libmsgobj's peak RSS sending a 100 MiB attachment is $(mib "$m_rss") MiB: over the 32 MiB target"
  fi
fi

if [ "$HAVE_INN" = 1 ]; then
  echo
  # Per article, from the least CPU times of the N-article and 1-article
  # runs: the client's, and INN's (innd and the session's nnrpd).
  per_art() {
    awk -v n="$N_NNTP" -v a="$(result "$1.1" "$2")" -v b="$(result "$1.$N_NNTP" "$2")" \
      'BEGIN { if (a != "" && b != "" && a != "-" && b != "-") printf "%.0f", (b - a) / (n - 1) * 1e6; else print "-" }'
  }
  printf '%-34s %8s %10s %12s %8s %7s %12s %10s %9s %9s %8s %8s\n' "client ($N_NNTP x 1 KiB articles to INN)" "time s" "art/s wall" "art/s steady" "RSS MiB" "CPU s" "ratio steady" "ratio wall" "ratio CPU" "x nntplib" "CPU us" "INN us"
  m_steady=$(steady nntp.msgobj "$N_NNTP")
  m_wall=$(wall "nntp.msgobj.$N_NNTP" "$N_NNTP")
  p_steady=$(steady nntp.nntplib "$N_NNTP")
  for c in msgobj msgobj-queue msgobj-threads nntplib raw raw-pipe msgobj-4 flush-4 nntplib-4 raw-4; do
    s=$(steady "nntp.$c" "$N_NNTP")
    w=$(wall "nntp.$c.$N_NNTP" "$N_NNTP")
    case $c in
      msgobj) name=libmsgobj ;;
      msgobj-queue) name="libmsgobj, $QUEUE_DEPTH _async posts queued" ;;
      msgobj-threads) name="libmsgobj, sync calls, 2 threads" ;;
      nntplib) name="python nntplib" ;;
      raw) name="raw socket (server's floor)" ;;
      raw-pipe) name="raw socket, POST pipelined" ;;
      msgobj-4) name="libmsgobj, 4 conns, 2 queued each" ;;
      flush-4) name="msgobj flush --post, 4 conns" ;;
      nntplib-4) name="python nntplib, 4 conns (threads)" ;;
      raw-4) name="raw socket, 4 connections" ;;
    esac
    printf '%-34s %8s %10s %12s %8s %7s %12s %10s %9s %9s %8s %8s\n' "$name" "$(result "nntp.$c.$N_NNTP")" "$w" "$s" \
      "$(mib "$(result "nntp.$c.$N_NNTP" 3)")" "$(result "nntp.$c.$N_NNTP" 4)" "$(ratio "$s" "$m_steady")" \
      "$(ratio "$w" "$m_wall")" "$(ratio "$(result "nntp.$c.$N_NNTP" 4)" "$(result "nntp.msgobj.$N_NNTP" 4)")" \
      "$(ratio "$s" "$p_steady")" "$(per_art "nntp.$c" 4)" "$(per_art "nntp.$c" 5)"
  done
  echo "(CPU us, INN us: CPU time per article of the client and of INN, innd and its nnrpd, from the least of each"
  echo " over the runs, the 1-article run subtracted; INN's is counted in 10 ms ticks)"
fi

if [ "$DO_DKIM" = 1 ]; then
  echo
  echo "DKIM signing, per message over one kept connection (best of $REPS; ratio = signed / unsigned)"
  printf '%-8s %-10s %6s %10s %10s %11s %10s\n' "message" "signing" "msgs" "wall us" "CPU us" "ratio wall" "ratio CPU"
  while read -r line; do
    declare -A f=()
    for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
    [ -n "${f[size]:-}" ] &&
      printf '%-8s %-10s %6s %10s %10s %11s %10s\n' "${f[size]}" "${f[variant]}" "${f[msgs]}" "${f[wall_us]}" \
        "${f[cpu_us]}" "${f[ratio_wall]}" "${f[ratio_cpu]}"
    unset f
  done <"$WORK/dkim.out"
  echo
  echo "The floor under the signed rows, CPU us per signature (best of $REPS):"
  echo "libopendkim alone (dkim_sign ... dkim_eom, the key decoded every time) and the signature alone (GnuTLS, key loaded once)"
  printf '%-10s %16s %15s\n' "signing" "libopendkim us" "signature us"
  while read -r line; do
    declare -A f=()
    for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
    [ "${f[mode]:-}" = dkim-floor ] &&
      printf '%-10s %16s %15s\n' "${f[variant]}" "${f[libopendkim_cpu_us]}" "${f[signature_only_cpu_us]}"
    unset f
  done <"$WORK/dkim.out"
fi

stall_table() {
  local line kv
  printf '%-10s %12s %9s %13s %10s %17s %8s\n' "stalled at" "sync median" "sync max" "async median" "async max" "server EOF median" "EOF max"
  while read -r line; do
    declare -A f=()
    for kv in $line; do f[${kv%%=*}]=${kv#*=}; done
    printf '%-10s %12s %9s %13s %10s %17s %8s\n' "${f[stage]}" "${f[sync_median_ms]}" "${f[sync_max_ms]}" \
      "${f[async_median_ms]}" "${f[async_max_ms]}" "${f[server_eof_median_ms]}" "${f[server_eof_max_ms]}"
    unset f
  done <"$1"
}

if [ "$DO_CANCEL" = 1 ]; then
  echo
  echo "g_cancellable_cancel() -> send returned with its socket closed (ms; $CANCEL_REPS runs each)"
  stall_table "$WORK/cancel"
  echo
  echo "smtpconnectiontimeout=$TIMEOUT: stall + $TIMEOUT s -> send returned with its socket closed (ms; $TIMEOUT_REPS runs each)"
  stall_table "$WORK/timeout"
fi

echo
echo "smtp-sink counters at the end: $(sink_count)"
if [ "$FAILED" != 0 ]; then
  echo "run.sh: FAILED (see the messages above)" >&2
  exit 1
fi
echo "all messages counted by the servers"
[ "$DO_CANCEL" = 1 ] && echo "no socket left open after a cancellation or a time-out"
exit 0
