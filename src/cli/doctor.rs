//! `dsx doctor`: probe which protocol features a server (or one stream)
//! answers, with the evidence, live latencies and caching headers.
//!
//! Read-only unless `--write`: then it creates streams under
//! `dsx-doctor/` only, and deletes them afterwards. The probes live in
//! `doctor/probes.rs`; this file holds the report and its two forms.

mod probes;
mod writes;

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use super::Context;
use super::output::{escape_line, shown_url};

/// The prefix of every stream the doctor creates.
pub const PREFIX: &str = "dsx-doctor/";

/// `dsx doctor`: which protocol features a server or stream answers.
#[derive(Clone, Debug, clap::Args)]
pub struct DoctorArgs {
    /// The server's stream root or one stream on it (a path relative to
    /// the base URL, or a full URL); default the base URL. Streams that
    /// `--write` creates go under the root: URL when it is not a stream,
    /// else the base URL.
    pub url: Option<String>,
    /// Create streams under `dsx-doctor/` (deleted afterwards) to probe
    /// appends, JSON mode, forks, TTL, producers, closure and latency.
    /// Without it nothing is created or written.
    #[arg(long)]
    pub write: bool,
    /// Print one JSON object instead of the report for people.
    #[arg(long)]
    pub json: bool,
    /// Appends timed per live mode for the latency figures (with --write).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(2..=200))]
    pub samples: u32,
}

/// What one probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The feature answered as the protocol says.
    Pass,
    /// The server answered, but not as the protocol says.
    Fail,
    /// The server does not offer the (optional) feature.
    NotOffered,
    /// Not probed: it needs `--write`, a stream, or an earlier step failed.
    Skipped,
}

impl Verdict {
    /// The word in both outputs.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::NotOffered => "not offered",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One line of the report.
#[derive(Clone, Debug)]
pub struct Check {
    /// Stable key (`head`, `long-poll`, `sse-base64`, ...).
    pub name: &'static str,
    pub verdict: Verdict,
    /// What was seen: the status and headers, or why it was skipped. Raw
    /// server text; escaped when printed.
    pub evidence: String,
}

/// Latency over a short sample of appends, from each append's request to
/// the reader receiving its data.
#[derive(Clone, Debug)]
pub struct Latency {
    pub samples: Vec<Duration>,
}

impl Latency {
    /// The `pct` percentile (nearest rank) of the sample.
    pub fn percentile(&self, pct: u32) -> Option<Duration> {
        let mut sorted = self.samples.clone();
        sorted.sort();
        if sorted.is_empty() {
            return None;
        }
        let n = sorted.len();
        let rank = (n * pct as usize).div_ceil(100).clamp(1, n);
        Some(sorted[rank - 1])
    }
}

/// The whole report.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The URL probed (redacted when shown).
    pub url: String,
    /// Whether URL answered as a stream.
    pub is_stream: bool,
    pub checks: Vec<Check>,
    pub long_poll: Option<Latency>,
    pub sse: Option<Latency>,
    /// Whether SSE events arrived in lumps (a buffering proxy), with why.
    pub sse_buffered: Option<(bool, String)>,
    /// Caching headers a CDN would act on, per response probed.
    pub caching: Vec<(String, String)>,
    /// Every stream `--write` created (all deleted at the end).
    pub created: Vec<String>,
    /// Streams left behind because their delete failed.
    pub leftovers: Vec<String>,
}

impl Report {
    pub(crate) fn check(
        &mut self,
        name: &'static str,
        verdict: Verdict,
        evidence: impl Into<String>,
    ) {
        self.checks.push(Check {
            name,
            verdict,
            evidence: evidence.into(),
        });
    }

