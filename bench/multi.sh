#!/usr/bin/env bash
# Issue 12's multi-stream target: 10 streams each receiving 20,000 msg/s
# of 100 B for 10 s while the real `dsx` tails them merged (`o`, a glob)
# in a PTY; see examples/multi_burst.rs. RUNS runs (default 3), one JSON
# line each, then the medians of lag, CPU and peak RSS.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-3}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release --bin dsx --example multi_burst) >&2
out="$(mktemp)"
for ((run = 1; run <= RUNS; run++)); do
  echo "multi: run $run of $RUNS..." >&2
  DSX_BIN="$TARGET_DIR/release/dsx" "$TARGET_DIR/release/examples/multi_burst" \
    "$@" | tee -a "$out" || echo "multi: run $run missed an exact count" >&2
done
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8")
    .split("\n").filter(Boolean).map(JSON.parse);
  const med = (k) => {
    const v = rows.map((r) => r[k] ?? 9999).sort((a, b) => a - b);
    return v.length ? v[(v.length - 1) >> 1] : 9999;
  };
  const exact = rows.filter((r) => r.counts_exact).length;
  console.log(`multi: lag ${med("lag_s")} s, cpu ${med("cpu_s")} s, ` +
    `peak ${med("peak_rss_mib")} MiB, rate reached ` +
    `${med("rate_reached_per_stream")}/s per stream, exact in ` +
    `${exact} of ${rows.length}`);
' "$out"
rm -f "$out"
