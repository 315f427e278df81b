#!/usr/bin/env bash
# Export of a 1,000,000-message JSON stream to NDJSON, by the code the
# explorer's export dialog runs (`dsx export`, which calls
# dsx::export::to_file), against `dsx read --format ndjson > file` in the
# same run, on the embedded dev server (`dsx serve`, loopback only).
#
# Usage: bench/export.sh
# Env:   RUNS=3  MESSAGES=1000000  DSX_BIN=path (default: a release build)
# Prints the median seconds of each, the ratio of throughputs (export /
# read, higher is better; the target is >= 0.8) and the peak RSS of each
# (GNU time's maximum resident set size; the target is < 64 MiB).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${RUNS:-3}"
MESSAGES="${MESSAGES:-1000000}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dsx-export-bench.XXXXXX")"
SERVER_PID=""

log() { printf '[export-bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "${DSX_BIN:-}" ]]; then
  (cd "$ROOT" && cargo build --release --quiet)
  DSX_BIN="$ROOT/target/release/dsx"
fi
[[ -x /usr/bin/time ]] || { log "needs GNU time at /usr/bin/time"; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$DSX_BIN" serve --port "$PORT" --max-memory-mb 2048 >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
BASE="http://127.0.0.1:$PORT/v1/stream"
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/" && break; sleep 0.1; done

log "preparing $MESSAGES messages..."
awk -v n="$MESSAGES" 'BEGIN {
  pad = "benchmark payload padding text"
  for (i = 0; i < n; i++)
    printf "{\"id\":%d,\"kind\":\"order\",\"user\":\"u%05d\",\"total\":%d.%02d,\"note\":\"%s\"}\n",
      i, i % 97531, i % 1000, i % 100, pad
}' >"$WORK/messages.ndjson"
curl -sf -X PUT -H 'Content-Type: application/json' "$BASE/json" >/dev/null
"$DSX_BIN" append "$BASE/json" --lines <"$WORK/messages.ndjson" 2>/dev/null

measure() { # name command...: seconds and max RSS KiB into $WORK/NAME.times
  local name="$1"; shift
  /usr/bin/time -f '%e %M' -o "$WORK/$name.one" "$@"
  cat "$WORK/$name.one" >>"$WORK/$name.times"
}
export_once() { rm -f "$WORK/export.ndjson"; measure export "$DSX_BIN" export "$BASE/json" -o "$WORK/export.ndjson"; }
read_once() { measure read sh -c "'$DSX_BIN' read '$BASE/json' --format ndjson > '$WORK/read.ndjson'"; }

# One untimed warm-up of each, which also checks that both wrote the same.
export_once; read_once
cmp "$WORK/export.ndjson" "$WORK/read.ndjson"
[[ "$(wc -l <"$WORK/export.ndjson")" -eq "$MESSAGES" ]]
: >"$WORK/export.times"; : >"$WORK/read.times"
for _ in $(seq "$RUNS"); do export_once; read_once; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
E="$(cut -d' ' -f1 "$WORK/export.times" | median)"
R="$(cut -d' ' -f1 "$WORK/read.times" | median)"
ERSS="$(cut -d' ' -f2 "$WORK/export.times" | sort -n | tail -1)"
RRSS="$(cut -d' ' -f2 "$WORK/read.times" | sort -n | tail -1)"
BYTES="$(wc -c <"$WORK/export.ndjson")"
echo "| | median s | MB/s | peak RSS MiB |"
echo "|---|---|---|---|"
awk -v e="$E" -v r="$R" -v b="$BYTES" -v er="$ERSS" -v rr="$RRSS" 'BEGIN {
  printf "| dsx export (the explorer'"'"'s export code) | %.2f | %.1f | %.1f |\n", e, b/e/1e6, er/1024
  printf "| dsx read --format ndjson > file | %.2f | %.1f | %.1f |\n", r, b/r/1e6, rr/1024
  printf "\nratio (export throughput / read throughput): %.2f; %d runs each, alternated\n", r/e, '"$RUNS"'
}'
