#!/usr/bin/env bash
# Load run for dsx (by hand, not a timed test; TESTING.md records results).
#
#   1. tails + producer: TAILS `dsx read -f` tails and one `dsx append
#      --lines` producer at full speed for SECONDS against `dsx serve
#      --data-dir`; the stream is then closed, which ends the tails. Every
#      tail, and a catch-up read afterwards, must print exactly the
#      numbered messages 1..N the server acknowledged: zero lost, zero
#      duplicated, in order.
#   2. held readers: LONG_POLLS long-polls and SSE_READERS SSE readers held
#      at the tail of one stream on `dsx serve`, then one append: every
#      reader must get that message exactly once. The server's RSS and
#      open fds (from /proc) are recorded idle, with the readers held, after
#      they are answered, and after ROUNDS more rounds.
#
# Usage: scripts/load.sh            (builds target/release/dsx if missing)
# Env:   DSX_BIN=path  SECONDS_RUN=60  TAILS=10  LONG_POLLS=2000
#        SSE_READERS=200  ROUNDS=3  KEEP_WORK=1 (keep the temp dir)
# Needs: bash, python3, Linux /proc. Loopback only. Exits non-zero on any
# lost or duplicated message or any reader that did not get its message.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SECONDS_RUN="${SECONDS_RUN:-60}"
TAILS="${TAILS:-10}"
LONG_POLLS="${LONG_POLLS:-2000}"
SSE_READERS="${SSE_READERS:-200}"
ROUNDS="${ROUNDS:-3}"
DSX="${DSX_BIN:-$ROOT/target/release/dsx}"

if [[ ! -x "$DSX" ]]; then
  echo "building $DSX (cargo build --release)..." >&2
  (cd "$ROOT" && cargo build --release --locked --bin dsx) >&2
fi
# Readers and their sockets, on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need_fds=$((LONG_POLLS + SSE_READERS + 200))
if (( $(ulimit -n) < need_fds )); then
  echo "ulimit -n is $(ulimit -n); $need_fds open files are needed" >&2
  exit 1
fi

