#!/usr/bin/env bash
# Tracker soak: `btx tracker` under wrk at 64 keep-alive connections, every announce
# from a new peer: a warm-up run, then the measured 60 s. Passes when the measured run saw no
# socket error, no non-2xx answer and no failure reply, and the tracker's RSS never rose above
# the highest RSS of the warm-up (plus SLACK_PCT): memory is bounded, not creeping.
# Peers expire: the tracker runs with --interval 10, so peers older than 20 s are swept and the
# live set levels off (450k-850k peers at 22k-31k announces/s here). RSS is a sawtooth, not a
# line: V8 lets the heap grow to about twice the live data before a major GC, and one cycle took
# about two minutes here (470 MB to 1.05 GB and back, over 5 minutes and 9.4M announces), hence
# the long warm-up. Shorter: WARMUP=30 shows the first climb, which is not a leak.
#   DURATION=60 WARMUP=150 CONNS=64 THREADS=2 SLACK_PCT=10 PORT=28981 bench/soak_tracker.sh
# Uses bench/tracker_announce.lua (the announce generator of bench/tracker.sh) unchanged.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
DURATION=${DURATION:-60}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}
WARMUP=${WARMUP:-150}; SLACK_PCT=${SLACK_PCT:-10}; PORT=${PORT:-28981}; NHASHES=${NHASHES:-1000}
WORK=$(mktemp -d /tmp/btx-soak.XXXXXX)
export HASHES="$WORK/hashes.txt" CLOSE=0
for i in $(seq 0 $((NHASHES - 1))); do printf 'btsoak-%d' "$i" | sha1sum | cut -c1-40; done >"$HASHES"

PID=""
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; PID=""; }
trap 'cleanup; rm -rf "$WORK"' EXIT INT TERM

deno run --allow-net --allow-read --allow-write --allow-env --allow-sys --allow-ffi "$ROOT/main.ts" \
  tracker --host 127.0.0.1 --port "$PORT" --interval 10 >"$WORK/tracker.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done

run_wrk() {
  wrk -t"$THREADS" -c"$CONNS" -d"${1}s" --timeout 5s -s "$HERE/tracker_announce.lua" \
    "http://127.0.0.1:$PORT/announce" >"$2" 2>&1
}
sample() { # seconds file: RSS every 5 s while wrk runs
  : >"$2"
  for t in $(seq 5 5 "$1"); do
    sleep 5
    echo "$t $(awk '/VmRSS/{print $2}' /proc/"$PID"/status)" >>"$2"
  done
}
run_wrk "$WARMUP" "$WORK/warmup.txt" &
WRK=$!
sample "$WARMUP" "$WORK/warm_rss.txt"
wait "$WRK"
run_wrk "$DURATION" "$WORK/wrk.txt" &
WRK=$!
sample "$DURATION" "$WORK/rss.txt"
wait "$WRK"

echo "date=$(date -u +%FT%TZ) cpus=$(nproc) duration=${DURATION}s conns=$CONNS threads=$THREADS"
grep -E 'Requests/sec|Socket errors|Non-2xx|^RESULT' "$WORK/wrk.txt"
echo "rss_kb by second of the measured run: $(tr '\n' ' ' <"$WORK/rss.txt")"
fail=0
grep -q 'Socket errors' "$WORK/wrk.txt" && { echo "FAIL: socket errors"; fail=1; }
grep -q 'Non-2xx' "$WORK/wrk.txt" && { echo "FAIL: non-2xx answers"; fail=1; }
invalid=$(sed -n 's/.*invalid=\([0-9]*\).*/\1/p' "$WORK/wrk.txt")
[ "${invalid:-0}" -eq 0 ] || { echo "FAIL: $invalid failure replies"; fail=1; }
lo=$(awk '$2 > hi { hi = $2 } END { print hi + 0 }' "$WORK/warm_rss.txt")
hi=$(awk '$2 > hi { hi = $2 } END { print hi + 0 }' "$WORK/rss.txt")
echo "warm-up rss_kb: $(tr '\n' ' ' <"$WORK/warm_rss.txt")"
echo "highest rss_kb: ${lo} in the ${WARMUP}s warm-up, ${hi} in the measured ${DURATION}s"
if [ $((hi * 100)) -gt $((lo * (100 + SLACK_PCT))) ]; then
  echo "FAIL: RSS rose above the warm-up's peak, ${lo} -> ${hi} kB (over ${SLACK_PCT}%)"; fail=1
fi
[ "$fail" -eq 0 ] && echo "PASS: no errors; RSS stayed under the warm-up's peak"
exit "$fail"
