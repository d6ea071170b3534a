//! The edge (CONTRACT 4): how connections are taken and let go. A connection that has not sent
//! its whole request head within 10 s is closed (hyper's header-read timer, which also runs
//! while a kept-alive connection waits for its next request); a request body must keep
//! arriving, with no gap over 10 s; a request that has not been answered in 60 s is answered
//! 408; at most [`MAX_CONNECTIONS`] connections are open at once — past that a new one is
//! closed at once, so sockets that never finish cannot crowd out `/healthz` — and one client
//! address holds at most `limits.connections_per_address` of them, so one client cannot take
//! the whole budget from the others (a trusted proxy, which speaks for many, is exempt).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const BODY_GAP: Duration = Duration::from_secs(10);
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);
pub const MAX_CONNECTIONS: usize = 1024;

/// The layers that bound a request's own time: a body that stops arriving, and a deadline.
pub fn bounded(router: Router) -> Router {
    router
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(BODY_GAP))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_DEADLINE,
        ))
}

/// How many connections each client address holds: a count per address, and the cap.
pub struct PerAddress {
    cap: usize,
    trusted: Vec<ipnet::IpNet>,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

/// One connection counted against its address; dropping it lets the address have another.
struct Held {
    address: String,
    held: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut held) = self.held.lock()
            && let Some(n) = held.get_mut(&self.address)
        {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.address);
            }
        }
    }
}

impl PerAddress {
    pub fn new(cap: usize, trusted: Vec<ipnet::IpNet>) -> PerAddress {
        PerAddress {
            cap,
            trusted,
            held: Arc::default(),
        }
    }

    /// A place for one more connection from `peer`, or none when it holds its share.
    fn take(&self, peer: IpAddr) -> Option<Option<Held>> {
        if self.trusted.iter().any(|net| net.contains(&peer)) {
            return Some(None);
        }
        let address = crate::client::counted(Some(peer));
        let mut held = self.held.lock().ok()?;
        let n = held.entry(address.clone()).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Some(Held {
            address,
            held: Arc::clone(&self.held),
        }))
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the connections finish
/// what they are answering.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    per_address: PerAddress,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a moment rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(held) = per_address.take(peer.ip()) else {
            drop(stream);
            continue;
        };
        let Ok(permit) = Arc::clone(&open).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    Ok::<_, Infallible>(
                        router
                            .oneshot(req.map(axum::body::Body::new))
                            .await
                            .unwrap_or_else(|e| match e {}),
                    )
                }
            });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
            drop(held);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
