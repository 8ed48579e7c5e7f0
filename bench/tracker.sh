#!/usr/bin/env bash
# Tracker announce benchmark: wrk + tracker_announce.lua against `btx tracker` and opentracker
# in the same run, all on 127.0.0.1. Per tracker it prints announces/s and latency with one
# TCP connection per announce (Connection: close, what opentracker does anyway), then keeps
# announcing (keep-alive, its first 10 s round printed too) until 1,000,000 announces from
# distinct peers and prints the RSS.
# cpu_us_per_announce is the tracker process's user+system CPU per announce in the close run.
#   TRACKERS="opentracker btx"  THREADS=2 CONNS=64 DURATION=15s NHASHES=1000 TOTAL=1000000
#   WARM_PAGES=1 (root): free page reporting off for the run (see below)
# TRACKERS may also name floor-serve and floor-ffi (bench/http_floor.ts): a fixed reply through
# Deno.serve or through raw syscalls, the least each way of serving HTTP costs here.
# wrk and the tracker share the machine's cores: the numbers are for that setup.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
TRACKERS=${TRACKERS:-"opentracker btx"}
THREADS=${THREADS:-2}; CONNS=${CONNS:-64}; DURATION=${DURATION:-15s}
NHASHES=${NHASHES:-1000}; TOTAL=${TOTAL:-1000000}; PORT=${PORT:-28979}
WORK=$(mktemp -d /tmp/btx-tracker-bench.XXXXXX)
chmod 755 "$WORK" # opentracker drops privileges to nobody and must read the whitelist
export HASHES="$WORK/hashes.txt"
for i in $(seq 0 $((NHASHES - 1))); do printf 'btbench-%d' "$i" | sha1sum | cut -c1-40; done >"$HASHES"
chmod 644 "$HASHES"

PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; PID=""; }
# WARM_PAGES=1 (root): free page reporting off for the run, after re-backing 2 GiB, as
# bench:swarm --warm-pages does (bench/swarm_machine.ts): a tracker's memory growth then costs
# what it costs on bare metal, not host faults on pages the VM handed back.
REPORTING=/sys/module/page_reporting/parameters/page_reporting_order
ORDER_BEFORE=""
if [ "${WARM_PAGES:-0}" = 1 ] && [ -w "$REPORTING" ]; then
  ORDER_BEFORE=$(cat "$REPORTING")
  echo 11 >"$REPORTING"
  dd if=/dev/zero of="$WORK/warm.bin" bs=4M count=512 status=none && rm -f "$WORK/warm.bin"
fi
restore_pages() { if [ -n "$ORDER_BEFORE" ]; then echo "$ORDER_BEFORE" >"$REPORTING"; fi; ORDER_BEFORE=""; }
trap 'cleanup; restore_pages; rm -rf "$WORK"' EXIT INT TERM

wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

start() {
  case "$1" in
    opentracker)
      # Debian builds opentracker whitelist-only: whitelist the pool.
      printf 'access.whitelist %s\n' "$HASHES" >"$WORK/ot.conf"
      opentracker -f "$WORK/ot.conf" -i 127.0.0.1 -p "$PORT" -P "$PORT" >"$WORK/ot.log" 2>&1 &
      PID=$! ;;
    btx | btx-deno | btx@*)
      # The runtime flags of deno.json's btx task (as users run it), then BTX_DENO_FLAGS.
      # btx-deno is btx tracker on Deno.serve instead of its epoll server; btx@/other/main.ts
      # is another checkout's (A/B runs).
      main="$ROOT/main.ts"
      case "$1" in btx@*) main="${1#btx@}" ;; esac
      # shellcheck disable=SC2086 # word-split on purpose
      deno run --allow-net --allow-read --allow-write --allow-env --allow-sys --allow-ffi \
        $(grep -o '"btx": "[^"]*"' "$ROOT/deno.json" | grep -o -- '--v8-flags=[^ "]*') \
        ${BTX_DENO_FLAGS:-} "$main" \
        tracker --host 127.0.0.1 --port "$PORT" --torrents-dir "$WORK/torrents" \
        --http "$([ "$1" = btx-deno ] && echo deno || echo auto)" >"$WORK/btx.log" 2>&1 &
      PID=$! ;;
    floor-serve | floor-ffi)
      # Not trackers: the cost of answering HTTP at all, with Deno.serve or raw syscalls.
      deno run -A "$HERE/http_floor.ts" "${1#floor-}" "$PORT" >"$WORK/floor.log" 2>&1 &
      PID=$! ;;
    *) echo "unknown tracker $1"; return 1 ;;
  esac
  wait_port
}

# user and system CPU ticks of the whole tracker process (every thread)
cpu_ticks() { awk '{print $14, $15}' /proc/"$PID"/stat 2>/dev/null || echo 0 0; }

run_wrk() { # mode duration
  CLOSE=$([ "$1" = close ] && echo 1 || echo 0) wrk -t"$THREADS" -c"$CONNS" -d"$2" --timeout 5s \
    -s "$HERE/tracker_announce.lua" "http://127.0.0.1:$PORT/announce" 2>/dev/null | grep '^RESULT' | sed 's/^RESULT //'
}

echo "date=$(date -u +%FT%TZ) cpus=$(nproc) threads=$THREADS conns=$CONNS duration=$DURATION hashes=$NHASHES" \
  "page_reporting_order=$(cat "$REPORTING" 2>/dev/null || echo off)"
for t in $TRACKERS; do
  cleanup
  start "$t" || { echo "tracker=$t failed to start"; continue; }
  # CPU time per announce (user+system, from /proc) is steadier than announces/s when other
  # work shares the machine.
  cpu0=$(cpu_ticks)
  res=$(run_wrk close "$DURATION")
  cpu1=$(cpu_ticks)
  n=$(echo "$res" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  us=$(echo "$cpu0 $cpu1" | awk -v n="${n:-0}" -v hz="$(getconf CLK_TCK)" '{
    if (n > 0) printf "cpu_us_per_announce=%.1f user_us=%.1f sys_us=%.1f",
      ($3 + $4 - $1 - $2) * 1e6 / hz / n, ($3 - $1) * 1e6 / hz / n, ($4 - $2) * 1e6 / hz / n
    else print "cpu_us_per_announce=?" }')
  echo "tracker=$t mode=close $res $us"
  done_total=$(echo "$res" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  done_total=${done_total:-0}
  first=1
  while [ "$done_total" -lt "$TOTAL" ]; do
    more=$(run_wrk keepalive 10s)
    n=$(echo "$more" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "tracker=$t keep-alive run failed"; break; }
    # The first keep-alive round's figures, beside the close ones.
    [ "$first" = 1 ] && echo "tracker=$t mode=keepalive $more"
    first=0
    done_total=$((done_total + n))
  done
  rss=$(awk '/VmRSS/{print $2}' /proc/"$PID"/status 2>/dev/null)
  hwm=$(awk '/VmHWM/{print $2}' /proc/"$PID"/status 2>/dev/null)
  echo "tracker=$t announces=$done_total rss_kb=${rss:-?} peak_rss_kb=${hwm:-?}"
  cleanup
done
