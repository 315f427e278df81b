//! `Hostile`: a scripted HTTP/1.1 server on 127.0.0.1:0 for tests of what
//! dsx does when a server misbehaves. It speaks no protocol of its own: a
//! test's script answers each request with any status, headers and body
//! (fixed, chunked, paced, truncated, never-ending, SSE, a redirect, or raw
//! bytes), and every request received is recorded (method, target, headers,
//! body) so a test can assert what reached it, e.g. that no `Authorization`
//! header did, or that a loop stayed within a few requests.
//!
//! ```ignore
//! let server = Hostile::start(|req: &Received| {
//!     if req.method == "GET" {
//!         Reply::status(200)
//!             .header("Stream-Next-Offset", "1")
//!             .body("hi")
//!     } else {
//!         Reply::redirect(301, "http://127.0.0.1:9/elsewhere")
//!     }
//! })
//! .await;
//! // ... point a client at server.url ...
//! assert!(server.requests().iter().all(|r| r.header("authorization").is_none()));
//! ```
//!
//! Connections are kept alive (several requests per connection) unless a
//! reply ends with [`Reply::cut`], [`Reply::hang`] or
//! [`Reply::repeat_every`], or is [`Reply::raw`]. Dropping the `Hostile`
//! stops it and closes every connection, so a hanging reply never outlives
//! its test.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Longest request head or body the server reads; more closes the
/// connection.
const MAX_REQUEST: usize = 8 * 1024 * 1024;

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    /// 0 for the first request the server received, then 1, 2, ...
    pub index: usize,
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target as sent: path and query (`/s?offset=-1`).
    pub target: String,
    /// Header names lower-cased, values as sent, in order.
    pub headers: Vec<(String, String)>,
    /// The request body (chunked bodies decoded).
    pub body: Vec<u8>,
}

