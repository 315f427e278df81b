//! Per-frame cost of formatting one message: the tail formats each visible
//! message every frame, so these must stay in the microseconds.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use dsx::tui::format::{
    JsonStyle, Theme, hex_lines, json_line_count, json_lines,
};

/// A typical small event, about 100 bytes.
const SMALL: &str = r#"{"id":4211,"type":"order.created","user":"u_93a1","total":19.90,"items":[1,2],"ok":true}"#;

/// About 2 KB: an array of records with nesting and escapes.
fn large() -> String {
    let mut out = String::from("{\"batch\":[");
    for i in 0..20 {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"{{"seq":{i},"name":"item \"{i}\"\n","tags":["a","b"],"price":1.50,"meta":{{"ok":null}}}}"#
        );
    }
    out.push_str("]}");
    out
}

fn bench(c: &mut Criterion) {
    let theme = Theme::default();
    let large = large();
    let blob: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("format");
    for (name, raw) in [("small", SMALL.as_bytes()), ("2k", large.as_bytes())] {
        group.bench_function(format!("pretty_{name}"), |b| {
            b.iter(|| json_lines(black_box(raw), JsonStyle::Pretty, &theme));
        });
        group.bench_function(format!("compact_{name}"), |b| {
            b.iter(|| json_lines(black_box(raw), JsonStyle::Compact, &theme));
        });
        group.bench_function(format!("count_pretty_{name}"), |b| {
            b.iter(|| json_line_count(black_box(raw), JsonStyle::Pretty));
        });
    }
    group.bench_function("hex_4k", |b| {
        b.iter(|| hex_lines(black_box(&blob), 0, &theme));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: a quick signal on a shared 2-core machine, not a study.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
