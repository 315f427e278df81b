//! The client tests' harness: the `server_tests!` / `fault_tests!` macros,
//! bounded waits, unique names, clients and a request recorder.

use std::future::Future;
use std::time::Duration;

use dsx::client::{Client, RetryPolicy};

use super::{Kind, TestServer};

/// The longest one test body may run before it is failed.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// The default bound on a single wait (one read item, one request).
pub const WAIT: Duration = Duration::from_secs(10);

/// The long-poll hold every test server is started with.
pub const LONG_POLL: Duration = Duration::from_millis(500);

/// For each named `async fn name(server: TestServer)` in scope, adds a
/// module `name` holding three `#[tokio::test]`s: `embedded` (always run),
/// and `rust` and `node`, which need the official servers and are therefore
/// `#[ignore]`d unless `--include-ignored` is passed. Test names read
/// `name::embedded`, `name::rust`, `name::node`. (The module lives in the
/// type namespace, the function in the value namespace: no clash.)
#[macro_export]
macro_rules! server_tests {
    ($($name:ident),+ $(,)?) => {$(
        $crate::variant_tests!($name, rust: OfficialRust, node: OfficialNode);
    )+};
}

/// Like [`server_tests!`] for tests that inject faults: only `embedded` and
/// `node` variants, because only those servers have `/_test/inject-error`
/// (the official Rust server has no fault hook, so a variant for it could
/// not inject anything and would test nothing).
#[macro_export]
macro_rules! fault_tests {
    ($($name:ident),+ $(,)?) => {$(
        $crate::variant_tests!($name, node: OfficialNode);
    )+};
}

/// Like [`server_tests!`] for subscriptions (PROTOCOL.md sections 6 and 7):
/// `embedded` and `node` variants only. The official Rust server has no
/// subscription API (its `__ds/subscriptions` paths are ordinary stream
/// names), so a variant for it would test nothing; it is left out on purpose.
#[macro_export]
macro_rules! subscription_tests {
    ($($name:ident),+ $(,)?) => {$(
        $crate::variant_tests!($name, node: OfficialNode);
    )+};
}

/// The module `name` behind [`server_tests!`] and [`fault_tests!`]: an
/// `embedded` test, and one `#[ignore]`d test per official server listed
/// as `variant: Kind`, each running `super::name` against its server.
#[macro_export]
macro_rules! variant_tests {
    ($name:ident $(, $variant:ident: $kind:ident)*) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                $crate::support::run(
                    $crate::support::Kind::Embedded,
                    super::$name,
                )
                .await;
            }
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[ignore = "needs the official servers; see README"]
                async fn $variant() {
                    $crate::support::run(
                        $crate::support::Kind::$kind,
                        super::$name,
                    )
                    .await;
                }
            )*
        }
    };
}

/// Starts a server of `kind` and runs `body` against it, bounded by
/// [`TEST_TIMEOUT`]. The server stops when `body` drops it.
pub async fn run<F, Fut>(kind: Kind, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    let server = TestServer::start(kind).await;
    if tokio::time::timeout(TEST_TIMEOUT, body(server))
        .await
        .is_err()
    {
        panic!("test body did not finish within {TEST_TIMEOUT:?} ({kind:?})");
    }
}

/// Awaits `fut` for at most `limit`, panicking with `what` on expiry.
pub async fn within<T>(
    limit: Duration,
    what: &str,
    fut: impl Future<Output = T>,
) -> T {
    let Ok(value) = tokio::time::timeout(limit, fut).await else {
        panic!("timed out after {limit:?}: {what}");
    };
    value
}

/// A stream name no other test (or earlier run) uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{:016x}", rand::random::<u64>())
}

/// A retry policy with short backoff, so fault tests stay fast.
pub fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        multiplier: 2.0,
    }
}

/// A client with default options (no base URL).
pub fn client() -> Client {
    Client::builder().build().expect("default client builds")
}

/// A recording client with fast retries of `attempts` tries.
pub fn recording(attempts: u32) -> (Client, Recorder) {
    let recorder = Recorder::default();
    let client = recorder
        .builder()
        .retry(fast_retry(attempts))
        .build()
        .expect("client");
    (client, recorder)
}

/// Every `RequestEvent` a client's observer saw, in order, with the time
/// each was reported.
#[derive(Clone, Default)]
pub struct Recorder {
    events: std::sync::Arc<std::sync::Mutex<Vec<dsx::client::RequestEvent>>>,
    times: std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
}

impl Recorder {
    /// A client builder whose observer records into this recorder.
    pub fn builder(&self) -> dsx::client::ClientBuilder {
        let events = std::sync::Arc::clone(&self.events);
        let times = std::sync::Arc::clone(&self.times);
        Client::builder().observer(std::sync::Arc::new(move |event| {
            let mut events = events.lock().expect("not poisoned");
            events.push(event.clone());
            times
                .lock()
                .expect("not poisoned")
                .push(std::time::Instant::now());
        }))
    }

    /// A copy of the events so far.
    pub fn events(&self) -> Vec<dsx::client::RequestEvent> {
        self.events.lock().expect("not poisoned").clone()
    }

    /// Events whose method is `method` (e.g. "GET", "POST", "SSE").
    pub fn with_method(&self, method: &str) -> Vec<dsx::client::RequestEvent> {
        self.events()
            .into_iter()
            .filter(|e| e.method.eq_ignore_ascii_case(method))
            .collect()
    }

    pub fn clear(&self) {
        let mut events = self.events.lock().expect("not poisoned");
        events.clear();
        self.times.lock().expect("not poisoned").clear();
    }

    /// `(start, end)` of each event with `method`, start being the report
    /// time less the reported latency.
    pub fn spans(
        &self,
        method: &str,
    ) -> Vec<(std::time::Instant, std::time::Instant)> {
        let events = self.events.lock().expect("not poisoned");
        let times = self.times.lock().expect("not poisoned");
        events
            .iter()
            .zip(times.iter())
            .filter(|(e, _)| e.method.eq_ignore_ascii_case(method))
            .map(|(e, end)| (end.checked_sub(e.latency).unwrap_or(*end), *end))
            .collect()
    }
}

/// The value of response header `name` (case-insensitive) in `event`.
pub fn header<'a>(
    event: &'a dsx::client::RequestEvent,
    name: &str,
) -> Option<&'a str> {
    event
        .response_headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
