#!/usr/bin/env bash
# Run the official Durable Streams server conformance suite
# (npm @durable-streams/server-conformance-tests 0.3.6, 338 tests) against `dsx serve`.
#
# Installs the suite and vitest once into
#   ${DS_REF_HOME:-$HOME/.cache/durable-streams-ref}/server-conformance
# builds dsx (debug), starts `dsx serve` on a free loopback port with a 500 ms long-poll
# timeout, runs the suite, prints the summary, stops the server and exits non-zero on any
# failure. Extra arguments are passed to vitest (e.g. `-t "JSON mode"`).
# The suite's subscription tests (`Reserved subscription APIs`) run only with
# DS_SUBSCRIPTIONS=1, which the wrapper passes on as `subscriptions: true`;
# this script sets it, so all 338 run and none is skipped.
# Env: DSX_BIN (use this binary instead of building), DS_LP_MS (default 500),
#      DSX_SERVE_ARGS (extra `dsx serve` flags, e.g. "--data-dir /tmp/ds").
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$REPO/../shared/tools"
SUITE_VERSION=0.3.6
VITEST_VERSION="^4.0.0"
DS_REF_HOME="${DS_REF_HOME:-$HOME/.cache/durable-streams-ref}"
DIR="$DS_REF_HOME/server-conformance"
LP_MS="${DS_LP_MS:-500}"

mkdir -p "$DIR"
if [[ ! -f "$DIR/node_modules/@durable-streams/server-conformance-tests/package.json" \
   || ! -x "$DIR/node_modules/.bin/vitest" ]]; then
  echo "installing @durable-streams/server-conformance-tests@$SUITE_VERSION and vitest into $DIR ..." >&2
  [[ -f "$DIR/package.json" ]] || (cd "$DIR" && npm init -y >/dev/null)
  (cd "$DIR" && npm install --no-audit --no-fund \
      "@durable-streams/server-conformance-tests@$SUITE_VERSION" "vitest@$VITEST_VERSION") \
    >"$DIR/npm-install.log" 2>&1 || { tail -30 "$DIR/npm-install.log" >&2; exit 1; }
fi
if [[ -f "$TOOLS/server-conformance.test.mjs" ]]; then
  install -m 0644 "$TOOLS/server-conformance.test.mjs" "$DIR/server-conformance.test.mjs"
elif [[ ! -f "$DIR/server-conformance.test.mjs" ]]; then
  echo "missing $TOOLS/server-conformance.test.mjs" >&2; exit 1
fi

if [[ -z "${DSX_BIN:-}" ]]; then
  (cd "$REPO" && cargo build --bin dsx) >"$DIR/build.log" 2>&1 \
    || { tail -40 "$DIR/build.log" >&2; exit 1; }
  DSX_BIN="${CARGO_TARGET_DIR:-$REPO/target}/debug/dsx"
fi

LOG="$(mktemp -t dsx-conformance-server.XXXXXX)"
# shellcheck disable=SC2086 # DSX_SERVE_ARGS is a list of flags
"$DSX_BIN" serve --port 0 --long-poll-timeout-ms "$LP_MS" ${DSX_SERVE_ARGS:-} \
  >"$LOG" 2>&1 &
SERVER_PID=$!
cleanup() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

URL=""
for _ in $(seq 1 100); do
  URL="$(grep -o 'http://[^ )]*' "$LOG" | head -1 || true)"
  [[ -n "$URL" ]] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "dsx serve exited:" >&2; cat "$LOG" >&2; exit 1
  fi
  sleep 0.1
done
[[ -n "$URL" ]] || { echo "dsx serve printed no URL:" >&2; cat "$LOG" >&2; exit 1; }
echo "dsx serve at $URL (long-poll $LP_MS ms); running the suite..." >&2

set +e
(cd "$DIR" && DS_URL="$URL" DS_LP_MS="$LP_MS" DS_SUBSCRIPTIONS=1 npx vitest run server-conformance.test.mjs \
   --testTimeout=30000 "$@") >"$DIR/last-run.log" 2>&1
RC=$?
set -e
# Strip colours so the summary greps and reads cleanly.
sed -i 's/\x1b\[[0-9;]*m//g' "$DIR/last-run.log"
grep -E '(FAIL|×|✗) ' "$DIR/last-run.log" | head -60 || true
grep -E '^ *(Test Files|Tests) ' "$DIR/last-run.log" || tail -20 "$DIR/last-run.log"
echo "full log: $DIR/last-run.log" >&2
if [[ $RC -eq 0 && $# -eq 0 ]] && grep -qE '^ *Tests .*skipped' "$DIR/last-run.log"; then
  echo "the suite skipped tests; every one of them must run" >&2
  exit 1
fi
exit $RC
