#!/usr/bin/env bash
# dsx's side-by-side benchmark against curl and the official TypeScript
# client, on the official Rust server (loopback only).
#
# Usage: bench/compare.sh
# Env:   RUNS=5            measured runs per contender (medians are taken)
#        ONLY=a,b          run only these sections: json, binary, append,
#                          latency, explorer (default: all)
#        JSON_MESSAGES=1000000  BINARY_MIB=256  APPEND_MESSAGES=100000
#        LATENCY_COUNT=200 LATENCY_INTERVAL_MS=10
#        DSX_LATENCY_RUNTIME=current|multi  Tokio runtime of dsx's probe
#        SETTLE=0.3        seconds of quiet before each timed run
#        DS_BENCH_HOME     install cache (default ~/.cache/dsx-bench)
#        DS_REF_HOME       an existing start-ref-servers.sh install to reuse
#        DS_SERVER_ARGS    extra flags for durable-streams-server
#        DSX_BIN           a dsx binary to measure instead of the one built
#        KEEP_WORK=1       keep the temp dir (data, logs, raw timings)
#
# It installs what it needs (the server with cargo, the TypeScript client
# with npm ci), builds dsx and the latency probe in release mode, starts the
# server on a free 127.0.0.1 port, prepares the data, then runs each
# benchmark alternating the contenders (A B A B ...) after one untimed
# warm-up run of each that also checks the output. Prints a markdown table.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
RUNS="${RUNS:-5}"
ONLY="${ONLY:-}"
JSON_MESSAGES="${JSON_MESSAGES:-1000000}"
BINARY_MIB="${BINARY_MIB:-256}"
APPEND_MESSAGES="${APPEND_MESSAGES:-100000}"
LATENCY_COUNT="${LATENCY_COUNT:-200}"
LATENCY_INTERVAL_MS="${LATENCY_INTERVAL_MS:-10}"
DSX_LATENCY_RUNTIME="${DSX_LATENCY_RUNTIME:-current}"
SETTLE="${SETTLE:-0.3}"
RUNS_ASKED="${RUNS:-5}"
SERVER_VERSION=0.1.5
DS_BENCH_HOME="${DS_BENCH_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/dsx-bench}"
DS_REF_HOME="${DS_REF_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/durable-streams-ref}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dsx-bench.XXXXXX")"
SERVER_PID=""
ROWS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
want() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }

cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${KEEP_WORK:-0}" == 1 ]]; then
    log "kept $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# ---------------------------------------------------------------- install

install_server() {
  local ref="$DS_REF_HOME/cargo/bin/durable-streams-server"
  local own="$DS_BENCH_HOME/cargo/bin/durable-streams-server"
  if [[ -x "$ref" ]]; then
    SERVER_BIN="$ref"
  else
    if [[ ! -x "$own" ]]; then
      log "installing durable-streams $SERVER_VERSION with cargo..."
      mkdir -p "$DS_BENCH_HOME"
      cargo install durable-streams --version "$SERVER_VERSION" --locked \
        --root "$DS_BENCH_HOME/cargo" >"$WORK/cargo-install.log" 2>&1 \
        || { tail -20 "$WORK/cargo-install.log" >&2; die "cargo install"; }
    fi
    SERVER_BIN="$own"
  fi
  log "server: $SERVER_BIN"
}

