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
    // One address's share is another test's: here they may take the whole budget's worth.
    let app = spawn_with(&[("limits.connections_per_address", "1024")]).await;
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

/// A request from a socket of `source` (a loopback address of its own), answered or not.
async fn healthz_from(address: &str, source: &str) -> Option<String> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(address.parse().unwrap()).await.ok()?;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    (!answer.is_empty()).then(|| String::from_utf8_lossy(&answer).into_owned())
}

/// The probe: one client took 1 024 of 1 024 connections and another's was reset within
/// 2 ms. Now one address holds at most `limits.connections_per_address` at once; the next is
/// closed at once while other addresses are served, and a trusted proxy is exempt.
#[tokio::test]
async fn one_address_holds_its_share_of_connections_and_others_are_served() {
    let app = spawn_with(&[("limits.connections_per_address", "4")]).await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    let mut fifth = TcpStream::connect(&address).await.unwrap();
    assert!(
        closed_within(&mut fifth, Duration::from_secs(2)).await,
        "the fifth connection of one address is closed at once"
    );
    let answer = healthz_from(&address, "127.0.0.2").await.expect("served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A connection let go makes room for the next.
    drop(held.pop());
    let mut again = None;
    for _ in 0..50 {
        again = healthz_from(&address, "127.0.0.1").await;
        if again.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some_and(|a| a.starts_with("HTTP/1.1 200")));

    // Behind a trusted proxy every client shares its address: the proxy is not capped.
    let proxied = spawn_with(&[
        ("limits.connections_per_address", "2"),
        ("trusted_proxies", "127.0.0.0/8"),
    ])
    .await;
    let address = proxied.base.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(&address).await.unwrap());
    }
    let answer = healthz_from(&address, "127.0.0.1").await.expect("served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