WORK="$(mktemp -d)"
PIDS=()
# kill_tree PID: PID and its descendants (a tail is a subshell running a
# pipeline), found through /proc, by process id only.
kill_tree() {
  local child
  for child in $(cat "/proc/$1/task/"*/children 2>/dev/null); do kill_tree "$child"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill_tree "$pid"; done
  wait 2>/dev/null || true
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_server NAME ARGS...: dsx serve on a free port; sets BASE and SERVER_PID.
start_server() {
  local name="$1" port i
  shift
  port="$(free_port)"
  "$DSX" serve --host 127.0.0.1 --port "$port" "$@" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  BASE="http://127.0.0.1:$port/v1/stream"
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "dsx serve did not start; log:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
}

# usage PID: "RSS <kB> kB, <n> fds" from /proc.
usage() {
  local rss fds
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status")"
  fds="$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  echo "RSS $rss kB, $fds fds"
}

# in_order: reads lines from stdin, which must be {"n":1}, {"n":2}, ...;
# prints the count, or the first line out of order (and exits 1). Streams,
# so a tail's output is checked as it comes and never stored.
in_order() {
  awk '
    { want = "{\"n\":" NR "}"
      if ($0 != want) { printf "line %d is %s, expected %s\n", NR, $0, want; bad = 1; exit 1 } }
    END { if (!bad) print NR }'
}

# check_count RESULT N WHAT: RESULT (in_order's output) says N in order.
check_count() {
  if [[ "$1" == "$2" ]]; then
    echo "$3: $2 messages, each exactly once, in order"
  elif [[ "$1" =~ ^[0-9]+$ ]]; then
    echo "$3: $1 messages in order, expected $2 ($(($2 - $1)) lost)"
    return 1
  else
    echo "$3: $1"
    return 1
  fi
}

FAILED=0

# The checker itself must catch a duplicate and a loss.
dup="$(printf '{"n":1}\n{"n":2}\n{"n":2}\n' | in_order || true)"
if check_count "$dup" 3 "self-check" >/dev/null; then
  echo "in_order missed a duplicate" >&2; exit 1
fi
short="$(printf '{"n":1}\n{"n":2}\n{"n":3}\n' | in_order)"
if check_count "$short" 4 "self-check" >/dev/null; then
  echo "check_count missed a loss" >&2; exit 1
fi

# ---------------------------------------------------------------------
echo "== 1. $TAILS tails and a producer at full speed for $SECONDS_RUN s"
start_server tails --data-dir "$WORK/data" --long-poll-timeout-ms 30000
STREAM="$BASE/load-$RANDOM$RANDOM"
"$DSX" create "$STREAM" --json >/dev/null 2>&1
TAIL_PIDS=()
for i in $(seq 1 "$TAILS"); do
  (
    set -o pipefail
    rc=0
    "$DSX" read "$STREAM" -f 2>"$WORK/tail-$i.err" | in_order >"$WORK/tail-$i.result" || rc=$?
    exit "$rc"
  ) &
  TAIL_PIDS+=($!)
  PIDS+=($!)
done
sleep 1
started=$(date +%s)
# The producer writes whole lines only and stops by itself, so the last
# line is never cut; it prints how many it wrote to fd 3.
producer_rc=0
python3 - "$SECONDS_RUN" 3>"$WORK/produced" <<'PY' | "$DSX" append "$STREAM" --lines 2>"$WORK/producer.err" || producer_rc=$?
import os, sys, time
end = time.time() + float(sys.argv[1])
n = 0
out = sys.stdout
while time.time() < end:
    out.write("".join('{"n":%d}\n' % i for i in range(n + 1, n + 1001)))
    n += 1000
out.flush()
os.write(3, b"%d\n" % n)
PY
produced="$(cat "$WORK/produced")"
elapsed=$(($(date +%s) - started))
echo "producer: $produced lines in ${elapsed} s; dsx append said: $(tail -1 "$WORK/producer.err")"
echo "server after the run: $(usage "$SERVER_PID")"
[[ "$producer_rc" == 0 ]] || { echo "producer failed (exit $producer_rc)"; FAILED=1; }
# What dsx says it appended must be what was sent (the server confirmed).
acked="$(grep -o 'appended [0-9]* messages' "$WORK/producer.err" | awk '{print $2}' | tail -1)"
if [[ "$acked" != "$produced" ]]; then
  echo "dsx append reported ${acked:-no count} appended, $produced were sent"
  FAILED=1
fi
"$DSX" close "$STREAM" >/dev/null 2>&1
for i in $(seq 1 "$TAILS"); do
  pid="${TAIL_PIDS[$((i - 1))]}"
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "tail $i still running 60 s after the close" >&2
    FAILED=1
    kill_tree "$pid"
  fi
  rc=0
  wait "$pid" || rc=$?
  [[ "$rc" == 0 ]] || { echo "tail $i exited $rc: $(tail -3 "$WORK/tail-$i.err")"; FAILED=1; }
  check_count "$(cat "$WORK/tail-$i.result")" "$produced" "tail $i" || FAILED=1
done
catch_up="$("$DSX" read "$STREAM" | in_order)" || true
check_count "$catch_up" "$produced" "catch-up after the run" || FAILED=1
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true

# ---------------------------------------------------------------------
echo
echo "== 2. $LONG_POLLS long-polls + $SSE_READERS SSE readers held on dsx serve"
start_server held --long-poll-timeout-ms 60000
echo "server idle: $(usage "$SERVER_PID")"
python3 - "$BASE" "$SERVER_PID" "$LONG_POLLS" "$SSE_READERS" "$ROUNDS" "$DSX" <<'PY' || FAILED=1
import asyncio, os, subprocess, sys, urllib.request

base, pid, long_polls, sse_readers, rounds, dsx = sys.argv[1:7]
long_polls, sse_readers, rounds = int(long_polls), int(sse_readers), int(rounds)
host, port = base.split("//")[1].split("/")[0].split(":")
path_base = "/" + base.split("//")[1].split("/", 1)[1]

def usage():
    rss = next(l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
    return f"RSS {rss} kB, {len(os.listdir(f'/proc/{pid}/fd'))} fds"

def tail_offset(name):
    req = urllib.request.Request(f"{base}/{name}", method="HEAD")
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["Stream-Next-Offset"]

async def request(path):
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    return reader, writer

async def long_poll(path, marker, ready):
    reader, writer = await request(path)
    ready.release()
    data = await asyncio.wait_for(reader.read(), 120)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.1 200") and data.count(marker) == 1

async def sse(path, marker, ready):
    reader, writer = await request(path)
    ready.release()
    seen = b""
    try:
        while marker not in seen:
            chunk = await asyncio.wait_for(reader.read(65536), 120)
            if not chunk:
                break
            seen += chunk
        # A little longer, to catch a repeat.
        try:
            seen += await asyncio.wait_for(reader.read(65536), 0.5)
        except asyncio.TimeoutError:
            pass
    finally:
        writer.close()
    return seen.count(marker) == 1

async def round_(i, report):
    name = f"held-{os.getpid()}-{i}"
    subprocess.run([dsx, "create", f"{base}/{name}", "--json"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    offset = tail_offset(name)
    marker = f'"round-{i}-marker"'.encode()
    path = f"{path_base}/{name}?offset={offset}"
    ready = asyncio.Semaphore(0)
    tasks = [asyncio.create_task(long_poll(path + "&live=long-poll", marker, ready)) for _ in range(long_polls)]
    tasks += [asyncio.create_task(sse(path + "&live=sse", marker, ready)) for _ in range(sse_readers)]
    for _ in tasks:
        await ready.acquire()
    await asyncio.sleep(2)
    if report:
        print(f"server with {long_polls} long-polls + {sse_readers} SSE held: {usage()}")
    subprocess.run([dsx, "append", f"{base}/{name}", "--json", f'{{"m":{marker.decode()}}}'], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = await asyncio.gather(*tasks, return_exceptions=True)
    lp_ok = sum(1 for r in results[:long_polls] if r is True)
    sse_ok = sum(1 for r in results[long_polls:] if r is True)
    print(f"round {i}: {lp_ok}/{long_polls} long-polls and {sse_ok}/{sse_readers} SSE readers got the message exactly once")
    subprocess.run([dsx, "delete", f"{base}/{name}"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return lp_ok == long_polls and sse_ok == sse_readers

async def main():
    ok = await round_(0, True)
    await asyncio.sleep(1)
    print(f"server after the readers were answered: {usage()}")
    for i in range(1, rounds + 1):
        ok = await round_(i, False) and ok
    await asyncio.sleep(1)
    print(f"server after {rounds} more rounds: {usage()}")
    sys.exit(0 if ok else 1)

asyncio.run(main())
PY

echo
if [[ "$FAILED" == 0 ]]; then echo "load run: all checks passed"; else echo "load run: FAILED"; fi
exit "$FAILED"
