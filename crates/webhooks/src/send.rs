//! One delivery attempt: a `POST` of the event to the endpoint, connected to the address that
//! [`crate::AddressPolicy::resolve`] checked, and what came of it.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use reqwest::redirect::Policy;

use crate::address::{Host, Target, UrlRefusal};
use crate::signature::Headers;

/// How long a receiver has to answer (CONTRACT 9: a 2xx within 15 s).
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(15);

const USER_AGENT: &str = concat!("realname-webhooks/", env!("CARGO_PKG_VERSION"));
/// Error texts are stored with the attempt and shown to the platform; a cause longer than
/// this is cut.
const ERROR_CHARS: usize = 120;

pub struct Sender {
    timeout: Duration,
}

/// What one attempt came to. `error` is short and never holds the body, a secret or the URL
/// (whose query may carry the receiver's token); it is `None` when the receiver answered
/// anything but a redirect, since the status says it all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub status: Option<u16>,
    /// The receiver's `Retry-After`: the next attempt may not come sooner.
    pub retry_after: Option<Duration>,
    pub error: Option<String>,
}

impl Attempt {
    /// Any 2xx.
    pub fn delivered(&self) -> bool {
        matches!(self.status, Some(200..=299))
    }

    /// 410: the receiver wants no more deliveries, and the endpoint is disabled.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }

    /// An attempt that ended before any answer.
    pub fn failed(error: impl Into<String>) -> Attempt {
        Attempt {
            status: None,
            retry_after: None,
            error: Some(error.into()),
        }
    }

    /// An attempt that was not made because its address was refused or did not resolve.
    pub fn refused(refusal: &UrlRefusal) -> Attempt {
        Attempt::failed(refusal.to_string())
    }
}

impl Sender {
    pub fn new(timeout: Duration) -> Sender {
        Sender { timeout }
    }

    /// Posts `body` as `application/json` with the Standard Webhooks headers, connecting to
    /// exactly `addr`. The client is built for this one attempt so that its only answer to
    /// the target's name is `addr`: it has no other name to look up (redirects are not
    /// followed) and no proxy to hand the name to.
    pub async fn send(
        &self,
        target: &Target,
        addr: SocketAddr,
        headers: &Headers,
        body: Vec<u8>,
    ) -> Attempt {
        if !addr_matches(target, addr) {
            return Attempt::failed("address does not match the target");
        }
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(self.timeout)
            .no_proxy()
            .user_agent(USER_AGENT)
            .pool_max_idle_per_host(0);
        if let Host::Name(name) = target.host() {
            builder = builder.resolve(name, addr);
        }
        let Ok(client) = builder.build() else {
            return Attempt::failed("client setup failed");
        };
        let mut request = client
            .post(target.url().clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body);
        for (name, value) in headers.pairs() {
            let Ok(value) = HeaderValue::from_str(&value) else {
                return Attempt::failed(format!("{name} is not a valid header value"));
            };
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) => answered(&response, SystemTime::now()),
            Err(error) => Attempt::failed(describe(&error)),
        }
    }
}

/// The URL's port is the one reqwest connects to whatever `addr` says, and a literal host is
/// connected to as written, so an `addr` that disagrees with either would not be the address
/// that was checked.
fn addr_matches(target: &Target, addr: SocketAddr) -> bool {
    let same_ip = match target.host() {
        Host::Ip(ip) => ip.to_canonical() == addr.ip().to_canonical(),
        Host::Name(_) => true,
    };
    same_ip && addr.port() == target.port()
}

fn answered(response: &reqwest::Response, now: SystemTime) -> Attempt {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, now));
    let error = status
        .is_redirection()
        .then(|| format!("redirect not followed ({})", status.as_u16()));
    Attempt {
        status: Some(status.as_u16()),
        retry_after,
        error,
    }
}

/// `Retry-After` is either a number of seconds or an HTTP date (RFC 9110 10.2.3); a date in
/// the past asks for no wait.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A short cause. reqwest's own message names the URL, so it is never used; the causes
/// beneath it (the socket's, TLS's, HTTP's) name neither the URL nor the body.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".into();
    }
    let mut innermost = None;
    let mut cause = std::error::Error::source(error);
    while let Some(next) = cause {
        if let Some(text) = next.downcast_ref::<std::io::Error>().and_then(describe_io) {
            return text;
        }
        innermost = Some(next);
        cause = next.source();
    }
    match innermost {
        Some(cause) => shorten(cause.to_string()),
        None if error.is_connect() => "connection failed".into(),
        None => "request failed".into(),
    }
}

fn describe_io(io: &std::io::Error) -> Option<String> {
    use std::io::ErrorKind;
    let text = match io.kind() {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::TimedOut => "timed out",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::AddrNotAvailable => "address not available",
        ErrorKind::UnexpectedEof => "connection closed",
        // TLS failures reach here as InvalidData around rustls's own error, whose text
        // ("invalid peer certificate: …") is what the receiver's operator needs to see.
        ErrorKind::InvalidData => {
            return Some(match io.get_ref() {
                Some(inner) => shorten(format!("tls: {inner}")),
                None => "tls failed".into(),
            });
        }
        // An io::Error wrapped in another (hyper-util wraps the connector's errors) is
        // skipped by `source()`, which goes straight to the innermost cause.
        _ => {
            return io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>())
                .and_then(describe_io);
        }
    };
    Some(text.into())
}

fn shorten(text: String) -> String {
    match text.char_indices().nth(ERROR_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for junk in ["", "-5", "1.5", "soon", "99999999999999999999999"] {
            assert_eq!(parse_retry_after(junk, now), None, "{junk}");
        }
    }

    #[test]
    fn outcomes() {
        let with = |status| Attempt {
            status: Some(status),
            retry_after: None,
            error: None,
        };
        assert!(with(200).delivered());
        assert!(with(204).delivered());
        assert!(with(299).delivered());
        assert!(!with(302).delivered());
        assert!(!with(500).delivered());
        assert!(with(410).gone());
        assert!(!with(404).gone());
        assert!(!Attempt::failed("timed out").delivered());
        assert_eq!(
            Attempt::refused(&UrlRefusal::Unresolvable).error.as_deref(),
            Some("host did not resolve")
        );
    }

    #[test]
    fn long_causes_are_cut() {
        assert_eq!(shorten("short".into()), "short");
        let cut = shorten("x".repeat(500));
        assert_eq!(cut.chars().count(), ERROR_CHARS + 1);
    }
}