install_ts() {
  local marker="$HERE/ts/node_modules/@durable-streams/client/package.json"
  if [[ ! -f "$marker" || "$HERE/ts/package-lock.json" -nt "$marker" ]]; then
    log "installing the TypeScript client with npm ci..."
    (cd "$HERE/ts" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1 \
      || { tail -20 "$WORK/npm.log" >&2; die "npm ci"; }
  fi
  TS_VERSION="$(node -p "require('$marker').version")"
}

build_dsx() {
  log "building dsx and the latency probe (release)..."
  local what=(--example latency)
  [[ -n "${DSX_BIN:-}" ]] || what+=(--bin dsx)
  (cd "$ROOT" && cargo build --release "${what[@]}") \
    >"$WORK/cargo-build.log" 2>&1 \
    || { tail -30 "$WORK/cargo-build.log" >&2; die "cargo build"; }
  # Private copies: a target dir shared with other worktrees may see its
  # release binaries replaced by their builds during the run.
  mkdir -p "$WORK/bin"
  cp "${DSX_BIN:-$TARGET_DIR/release/dsx}" "$WORK/bin/dsx" \
    || die "dsx binary not found"
  cp "$TARGET_DIR/release/examples/latency" "$WORK/bin/latency" \
    || die "latency probe not found"
  DSX="$WORK/bin/dsx"
  LATENCY="$WORK/bin/latency"
  "$DSX" read --help | grep -q -- --format \
    || die "$DSX has no 'read --format': not the dsx under test?"
}

# ----------------------------------------------------------------- server

free_port() {
  node -e 'const s=require("net").createServer();
    s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start_server() {
  local port
  port="$(free_port)"
  # shellcheck disable=SC2206
  local args=(--host 127.0.0.1 --port "$port" --data-dir "$WORK/server-data"
    ${DS_SERVER_ARGS:-})
  "$SERVER_BIN" "${args[@]}" >"$WORK/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  BASE="http://127.0.0.1:$port/v1/stream"
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null \
      || { tail -20 "$WORK/server.log" >&2; die "server exited"; }
    curl -s -o /dev/null "http://127.0.0.1:$port/health" && {
      log "server on 127.0.0.1:$port (pid $SERVER_PID)"
      return 0
    }
    sleep 0.2
  done
  die "server did not answer within 20 s"
}

create_stream() { # create_stream NAME CONTENT-TYPE
  curl -sS --fail -o /dev/null -X PUT -H "Content-Type: $2" "$BASE/$1"
}

post_file() { # post_file NAME CONTENT-TYPE FILE
  curl -sS --fail -o /dev/null --max-time 300 -X POST \
    -H "Content-Type: $2" --data-binary "@$3" "$BASE/$1"
}

# ------------------------------------------------------------------- data

# ~100-byte JSON messages, one a line: FILE COUNT.
json_lines() {
  awk -v n="$2" 'BEGIN {
    pad = "benchmark payload padding text"
    for (i = 0; i < n; i++)
      printf "{\"id\":%d,\"kind\":\"order\",\"user\":\"u%05d\",\"total\":%d.%02d,\"note\":\"%s\"}\n",
        i, i % 97531, i % 1000, i % 100, pad
  }' >"$1"
}

prepare_json() {
  log "preparing $JSON_MESSAGES JSON messages..."
  json_lines "$WORK/messages.ndjson" "$JSON_MESSAGES"
  JSON_LINE_BYTES="$(wc -c <"$WORK/messages.ndjson")"
  # Large JSON-array POSTs of 100,000 messages each.
  mkdir -p "$WORK/json-bodies"
  awk -v dir="$WORK/json-bodies" -v per=100000 '{
    if ((NR - 1) % per == 0) {
      if (f) { printf "]" >f; close(f) }
      f = sprintf("%s/%06d.json", dir, NR); printf "[" >f
    } else printf "," >f
    printf "%s", $0 >f
  } END { if (f) printf "]" >f }' "$WORK/messages.ndjson"
  create_stream json application/json
  local body
  for body in "$WORK"/json-bodies/*.json; do
    post_file json application/json "$body"
  done
  rm -rf "$WORK/json-bodies"
}

prepare_binary() {
  log "preparing a $BINARY_MIB MiB binary stream..."
  local left="$BINARY_MIB" size
  head -c $((64 << 20)) /dev/urandom >"$WORK/chunk.bin"
  create_stream binary application/octet-stream
  while ((left > 0)); do
    size=$((left < 64 ? left : 64))
    if ((size < 64)); then
      head -c $((size << 20)) "$WORK/chunk.bin" >"$WORK/part.bin"
      post_file binary application/octet-stream "$WORK/part.bin"
    else
      post_file binary application/octet-stream "$WORK/chunk.bin"
    fi
    left=$((left - size))
  done
  rm -f "$WORK/chunk.bin" "$WORK/part.bin"
  BINARY_BYTES=$((BINARY_MIB << 20))
}

# ---------------------------------------------------------------- helpers

# The dsx command lines under test, in one place.
dsx_read_raw() { "$DSX" read "$1" --from -1 --live off --format raw; }
dsx_read_ndjson() { "$DSX" read "$1" --from -1 --live off --format ndjson; }
dsx_append() { "$DSX" append "$1" --lines --json <"$2" 2>>"$WORK/dsx-append.log"; }

ts() { node "$HERE/ts/$1" "${@:2}"; }

now() { echo "$EPOCHREALTIME"; }

# timed OUTFILE CMD...: runs CMD with stdout to /dev/null, appends the
# elapsed seconds to OUTFILE.
timed() {
  local out="$1" start end
  shift
  start="$(now)"
  "$@" >/dev/null
  end="$(now)"
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.6f\n", b - a }' >>"$out"
}

median() { # median FILE (one number a line)
  sort -g "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
  }'
}

# alternate NAME CMD...: RUNS timed runs of each command, taking turns
# (A B A B ..., or A B C, B C A, C A B ...), each after a SETTLE pause. The commands are strings evaluated with
# `eval` and may use $run (1..RUNS). Medians land in MED[0..].
alternate() {
  local name="$1" run i
  shift
  local cmds=("$@")
  for i in "${!cmds[@]}"; do : >"$WORK/$name.$i"; done
  local n=${#cmds[@]} k first
  for ((run = 1; run <= RUNS; run++)); do
    # A fixed order would always run the same contender first after the
    # pause (when the server has gone idle) or right after the same other
    # one; rotating the start spreads that out: A B, B A, ...
    first=$(((run - 1) % n))
    for ((k = 0; k < n; k++)); do
      i=$(((first + k) % n))
      sleep "$SETTLE"
      eval "timed \"\$WORK/$name.$i\" ${cmds[$i]}"
    done
  done
  MED=()
  for i in "${!cmds[@]}"; do MED+=("$(median "$WORK/$name.$i")"); done
  log "$name: medians (s) ${MED[*]}"
}

check_eq() { # check_eq WHAT GOT WANT
  [[ "$2" == "$3" ]] || die "$1: got $2, expected $3"
  log "check $1: $2 ok"
}

# row BENCH DSX-CELL PEER-CELL RATIO TARGET-OP TARGET
row() {
  local met
  met="$(awk -v r="$4" -v op="$5" -v t="$6" 'BEGIN {
    ok = (op == ">=") ? (r >= t) : (r <= t); print ok ? "yes" : "**no**" }')"
  ROWS+=("| $1 | $2 | $3 | $4 | $5 $6 | $met |")
}

fmt() { awk -v v="$1" -v d="${2:-2}" 'BEGIN { printf "%.*f", d, v }'; }
per_sec() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mib_s() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", n / t / 1048576 }'; }

# ------------------------------------------------------------- benchmarks

bench_json() {
  prepare_json
  local url="$BASE/json" n="$JSON_MESSAGES" curl_bytes dsx_bytes
  log "json: warm-up and checks..."
  curl_bytes="$("$HERE/curl-read.sh" "$url" | wc -c)"
  dsx_bytes="$(dsx_read_raw "$url" | wc -c)"
  if [[ "$dsx_bytes" != "$curl_bytes" ]]; then
    log "note: dsx raw wrote $dsx_bytes bytes, curl $curl_bytes"
  fi
  check_eq "dsx ndjson lines" "$(dsx_read_ndjson "$url" | wc -l)" "$n"
  check_eq "ts json messages" "$(ts read-json.mjs "$url")" "$n"

  # The raw read takes ~0.06 s and single runs of either side vary by
  # +-30 % on this kind of machine: medians of at least 15 runs.
  local RUNS=$((RUNS < 15 ? 15 : RUNS))
  alternate json-raw 'dsx_read_raw "$BASE/json"' \
    '"$HERE/curl-read.sh" "$BASE/json"'
  row "Catch-up raw read, $n JSON msgs (msg/s)" \
    "$(per_sec "$n" "${MED[0]}")" "curl $(per_sec "$n" "${MED[1]}")" \
    "$(ratio "${MED[1]}" "${MED[0]}")" ">=" 0.8
  RUNS="$RUNS_ASKED"
  alternate json-ndjson 'dsx_read_ndjson "$BASE/json"' \
    'ts read-json.mjs "$BASE/json"'
  row "Catch-up JSON read, $n msgs (msg/s)" \
    "$(per_sec "$n" "${MED[0]}")" "TS $(per_sec "$n" "${MED[1]}")" \
    "$(ratio "${MED[1]}" "${MED[0]}")" ">=" 4
}

bench_binary() {
  prepare_binary
  local url="$BASE/binary" b="$BINARY_BYTES"
  log "binary: warm-up and checks..."
  check_eq "dsx bytes" "$(dsx_read_raw "$url" | wc -c)" "$b"
  check_eq "curl bytes" "$("$HERE/curl-read.sh" "$url" | wc -c)" "$b"
  check_eq "ts bytes" "$(ts read-bytes.mjs "$url" 2>/dev/null | wc -c)" "$b"

  alternate binary 'dsx_read_raw "$BASE/binary"' \
    '"$HERE/curl-read.sh" "$BASE/binary"' \
    'ts read-bytes.mjs "$BASE/binary" 2>/dev/null'
  row "Catch-up read, $BINARY_MIB MiB binary (MiB/s)" \
    "$(mib_s "$b" "${MED[0]}")" "curl $(mib_s "$b" "${MED[1]}")" \
    "$(ratio "${MED[1]}" "${MED[0]}")" ">=" 0.8
  row "Catch-up read, $BINARY_MIB MiB binary (MiB/s)" \
    "$(mib_s "$b" "${MED[0]}")" "TS $(mib_s "$b" "${MED[2]}")" \
    "$(ratio "${MED[2]}" "${MED[0]}")" ">=" 2
}

bench_append() {
  local n="$APPEND_MESSAGES" run
  log "append: preparing $n messages and $((RUNS + 1)) streams per side..."
  json_lines "$WORK/append.ndjson" "$n"
  for ((run = 0; run <= RUNS; run++)); do
    create_stream "append-dsx-$run" application/json
    create_stream "append-ts-$run" application/json
  done
  log "append: warm-up and checks..."
  dsx_append "$BASE/append-dsx-0" "$WORK/append.ndjson" >/dev/null
  ts append.mjs "$BASE/append-ts-0" "$WORK/append.ndjson" >/dev/null
  check_eq "dsx appended" "$(ts read-json.mjs "$BASE/append-dsx-0")" "$n"
  check_eq "ts appended" "$(ts read-json.mjs "$BASE/append-ts-0")" "$n"
  cmp -s <("$HERE/curl-read.sh" "$BASE/append-dsx-0") \
    <("$HERE/curl-read.sh" "$BASE/append-ts-0") \
    || die "the two producers stored different content"
  log "check append content: identical ok"

  alternate append \
    'dsx_append "$BASE/append-dsx-$run" "$WORK/append.ndjson"' \
    'ts append.mjs "$BASE/append-ts-$run" "$WORK/append.ndjson"'
  row "Producer append, $n JSON msgs (msg/s)" \
    "$(per_sec "$n" "${MED[0]}")" "TS $(per_sec "$n" "${MED[1]}")" \
    "$(ratio "${MED[1]}" "${MED[0]}")" ">=" 1.5
}

# One latency probe run: CLIENT MODE RUN; appends "p50 p99" to a file.
latency_run() {
  local client="$1" mode="$2" run="$3" out
  local args=(--url "$BASE/lat-$client-$mode-$run" --mode "$mode"
    --count "$LATENCY_COUNT" --interval-ms "$LATENCY_INTERVAL_MS")
  if [[ "$client" == dsx ]]; then
    out="$("$LATENCY" "${args[@]}" --runtime "$DSX_LATENCY_RUNTIME")"
  else
    out="$(ts latency.mjs "${args[@]}")"
  fi
  echo "$out" >>"$WORK/latency.jsonl"
  node -e 'const r = JSON.parse(process.argv[1]);
    if (r.n < Number(process.argv[2])) process.exit(1);
    console.log(r.p50_ms, r.p99_ms)' "$out" "$LATENCY_COUNT" \
    >>"$WORK/lat-$client-$mode" || die "short latency run: $out"
}

bench_latency() {
  local mode run client col p dsx_v ts_v
  for mode in sse long-poll; do
    : >"$WORK/lat-dsx-$mode" && : >"$WORK/lat-ts-$mode"
    log "latency $mode: $RUNS runs per client, $LATENCY_COUNT appends each"
    for ((run = 1; run <= RUNS; run++)); do
      for client in dsx ts; do latency_run "$client" "$mode" "$run"; done
    done
    for col in 1 2; do
      p=$([[ $col == 1 ]] && echo p50 || echo p99)
      cut -d' ' -f"$col" "$WORK/lat-dsx-$mode" >"$WORK/lat-dsx-$mode.$p"
      cut -d' ' -f"$col" "$WORK/lat-ts-$mode" >"$WORK/lat-ts-$mode.$p"
      dsx_v="$(median "$WORK/lat-dsx-$mode.$p")"
      ts_v="$(median "$WORK/lat-ts-$mode.$p")"
      log "latency $mode $p per run: dsx $(paste -sd' ' \
        "$WORK/lat-dsx-$mode.$p"); ts $(paste -sd' ' "$WORK/lat-ts-$mode.$p")"
      row "Live latency $mode $p, $LATENCY_COUNT appends (ms)" \
        "$(fmt "$dsx_v")" "TS $(fmt "$ts_v")" "$(ratio "$dsx_v" "$ts_v")" \
        "<=" 1.0
    done
  done
}

# ---------------------------------------------------------------- explorer
# Item 5 of the issue (the explorer under a 1M-message burst) plugs in here:
# a bench/explorer.* file is sourced with this script's functions and
# variables in scope (BASE, DSX, WORK, RUNS, alternate, row, ...) and adds
# its own rows. Until it exists the section is skipped.
bench_explorer() {
  local hook
  hook="$(find "$HERE" -maxdepth 1 -name 'explorer.*' | head -1)"
  if [[ -z "$hook" ]]; then
    log "explorer: skipped (no bench/explorer.* yet)"
    return 0
  fi
  # shellcheck disable=SC1090
  source "$hook"
}

# ------------------------------------------------------------------- main

command -v node >/dev/null || die "node is required"
command -v cargo >/dev/null || die "cargo is required"
command -v curl >/dev/null || die "curl is required"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"

install_server
install_ts
build_dsx
start_server

if want json; then bench_json; fi
if want binary; then bench_binary; fi
if want append; then bench_append; fi
if want latency; then bench_latency; fi
if want explorer; then bench_explorer; fi

cat <<EOF

## dsx benchmark run, $(date -u '+%Y-%m-%d %H:%M UTC')

- Machine: $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }'), Linux $(uname -r)
- Server: durable-streams $SERVER_VERSION (durable-streams-server) on 127.0.0.1, flags: ${DS_SERVER_ARGS:-none beyond host, port, data dir}
- Peers: curl $(curl --version | awk 'NR == 1 { print $2 }'), @durable-streams/client $TS_VERSION on node $(node --version)
- dsx's latency probe on a $DSX_LATENCY_RUNTIME-thread Tokio runtime
- dsx at $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); medians of $RUNS runs per contender, taken in turns after one warm-up
- Ratio: throughput dsx / peer (higher is better); latency dsx / peer (lower is better)

| benchmark | dsx | peer | ratio | target | met? |
|---|---|---|---|---|---|
EOF
printf '%s\n' "${ROWS[@]}"
