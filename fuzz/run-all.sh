#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, one job, for SECONDS each
# (default 600), and keeps each run's log in logs/. Needs cargo-fuzz; on a
# stable toolchain RUSTC_BOOTSTRAP=1 lets it pass its nightly flags.
set -u
cd "$(dirname "$0")"
secs="${1:-600}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    targets=(sse json_split sanitize adapter_command config bookmarks)
fi
export RUSTC_BOOTSTRAP=1
mkdir -p logs
./seed.sh
cargo fuzz build -O > logs/build.out 2>&1 || { tail -20 logs/build.out; exit 1; }
bin=target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t start $(date -u +%FT%TZ)" | tee -a logs/summary.txt
    # The binary itself, not `cargo fuzz run`: after a crash that one
    # rebuilds everything with other flags just to print a backtrace.
    "$bin/$t" "corpus/$t" \
        -max_total_time="$secs" -jobs=1 -workers=1 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" \
        > "logs/$t.out" 2>&1
    rc=$?
    # With -jobs, libFuzzer writes the worker's log to fuzz-0.log.
    [ -f fuzz-0.log ] && mv fuzz-0.log "logs/$t.log"
    echo "== $t end $(date -u +%FT%TZ) rc=$rc corpus=$(ls "corpus/$t" | wc -l) crashes=$(ls "artifacts/$t" | wc -l)" \
        | tee -a logs/summary.txt
done
