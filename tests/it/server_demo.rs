//! `dsx demo`, the real binary: its streams, liveness, registry, shutdown.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::Value;
use support::{Dsx, http};

const STREAMS: [&str; 7] = [
    "demo/orders",
    "demo/orders-fork",
    "demo/app-log",
    "demo/app-events",
    "demo/session-ttl",
    "demo/build-2291",
    "demo/thumbnail.png",
];

#[tokio::test]
async fn demo_serves_every_kind_of_stream() {
    let mut dsx = Dsx::spawn(&["demo", "--port", "0"]);
    let url = dsx.loopback_url();
    let listed =
        dsx.wait_line(Duration::from_secs(30), |l| l.contains("Ctrl-C"));
    assert!(
        listed.is_some(),
        "no listing; output:\n{}",
        dsx.transcript()
    );
    let printed = dsx.transcript();
    for name in STREAMS {
        assert!(printed.contains(name), "{name} not listed:\n{printed}");
    }
    let http = http();
    let base = format!("{url}/v1/stream");

    let content_types = [
        ("demo/orders", "application/json"),
        ("demo/orders-fork", "application/json"),
        ("demo/app-log", "text/plain"),
        ("demo/app-events", "application/json"),
        ("demo/session-ttl", "application/json"),
        ("demo/build-2291", "text/plain"),
        ("demo/thumbnail.png", "image/png"),
    ];
    for (name, content_type) in content_types {
        let head = http.head(format!("{base}/{name}")).send().await.unwrap();
        assert_eq!(head.status(), StatusCode::OK, "HEAD {name}");
        let got = head.headers()["content-type"].to_str().unwrap();
        assert!(got.starts_with(content_type), "{name}: {got}");
        let closed = head.headers().get("stream-closed");
        let is_closed = closed.is_some_and(|v| v == "true");
        assert_eq!(is_closed, name == "demo/build-2291", "{name} closure");
    }

    let ttl = http.head(format!("{base}/demo/session-ttl")).send().await;
    assert_eq!(ttl.unwrap().headers()["stream-ttl"], "60");

    let build = get(&http, &format!("{base}/demo/build-2291")).await;
    let build = String::from_utf8(build).unwrap();
    assert!(build.starts_with("[ci] build #2291"), "{build}");
    assert!(build.ends_with("214 tests passed\n"), "{build}");

    let png = get(&http, &format!("{base}/demo/thumbnail.png")).await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");

    check_orders_and_fork(&http, &base).await;
    check_live(&http, &base).await;
    check_registry(&http, &base).await;

    dsx.terminate();
    let status = dsx.wait_exit(Duration::from_secs(15));
    assert!(
        status.is_some_and(|s| s.success()),
        "no clean exit on SIGTERM ({status:?}); output:\n{}",
        dsx.transcript()
    );
}

/// Orders are consistent; the fork holds a prefix of them plus refunds.
async fn check_orders_and_fork(http: &Client, base: &str) {
    let orders = get_json(http, &format!("{base}/demo/orders")).await;
    let fork = get_json(http, &format!("{base}/demo/orders-fork")).await;
    assert!(orders.len() >= 150, "{} orders", orders.len());
    for event in &orders {
        for field in ["type", "event_id", "seq", "ts", "order_id"] {
            assert!(!event[field].is_null(), "no {field}: {event}");
        }
        if event["type"] == "order.created" {
            let items = event["items"].as_array().unwrap();
            let subtotal: u64 = items
                .iter()
                .map(|i| i["line_total_cents"].as_u64().unwrap())
                .sum();
            assert_eq!(event["subtotal_cents"], subtotal, "{event}");
            let total = ["subtotal_cents", "shipping_cents", "tax_cents"]
                .iter()
                .map(|f| event[f].as_u64().unwrap())
                .sum::<u64>();
            assert_eq!(event["total_cents"], total, "{event}");
        }
    }
    let seqs: Vec<u64> =
        orders.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "seq gaps");

    let inherited: Vec<&Value> = fork
        .iter()
        .filter(|e| e["type"] != "order.refunded")
        .collect();
    assert_eq!(inherited.len(), 100, "fork point");
    assert!(inherited.iter().zip(&orders).all(|(f, o)| *f == o));
    let refunds = fork.len() - inherited.len();
    assert_eq!(refunds, 2, "fork-only events");
    assert!(orders.iter().all(|e| e["type"] != "order.refunded"));
}

/// The live streams grow within a few seconds.
async fn check_live(http: &Client, base: &str) {
    for name in ["demo/orders", "demo/app-log", "demo/app-events"] {
        let url = format!("{base}/{name}");
        let before = tail(http, &url).await;
        let deadline = Instant::now() + Duration::from_secs(8);
        let mut grew = false;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if tail(http, &url).await != before {
                grew = true;
                break;
            }
        }
        assert!(grew, "{name} did not grow in 8 s");
    }
    // The JSON log: one event per text line, each with a lower-case level
    // the explorer's filter can select on.
    let events = get_json(http, &format!("{base}/demo/app-events")).await;
    assert!(events.len() >= 60, "{} events", events.len());
    for e in &events {
        let level = e["level"].as_str().expect("a level");
        assert!(["debug", "info", "warn", "error"].contains(&level), "{e}");
        assert!(e["msg"].is_string() && e["ts"].is_string(), "{e}");
    }
    let orders = get_json(http, &format!("{base}/demo/orders")).await;
    let newest = orders.last().unwrap();
    let ts = newest["ts"].as_str().unwrap();
    let format = time::format_description::well_known::Rfc3339;
    let when = time::OffsetDateTime::parse(ts, &format).unwrap();
    let age = time::OffsetDateTime::now_utc() - when;
    assert!(age.abs() < time::Duration::seconds(30), "stale ts {ts}");
}

async fn check_registry(http: &Client, base: &str) {
    let events = get_json(http, &format!("{base}/__registry__")).await;
    let names: Vec<String> = events
        .iter()
        .filter_map(|e| {
            e["key"].as_str().or_else(|| e["value"]["path"].as_str())
        })
        .map(|k| k.trim_start_matches("/v1/stream/").trim_start_matches('/'))
        .map(str::to_owned)
        .collect();
    for name in STREAMS {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
}

async fn get(http: &Client, url: &str) -> Vec<u8> {
    let resp = http.get(format!("{url}?offset=-1")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "GET {url}");
    resp.bytes().await.unwrap().to_vec()
}

async fn get_json(http: &Client, url: &str) -> Vec<Value> {
    serde_json::from_slice(&get(http, url).await).unwrap()
}

async fn tail(http: &Client, url: &str) -> String {
    let head = http.head(url).send().await.unwrap();
    head.headers()["stream-next-offset"]
        .to_str()
        .unwrap()
        .to_owned()
}
