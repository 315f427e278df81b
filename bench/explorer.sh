# Item 5 of the issue for bench/compare.sh (sourced by its bench_explorer,
# with BASE, DSX, WORK, RUNS, ROOT, TARGET_DIR, log, die and row in scope):
# the explorer tails a JSON stream in a PTY while 1,000,000 messages of
# 100 B are appended; see bench/EXPLORER.md. Medians of RUNS runs.

explorer_runs() {
  local bin="$WORK/bin/explorer_burst" out="$WORK/explorer.jsonl" run
  log "explorer: building the burst bench (release)..."
  (cd "$ROOT" && cargo build --release --example explorer_burst) \
    >"$WORK/cargo-explorer.log" 2>&1 \
    || { tail -30 "$WORK/cargo-explorer.log" >&2; die "cargo build explorer"; }
  mkdir -p "$WORK/bin"
  cp "$TARGET_DIR/release/examples/explorer_burst" "$bin" \
    || die "explorer_burst not found"
  : >"$out"
  for ((run = 1; run <= RUNS; run++)); do
    log "explorer: run $run of $RUNS..."
    DSX_BIN="$DSX" "$bin" --server "$BASE" --messages 1000000 \
      >>"$out" 2>>"$WORK/explorer.log" \
      || log "explorer: run $run did not catch up (see $WORK/explorer.log)"
  done
  # One line: lag cpu first_frame peak_rss exact_runs runs (9999 where a
  # run gave no number: it did not catch up).
  node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8")
      .split("\n").filter(Boolean).map(JSON.parse);
    const med = (k) => {
      const v = rows.map((r) => r[k] ?? 9999).sort((a, b) => a - b);
      return v.length ? v[(v.length - 1) >> 1] : 9999;
    };
    const exact = rows.filter((r) => r.count_exact).length;
    console.log([med("lag_s"), med("cpu_s"), med("first_frame_ms"),
      med("peak_rss_mib"), exact, rows.length].join(" "));
  ' "$out"
}

bench_explorer_rows() {
  local lag cpu first rss exact runs
  read -r lag cpu first rss exact runs < <(explorer_runs)
  log "explorer: lag ${lag}s cpu ${cpu}s first frame ${first}ms" \
    "peak ${rss}MiB, exact in $exact of $runs"
  row "explorer: behind at end of 1M burst (s), CPU ${cpu} s" "$lag" "-" \
    "$lag" "<=" 1.0
  row "explorer: runs with the exact count" "$exact/$runs" "-" \
    "$((exact == runs && runs > 0 ? 1 : 0))" ">=" 1
  row "explorer: first frame (ms)" "$first" "-" "$first" "<=" 100
  row "explorer: peak RSS, 1M x 100 B buffered (MiB)" "$rss" "-" "$rss" \
    "<=" 300
}

bench_explorer_rows
