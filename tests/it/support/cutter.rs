//! `CutRelay`: a TCP relay in front of a real server that cuts the first
//! connection's response off after a given number of bytes, for the one
//! fault the servers' hooks cannot make: a response body that breaks off
//! mid-way with an error (their `truncateBodyBytes` ends the body cleanly).
//!
//! The relay copies bytes and never looks at them: every request still
//! reaches the real server and every answer is the server's own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A relay on 127.0.0.1; stopped (with its connections) when dropped.
pub struct CutRelay {
    /// `http://127.0.0.1:<port>`: use in place of the server's base URL.
    pub url: String,
    cut: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl CutRelay {
    /// Relays to `upstream` (`http://127.0.0.1:<port>`). The first
    /// connection passes `cut_after` bytes of response (status line and
    /// headers included) in two halves with `pause` after each, then closes
    /// both sides; later connections are relayed whole. (The pause between
    /// the halves lets a reader take in the first half on its own, as a
    /// slow network would, rather than all of it at once.)
    pub async fn start(
        upstream: &str,
        cut_after: usize,
        pause: Duration,
    ) -> CutRelay {
        let target = url::Url::parse(upstream).expect("upstream URL");
        let target = format!(
            "{}:{}",
            target.host_str().expect("upstream host"),
            target.port_or_known_default().expect("upstream port")
        );
        let listener =
            TcpListener::bind("127.0.0.1:0").await.expect("relay binds");
        let port = listener.local_addr().expect("relay address").port();
        let cut = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cut);
        let task = tokio::spawn(async move {
            // Dropping the set (when the relay task is aborted) aborts
            // every connection task.
            let mut connections = JoinSet::new();
            let mut first = true;
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&target).await else {
                    continue;
                };
                let limit = first.then_some(cut_after);
                first = false;
                let flag = Arc::clone(&flag);
                connections.spawn(async move {
                    relay(client, server, limit, pause, &flag).await;
                });
            }
        });
        CutRelay {
            url: format!("http://127.0.0.1:{port}"),
            cut,
            task,
        }
    }

    /// Whether the first connection has been cut.
    pub fn has_cut(&self) -> bool {
        self.cut.load(Ordering::SeqCst)
    }
}

impl Drop for CutRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies both ways; with a `limit`, the response side stops after that
/// many bytes and, after `pause`, both sockets close.
async fn relay(
    mut client: TcpStream,
    mut server: TcpStream,
    limit: Option<usize>,
    pause: Duration,
    cut: &AtomicBool,
) {
    let Some(limit) = limit else {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        return;
    };
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let upstream = tokio::io::copy(&mut client_read, &mut server_write);
    let downstream = async {
        let half = limit / 2;
        let mut buf = vec![0; 16 * 1024];
        for size in [half, limit - half] {
            let mut left = size;
            while left > 0 {
                let want = left.min(buf.len());
                let n = match server_read.read(&mut buf[..want]).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if client_write.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                left -= n;
            }
            let _ = client_write.flush().await;
            tokio::time::sleep(pause).await;
        }
        cut.store(true, Ordering::SeqCst);
    };
    // Whichever ends first ends the connection: the cut (the usual case)
    // or the client going away.
    tokio::select! {
        _ = upstream => {}
        () = downstream => {}
    }
}