impl Received {
    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The (percent-decoded) value of query parameter `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        let url = url::Url::parse(&format!("http://h{}", self.target)).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// One piece of a body.
#[derive(Clone, Debug)]
enum Step {
    Bytes(Vec<u8>),
    Pause(Duration),
}

/// How a reply ends after its steps.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// Complete (the final chunk for a chunked body); keep-alive.
    Complete,
    /// Close the connection without completing the body.
    Cut,
    /// Keep the connection open and send nothing more, until the
    /// `Hostile` is dropped or the client goes away.
    Hang,
    /// Send the last byte step again every interval, forever.
    Repeat(Duration),
}

/// A scripted answer. Build with [`Reply::status`], [`Reply::redirect`],
/// [`Reply::sse`] or [`Reply::raw`], then add headers and body.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    steps: Vec<Step>,
    /// Send `Content-Length` and no chunked framing (see [`Reply::body`]).
    fixed: Option<usize>,
    end: End,
    raw: Option<Vec<u8>>,
}

impl Reply {
    /// A reply with `status` and, until a body is added, an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            steps: Vec::new(),
            fixed: Some(0),
            end: End::Complete,
            raw: None,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status).header("Location", location)
    }

    /// A 200 `text/event-stream` whose events (`(event type, data)`) are
    /// sent as one chunk each. Add [`Reply::hang`] to keep it open, or
    /// [`Reply::cut`] to drop it, after them; by default it ends cleanly.
    pub fn sse(events: &[(&str, &str)]) -> Reply {
        let mut reply =
            Reply::status(200).header("Content-Type", "text/event-stream");
        for (kind, data) in events {
            let mut text = format!("event: {kind}\n");
            for line in data.split('\n') {
                text.push_str("data: ");
                text.push_str(line);
                text.push('\n');
            }
            text.push('\n');
            reply = reply.chunk(text);
        }
        reply
    }

    /// Exactly these bytes on the connection (status line and all), then
    /// close: for malformed heads (an oversize header, a bad status line).
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            raw: Some(bytes.into()),
            ..Reply::status(0)
        }
    }

    /// Adds a response header (repeat for several of one name).
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The whole body at once, with `Content-Length`.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        let body = body.into();
        self.fixed = Some(body.len());
        self.steps = vec![Step::Bytes(body)];
        self
    }

    /// Like [`Reply::body`], but the connection closes after `sent` bytes
    /// of it although `Content-Length` announced all of them.
    #[must_use]
    pub fn truncated(self, body: impl Into<Vec<u8>>, sent: usize) -> Reply {
        let mut body = body.into();
        let full = body.len();
        body.truncate(sent);
        let mut reply = self.body(body);
        reply.fixed = Some(full);
        reply.end = End::Cut;
        reply
    }

    /// Appends a chunk; the body becomes chunked (no `Content-Length`).
    #[must_use]
    pub fn chunk(mut self, bytes: impl Into<Vec<u8>>) -> Reply {
        self.fixed = None;
        self.steps.push(Step::Bytes(bytes.into()));
        self
    }

    /// Waits `pause` before the next chunk (or the end).
    #[must_use]
    pub fn pause(mut self, pause: Duration) -> Reply {
        self.fixed = None;
        self.steps.push(Step::Pause(pause));
        self
    }

    /// `bytes` one byte per chunk, `every` apart: a trickling body.
    #[must_use]
    pub fn trickle(mut self, bytes: &[u8], every: Duration) -> Reply {
        for byte in bytes {
            self = self.chunk(vec![*byte]).pause(every);
        }
        self
    }

    /// After the steps, close the connection mid-body.
    #[must_use]
    pub fn cut(mut self) -> Reply {
        self.end = End::Cut;
        self
    }

    /// After the steps, keep the connection open and silent.
    #[must_use]
    pub fn hang(mut self) -> Reply {
        self.fixed = None;
        self.end = End::Hang;
        self
    }

    /// After the steps, send the last chunk again every `every`, forever.
    #[must_use]
    pub fn repeat_every(mut self, every: Duration) -> Reply {
        self.fixed = None;
        self.end = End::Repeat(every);
        self
    }
}

type Script = dyn Fn(&Received) -> Reply + Send + Sync;

/// The server; stopped (with every connection) when dropped.
pub struct Hostile {
    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub url: String,
    /// The port, for building URLs on this origin.
    pub port: u16,
    received: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl Hostile {
    /// Starts a server that answers each request with `script(request)`.
    pub async fn start(
        script: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("hostile server binds 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let script: Arc<Script> = Arc::new(script);
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every
            // connection task, hanging ones included.
            let mut connections = JoinSet::new();
            while let Ok((socket, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                let script = Arc::clone(&script);
                connections.spawn(serve(socket, script, log));
                while connections.try_join_next().is_some() {}
            }
        });
        Hostile {
            url: format!("http://127.0.0.1:{port}"),
            port,
            received,
            task,
        }
    }

    /// Answers the requests in turn with `replies`; once they run out, every
    /// further request gets the last one again.
    pub async fn sequence(replies: Vec<Reply>) -> Hostile {
        assert!(!replies.is_empty(), "at least one reply");
        Hostile::start(move |req| {
            replies[req.index.min(replies.len() - 1)].clone()
        })
        .await
    }

    /// `self.url` + `path` (which starts with `/`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// A copy of every request received so far, in order.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.received.lock().expect("not poisoned").len()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves one connection: requests in turn until a reply closes it.
async fn serve(
    mut socket: TcpStream,
    script: Arc<Script>,
    log: Arc<Mutex<Vec<Received>>>,
) {
    let mut buffer = Vec::new();
    loop {
        let Some((method, target, headers, body)) =
            read_request(&mut socket, &mut buffer).await
        else {
            return;
        };
        let request = {
            let mut log = log.lock().expect("not poisoned");
            let request = Received {
                index: log.len(),
                method,
                target,
                headers,
                body,
            };
            log.push(request.clone());
            request
        };
        let reply = script(&request);
        if !write_reply(&mut socket, &request, &reply).await {
            return;
        }
    }
}

type Head = (String, String, Vec<(String, String)>, Vec<u8>);

/// Reads one request (head and body) from `socket`, `buffer` holding what
/// was read past the previous request. `None` at EOF or on garbage.
async fn read_request(
    socket: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<Head> {
    let head_end = loop {
        if let Some(at) = find(buffer, b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_REQUEST || !fill(socket, buffer).await {
            return None;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    buffer.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let value = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let body =
        if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            read_chunked(socket, buffer).await?
        } else {
            let len: usize =
                value("content-length").map_or(Some(0), |v| v.parse().ok())?;
            if len > MAX_REQUEST {
                return None;
            }
            while buffer.len() < len {
                if !fill(socket, buffer).await {
                    return None;
                }
            }
            buffer.drain(..len).collect()
        };
    Some((method, target, headers, body))
}

async fn read_chunked(
    socket: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(at) = find(buffer, b"\r\n") {
                break at;
            }
            if !fill(socket, buffer).await {
                return None;
            }
        };
        let line = String::from_utf8_lossy(&buffer[..line_end]).into_owned();
        buffer.drain(..line_end + 2);
        let size_text = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        if body.len() + size > MAX_REQUEST {
            return None;
        }
        // The chunk and its CRLF (for the last chunk: the empty trailer).
        while buffer.len() < size + 2 {
            if !fill(socket, buffer).await {
                return None;
            }
        }
        body.extend(buffer.drain(..size));
        buffer.drain(..2);
        if size == 0 {
            return Some(body);
        }
    }
}

/// Reads more bytes into `buffer`; `false` at EOF or error.
async fn fill(socket: &mut TcpStream, buffer: &mut Vec<u8>) -> bool {
    buffer.reserve(16 * 1024);
    matches!(socket.read_buf(buffer).await, Ok(n) if n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `reply`; `true` when the connection may serve another request.
async fn write_reply(
    socket: &mut TcpStream,
    request: &Received,
    reply: &Reply,
) -> bool {
    if let Some(raw) = &reply.raw {
        let _ = socket.write_all(raw).await;
        let _ = socket.shutdown().await;
        return false;
    }
    let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply));
    for (name, value) in &reply.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    match reply.fixed {
        Some(len) => {
            let _ = write!(head, "Content-Length: {len}\r\n");
        }
        None => head.push_str("Transfer-Encoding: chunked\r\n"),
    }
    head.push_str("\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let chunked = reply.fixed.is_none();
    let head_only = request.method == "HEAD";
    let mut last: Option<&[u8]> = None;
    if !head_only {
        for step in &reply.steps {
            match step {
                Step::Pause(d) => tokio::time::sleep(*d).await,
                Step::Bytes(bytes) => {
                    last = Some(bytes);
                    if !write_piece(socket, bytes, chunked).await {
                        return false;
                    }
                }
            }
        }
    }
    match reply.end {
        End::Complete => {
            if chunked
                && !head_only
                && socket.write_all(b"0\r\n\r\n").await.is_err()
            {
                return false;
            }
            socket.flush().await.is_ok()
        }
        End::Cut => {
            let _ = socket.flush().await;
            let _ = socket.shutdown().await;
            false
        }
        End::Hang => {
            let _ = socket.flush().await;
            // Wait until the client closes (or the test drops the server).
            let mut sink = [0u8; 1024];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
            false
        }
        End::Repeat(every) => {
            let Some(bytes) = last.map(<[u8]>::to_vec) else {
                return false;
            };
            loop {
                tokio::time::sleep(every).await;
                if !write_piece(socket, &bytes, chunked).await {
                    return false;
                }
            }
        }
    }
}

async fn write_piece(
    socket: &mut TcpStream,
    bytes: &[u8],
    chunked: bool,
) -> bool {
    if bytes.is_empty() {
        // An empty chunk would end a chunked body.
        return true;
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    if chunked {
        out.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
    }
    out.extend_from_slice(bytes);
    if chunked {
        out.extend_from_slice(b"\r\n");
    }
    socket.write_all(&out).await.is_ok() && socket.flush().await.is_ok()
}

fn reason(reply: &Reply) -> &'static str {
    match reply.status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
