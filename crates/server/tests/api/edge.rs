//! The edge (CONTRACT 4) against clients that never finish: sockets that send half a request
//! head, and a body that stops arriving, neither keep the service from answering others nor
//! stay open past their timeouts.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// Whether the server closed `socket` (read answers end of stream, or an answer then the end)
/// within `within`.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn clients_that_never_finish_neither_block_others_nor_stay_connected() {
    let app = spawn_app().await;
    let address = app.base.trim_start_matches("http://").to_owned();

    // 300 sockets that never finish their request head.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut socket = TcpStream::connect(&address).await.unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        slow.push(socket);
    }
    // A body declared as 1 000 bytes of which 10 arrive.
    let mut stalled = TcpStream::connect(&address).await.unwrap();
    stalled
        .write_all(
            b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{\"login\":",
        )
        .await
        .unwrap();

    let started = Instant::now();
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(res.status().is_success());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "healthz answered in {:?} beside 300 slow sockets",
        started.elapsed()
    );

    // Ten seconds for a request head, ten without a byte of body: then they are let go.
    assert!(
        closed_within(&mut stalled, Duration::from_secs(15)).await,
        "a stalled body is let go"
    );
    for socket in slow.iter_mut().take(20) {
        assert!(
            closed_within(socket, Duration::from_secs(5)).await,
            "a half-sent head is closed"
        );
    }
}