    /// The check named `name`, if probed.
    pub fn get(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    fn failures(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .count()
    }
}

/// Runs `dsx doctor`.
pub async fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<()> {
    let report = probes::run(ctx, &args).await?;
    let text = if args.json {
        json(&report)
    } else {
        human(&report)
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    let failed = report.failures();
    if failed > 0 {
        anyhow::bail!("{failed} of the doctor's checks failed");
    }
    if !report.leftovers.is_empty() {
        anyhow::bail!(
            "could not delete {}",
            report
                .leftovers
                .iter()
                .map(|u| shown_url(u))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// The longest evidence shown per check.
const EVIDENCE_MAX: usize = 400;

fn shown(text: &str) -> String {
    escape_line(text, EVIDENCE_MAX)
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The report for people: one aligned line per check, its evidence
/// indented below, then latency, buffering and caching. Every
/// server-provided string is escaped.
pub fn human(report: &Report) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "dsx doctor: {} ({})",
        shown_url(&report.url),
        if report.is_stream {
            "a stream"
        } else {
            "a server root"
        }
    );
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let _ = writeln!(
            text,
            "  {:<width$}  {}",
            check.name,
            check.verdict.label()
        );
        if !check.evidence.is_empty() {
            let _ = writeln!(
                text,
                "  {:<width$}    {}",
                "",
                shown(&check.evidence)
            );
        }
    }
    text.push_str("latency (append to data received):\n");
    for (name, latency) in
        [("long-poll", &report.long_poll), ("SSE", &report.sse)]
    {
        match latency {
            Some(l) => {
                let p50 = l.percentile(50).map_or(0.0, millis);
                let p99 = l.percentile(99).map_or(0.0, millis);
                let _ = writeln!(
                    text,
                    "  {name:<9}  p50 {p50} ms  p99 {p99} ms  ({} samples)",
                    l.samples.len()
                );
            }
            None => {
                let _ = writeln!(text, "  {name:<9}  not measured");
            }
        }
    }
    match &report.sse_buffered {
        Some((buffered, why)) => {
            let _ = writeln!(
                text,
                "SSE buffering: {} ({})",
                if *buffered {
                    "events arrive in lumps: a proxy buffers SSE"
                } else {
                    "events arrive one by one"
                },
                shown(why)
            );
        }
        None => text.push_str("SSE buffering: not measured\n"),
    }
    text.push_str("caching headers a CDN would act on:\n");
    if report.caching.is_empty() {
        text.push_str("  (none seen)\n");
    }
    for (what, headers) in &report.caching {
        let _ = writeln!(text, "  {what}: {}", shown(headers));
    }
    for url in &report.leftovers {
        let _ =
            writeln!(text, "left behind (delete failed): {}", shown_url(url));
    }
    text
}

/// The report as one JSON object (server text escaped as for people, so
/// that printing a field cannot drive a terminal either).
pub fn json(report: &Report) -> String {
    let latency = |l: &Option<Latency>| {
        l.as_ref().map(|l| {
            serde_json::json!({
                "samples": l.samples.len(),
                "p50_ms": l.percentile(50).map(millis),
                "p99_ms": l.percentile(99).map(millis),
            })
        })
    };
    let checks: Vec<_> = report
        .checks
        .iter()
        .map(|c| {
            serde_json::json!({
                "name": c.name,
                "verdict": c.verdict.label(),
                "evidence": shown(&c.evidence),
            })
        })
        .collect();
    let caching: serde_json::Map<_, _> = report
        .caching
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::from(shown(v))))
        .collect();
    let value = serde_json::json!({
        "url": shown_url(&report.url),
        "is_stream": report.is_stream,
        "checks": checks,
        "latency": {
            "long_poll": latency(&report.long_poll),
            "sse": latency(&report.sse),
        },
        "sse_buffered": report.sse_buffered.as_ref().map(|(b, _)| *b),
        "sse_buffering_evidence":
            report.sse_buffered.as_ref().map(|(_, why)| shown(why)),
        "caching": caching,
        "created": report.created.iter().map(|u| shown_url(u))
            .collect::<Vec<_>>(),
        "leftovers": report.leftovers.iter().map(|u| shown_url(u))
            .collect::<Vec<_>>(),
    });
    format!("{value}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let mut r = Report {
            url: "http://u:pw@127.0.0.1:1/v1/stream".into(),
            ..Report::default()
        };
        r.check("head", Verdict::Pass, "HEAD -> 200; x: \x1b[2Jboom");
        r.check("cors", Verdict::NotOffered, "");
        r.long_poll = Some(Latency {
            samples: (1..=10).map(Duration::from_millis).collect(),
        });
        r
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = report().long_poll.unwrap();
        assert_eq!(l.percentile(50), Some(Duration::from_millis(5)));
        assert_eq!(l.percentile(99), Some(Duration::from_millis(10)));
        assert_eq!(Latency { samples: vec![] }.percentile(50), None);
    }

    #[test]
    fn human_escapes_server_text_and_redacts() {
        let text = human(&report());
        assert!(!text.contains('\x1b'), "{text:?}");
        assert!(text.contains("\\x1b[2Jboom"), "{text}");
        assert!(!text.contains("pw@"), "{text}");
        assert!(text.contains("  head  pass\n"), "{text}");
        assert!(text.contains("  cors  not offered\n"), "{text}");
        assert!(text.contains("p50 5 ms  p99 10 ms  (10 samples)"), "{text}");
        assert!(text.contains("SSE        not measured"), "{text}");
    }

    #[test]
    fn json_has_verdicts_and_latency() {
        let v: serde_json::Value =
            serde_json::from_str(&json(&report())).unwrap();
        assert_eq!(v["checks"][0]["name"], "head");
        assert_eq!(v["checks"][0]["verdict"], "pass");
        assert_eq!(v["checks"][1]["verdict"], "not offered");
        assert!(
            !v["checks"][0]["evidence"]
                .as_str()
                .unwrap()
                .contains('\x1b')
        );
        assert_eq!(v["latency"]["long_poll"]["p50_ms"], 5.0);
        assert!(v["latency"]["sse"].is_null());
    }
}
