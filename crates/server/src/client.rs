//! Who a request comes from, for the limits of CONTRACT 4: the socket's peer, or — when the
//! peer is one of `trusted_proxies` — the rightmost address of `X-Forwarded-For` that is not
//! one of them. An IPv6 client is counted by its /64, which one subscriber usually holds whole.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::state::AppState;

/// The client's address as the limits count it.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientAddress(counted(client_of(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        ))))
    }
}

fn client_of(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .unwrap_or(peer),
    )
}

/// An address as the limits count it: IPv4 whole, IPv6 by its /64.
pub(crate) fn counted(ip: Option<IpAddr>) -> String {
    match ip.map(|ip| ip.to_canonical()) {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_forwards_it() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.1, 203.0.113.9, 10.0.0.2".parse().unwrap(),
        );
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // A stranger's header is not believed.
        assert_eq!(
            counted(client_of(ip("192.0.2.7"), &headers, &trusted)),
            "192.0.2.7"
        );
        // From the proxy: the rightmost address that is not a proxy.
        assert_eq!(
            counted(client_of(ip("10.0.0.1"), &headers, &trusted)),
            "203.0.113.9"
        );
        assert_eq!(
            counted(client_of(
                ip("2001:db8:1:2:3:4:5:6"),
                &HeaderMap::new(),
                &trusted
            )),
            "2001:db8:1:2::/64"
        );
    }
}
