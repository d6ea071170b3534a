//! Which addresses a delivery may reach (CONTRACT 9): the defence against server-side request
//! forgery. An endpoint URL is a string a platform chose; without these checks it could make
//! realname post into its own network (a database's HTTP port, a cloud metadata service).
//!
//! Two moments check: [`AddressPolicy::check_url`] when an endpoint is made or changed (no
//! network traffic), and [`AddressPolicy::resolve`] before every attempt, which turns the
//! host into the one address the attempt will connect to. A name may point elsewhere between
//! the two (DNS rebinding), so only the second check guards the connection, and the sender
//! must connect to the address it returns, never look the name up again.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use url::Url;

/// How long a name may take to resolve before the attempt fails (CONTRACT 9).
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The operator's exceptions (`webhooks.allow_cidrs`) to "public addresses only": the networks
/// where receivers may live although they are not public, and the only places plain `http://`
/// may reach.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<IpNet>,
}

/// An endpoint URL that passed [`AddressPolicy::check_url`]. The fields are private so that
/// holding a `Target` means the URL was checked; its address is checked again by
/// [`AddressPolicy::resolve`] at every attempt.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    url: Url,
    host: Host,
    port: u16,
    scheme: Scheme,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    /// Lower case, IDNA-encoded, as the `url` crate normalises it.
    Name(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Why a URL or an address may not be reached. The messages never quote the URL (its path or
/// query may carry the receiver's own token); they may name the refused address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    #[error("not an absolute URL")]
    Malformed,
    #[error("the scheme must be https (or http inside webhooks.allow_cidrs)")]
    Scheme,
    #[error("the URL may not carry a user name or password")]
    Userinfo,
    #[error("the URL may not carry a fragment")]
    Fragment,
    #[error("the URL has no usable port")]
    Port,
    /// Plain `http://` to an address outside `webhooks.allow_cidrs`: the event and its
    /// signature would cross networks in the clear.
    #[error("http is allowed only to addresses inside webhooks.allow_cidrs ({ip})")]
    PlainHttp { ip: IpAddr },
    #[error("address not allowed ({ip}, {class})")]
    NotPublic { ip: IpAddr, class: &'static str },
    #[error("host did not resolve")]
    Unresolvable,
}

/// An entry of `webhooks.allow_cidrs` that is neither a CIDR nor an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhooks.allow_cidrs: `{entry}` is not a CIDR such as 10.0.0.0/8")]
pub struct CidrError {
    pub entry: String,
}

impl AddressPolicy {
    pub fn new(allowed: Vec<IpNet>) -> AddressPolicy {
        AddressPolicy { allowed }
    }

    /// Reads `webhooks.allow_cidrs` as written in configuration. A bare address stands for
    /// itself alone (`/32` or `/128`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AddressPolicy, CidrError> {
        let allowed = entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| CidrError {
                        entry: entry.to_owned(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    pub fn allowed_cidrs(&self) -> &[IpNet] {
        &self.allowed
    }

    /// Whether an `https://` delivery may connect to `ip`: it is public, or inside
    /// `webhooks.allow_cidrs`. Addresses that are never a destination (unspecified,
    /// multicast, broadcast) are refused even inside an allowed network.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.check_ip(ip, Scheme::Https).is_ok()
    }

    /// Checks the shape of an endpoint URL, and its address when the host is an IP literal.
    /// A host name is accepted here; its addresses are judged by [`AddressPolicy::resolve`].
    pub fn check_url(&self, url: &str) -> Result<Target, UrlRefusal> {
        let url = Url::parse(url).map_err(|_| UrlRefusal::Malformed)?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(UrlRefusal::Scheme),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlRefusal::Userinfo);
        }
        if url.fragment().is_some() {
            return Err(UrlRefusal::Fragment);
        }
        let host = match url.host() {
            Some(url::Host::Ipv4(ip)) => Host::Ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Host::Ip(IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) if !name.is_empty() => Host::Name(name.to_owned()),
            _ => return Err(UrlRefusal::Malformed),
        };
        let port = url
            .port_or_known_default()
            .filter(|port| *port != 0)
            .ok_or(UrlRefusal::Port)?;
        if let Host::Ip(ip) = host {
            self.check_ip(ip, scheme)?;
        }
        Ok(Target {
            url,
            host,
            port,
            scheme,
        })
    }

    /// The address this attempt connects to: the literal itself, or the name's addresses
    /// looked up within [`LOOKUP_TIMEOUT`]. Every address the name gives must pass, or none
    /// is used: a name that points both outside and inside is what a rebinding attack looks
    /// like, and picking its public address would only hide it until the next attempt.
    pub async fn resolve(&self, target: &Target) -> Result<SocketAddr, UrlRefusal> {
        self.resolve_with(target, LOOKUP_TIMEOUT, |host, port| async move {
            tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(|addrs| addrs.collect())
        })
        .await
    }

    /// [`AddressPolicy::resolve`] with the look-up and its bound handed in, so tests can
    /// answer for names without asking DNS.
    pub(crate) async fn resolve_with<F, Fut>(
        &self,
        target: &Target,
        timeout: Duration,
        lookup: F,
    ) -> Result<SocketAddr, UrlRefusal>
    where
        F: FnOnce(String, u16) -> Fut,
        Fut: Future<Output = std::io::Result<Vec<SocketAddr>>>,
    {
        let name = match &target.host {
            Host::Ip(ip) => {
                let ip = self.check_ip(*ip, target.scheme)?;
                return Ok(SocketAddr::new(ip, target.port));
            }
            Host::Name(name) => name.clone(),
        };
        let found = tokio::time::timeout(timeout, lookup(name, target.port))
            .await
            .map_err(|_| UrlRefusal::Unresolvable)?
            .map_err(|_| UrlRefusal::Unresolvable)?;
        self.choose(target, found)
    }

    fn choose(&self, target: &Target, found: Vec<SocketAddr>) -> Result<SocketAddr, UrlRefusal> {
        let mut chosen = None;
        for addr in found {
            let ip = self.check_ip(addr.ip(), target.scheme)?;
            chosen.get_or_insert(SocketAddr::new(ip, target.port));
        }
        chosen.ok_or(UrlRefusal::Unresolvable)
    }

    /// Returns the address in the form to connect to (an IPv4-mapped IPv6 address as the IPv4
    /// address it means).
    fn check_ip(&self, ip: IpAddr, scheme: Scheme) -> Result<IpAddr, UrlRefusal> {
        let canonical = ip.to_canonical();
        if let Some(class) = never_a_destination(canonical) {
            return Err(UrlRefusal::NotPublic { ip, class });
        }
        let allowed = self
            .allowed
            .iter()
            .any(|net| net.contains(&canonical) || net.contains(&ip));
        if allowed {
            return Ok(canonical);
        }
        if scheme == Scheme::Http {
            return Err(UrlRefusal::PlainHttp { ip });
        }
        match non_public_class(canonical) {
            Some(class) => Err(UrlRefusal::NotPublic { ip, class }),
            None => Ok(canonical),
        }
    }
}

impl Target {
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
}

/// Shows the origin only: the path and query may hold the receiver's own token.
impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        match &self.host {
            Host::Ip(IpAddr::V6(ip)) => write!(f, "Target({scheme}://[{ip}]:{}/…)", self.port),
            Host::Ip(ip) => write!(f, "Target({scheme}://{ip}:{}/…)", self.port),
            Host::Name(name) => write!(f, "Target({scheme}://{name}:{}/…)", self.port),
        }
    }
}

/// Addresses no connection should go to, whatever the operator allowed.
fn never_a_destination(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => Some("unspecified"),
        IpAddr::V4(v4) if v4.is_broadcast() => Some("broadcast"),
        IpAddr::V4(v4) if v4.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("unspecified"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        _ => None,
    }
}

/// Why an address is not on the public internet, or `None` when it is. The tables follow
/// the IANA special-purpose address registries; `std`'s `is_global` is not stable yet.
fn non_public_class(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

const V4_SPECIAL: &[(Ipv4Addr, u8, &str)] = &[
    (Ipv4Addr::new(0, 0, 0, 0), 8, "this network"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "shared"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "protocol assignments"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "documentation"),
    (Ipv4Addr::new(192, 88, 99, 0), 24, "6to4 relay"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "benchmarking"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "documentation"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "documentation"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved"),
];

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let bits = u32::from(ip);
    V4_SPECIAL.iter().find_map(|(net, len, class)| {
        let mask = u32::MAX << (32 - u32::from(*len));
        (bits & mask == u32::from(*net)).then_some(*class)
    })
}

/// Inside global unicast (2000::/3), the blocks that are not public anyway.
const V6_SPECIAL: &[(Ipv6Addr, u8, &str)] = &[
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "protocol assignments",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        "documentation",
    ),
];

/// IPv6 is judged by what is public rather than by what is not: only global unicast
/// (2000::/3) and the NAT64 prefix reach the internet, so everything else (loopback, the
/// deprecated IPv4-compatible ::/96, unique local fc00::/7, link-local fe80::/10, site-local,
/// discard-only, multicast) is refused without listing it. Forms that carry an IPv4 address
/// (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by that address.
fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let in_net = |net: Ipv6Addr, len: u8| {
        let mask = u128::MAX << (128 - u32::from(len));
        bits & mask == u128::from(net)
    };
    let embedded = |shift: u32| Ipv4Addr::from(((bits >> shift) & 0xffff_ffff) as u32);
    if in_net(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96) {
        return non_public_v4(embedded(0)).map(|_| "NAT64 of a non-public address");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if !in_net(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3) {
        return Some(match bits >> 112 {
            0xfc00..=0xfdff => "unique local",
            0xfe80..=0xfebf => "link-local",
            0xfec0..=0xfeff => "site-local",
            0 => "IPv4-compatible or reserved",
            _ => "not global unicast",
        });
    }
    if in_net(Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16) {
        return non_public_v4(embedded(80)).map(|_| "6to4 of a non-public address");
    }
    V6_SPECIAL
        .iter()
        .find_map(|(net, len, class)| in_net(*net, *len).then_some(*class))
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn open() -> AddressPolicy {
        AddressPolicy::default()
    }

    fn allowing(cidrs: &[&str]) -> AddressPolicy {
        AddressPolicy::parse(cidrs).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_are_allowed() {
        for text in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(open().allows(ip(text)), "{text}");
        }
    }

    #[test]
    fn every_non_public_class_is_refused() {
        for (text, class) in [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared"),
            ("100.127.255.255", "shared"),
            ("0.1.2.3", "this network"),
            ("192.0.0.8", "protocol assignments"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::7f00:1", "IPv4-compatible or reserved"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local"),
            ("100::1", "not global unicast"),
            ("2001:db8::1", "documentation"),
            ("3fff::1", "documentation"),
            ("2001::1", "protocol assignments"),
            ("64:ff9b::a00:1", "NAT64 of a non-public address"),
            ("2002:7f00:1::", "6to4 of a non-public address"),
        ] {
            let refusal = open().check_url(&format!("https://{}/", bracket(text)));
            assert_eq!(
                refusal,
                Err(UrlRefusal::NotPublic {
                    ip: ip(text),
                    class
                }),
                "{text}"
            );
            assert!(!open().allows(ip(text)), "{text}");
        }
    }

    #[test]
    fn ipv4_mapped_addresses_are_judged_as_ipv4() {
        assert!(!open().allows(ip("::ffff:127.0.0.1")));
        assert!(!open().allows(ip("::ffff:10.0.0.1")));
        assert!(!open().allows(ip("::ffff:169.254.169.254")));
        assert!(open().allows(ip("::ffff:8.8.8.8")));
        assert!(allowing(&["127.0.0.0/8"]).allows(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn never_a_destination_even_when_allowed() {
        let everything = allowing(&["0.0.0.0/0", "::/0"]);
        for text in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1"] {
            assert!(!everything.allows(ip(text)), "{text}");
        }
        assert!(everything.allows(ip("10.0.0.1")));
        assert!(everything.allows(ip("::1")));
    }

    #[test]
    fn allowed_cidrs_open_their_networks_only() {
        let policy = allowing(&["127.0.0.0/8", "10.20.0.0/16", "fd00::/8", "192.168.1.5"]);
        assert!(policy.allows(ip("127.0.0.1")));
        assert!(policy.allows(ip("10.20.30.40")));
        assert!(policy.allows(ip("fd00::5")));
        assert!(policy.allows(ip("192.168.1.5")));
        assert!(!policy.allows(ip("192.168.1.6")));
        assert!(!policy.allows(ip("10.21.0.1")));
        assert!(!policy.allows(ip("::1")));
        assert!(!policy.allows(ip("169.254.169.254")));
        assert!(policy.allows(ip("1.1.1.1")));
    }

    #[test]
    fn a_bad_cidr_is_named() {
        assert_eq!(
            AddressPolicy::parse(&["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err(),
            CidrError {
                entry: "10.0.0.0/33".into()
            }
        );
        assert!(AddressPolicy::parse(&["example.com"]).is_err());
    }

    #[test]
    fn url_shape() {
        let policy = open();
        let target = policy
            .check_url("https://Hooks.Example.com/in?x=1")
            .unwrap();
        assert_eq!(target.host(), &Host::Name("hooks.example.com".into()));
        assert_eq!(target.port(), 443);
        assert_eq!(target.scheme(), Scheme::Https);
        assert_eq!(target.url().as_str(), "https://hooks.example.com/in?x=1");
        assert_eq!(
            policy
                .check_url("https://example.com:8443/")
                .unwrap()
                .port(),
            8443
        );
        assert_eq!(
            policy.check_url("https://[2606:4700::1]/").unwrap().host(),
            &Host::Ip(ip("2606:4700::1"))
        );
        for (url, refusal) in [
            ("example.com/in", UrlRefusal::Malformed),
            ("", UrlRefusal::Malformed),
            ("ftp://example.com/", UrlRefusal::Scheme),
            ("file:///etc/passwd", UrlRefusal::Scheme),
            ("gopher://example.com/", UrlRefusal::Scheme),
            ("https://user@example.com/", UrlRefusal::Userinfo),
            ("https://user:pw@example.com/", UrlRefusal::Userinfo),
            ("https://:pw@example.com/", UrlRefusal::Userinfo),
            ("https://example.com/#top", UrlRefusal::Fragment),
            ("https://example.com/#", UrlRefusal::Fragment),
            ("https://example.com:0/", UrlRefusal::Port),
        ] {
            assert_eq!(policy.check_url(url), Err(refusal), "{url}");
        }
    }

    #[test]
    fn literals_in_every_spelling_are_caught() {
        // The URL standard reads these as 127.0.0.1; so must the check.
        for url in [
            "https://127.1/",
            "https://0x7f.0.0.1/",
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://127.0.0.1./",
        ] {
            assert!(
                matches!(open().check_url(url), Err(UrlRefusal::NotPublic { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn plain_http_only_inside_allowed_networks() {
        assert_eq!(
            open().check_url("http://8.8.8.8/"),
            Err(UrlRefusal::PlainHttp { ip: ip("8.8.8.8") })
        );
        assert_eq!(
            open().check_url("http://127.0.0.1:8080/"),
            Err(UrlRefusal::PlainHttp {
                ip: ip("127.0.0.1")
            })
        );
        let local = allowing(&["127.0.0.0/8"]);
        let target = local.check_url("http://127.0.0.1:8080/hook").unwrap();
        assert_eq!(target.port(), 8080);
        assert_eq!(local.check_url("http://127.0.0.1/").unwrap().port(), 80);
        assert!(matches!(
            local.check_url("http://8.8.8.8/"),
            Err(UrlRefusal::PlainHttp { .. })
        ));
        // A name is judged when it resolves.
        assert!(open().check_url("http://example.com/").is_ok());
    }

    #[test]
    fn debug_shows_the_origin_only() {
        let target = open()
            .check_url("https://example.com/hook?token=s3cret")
            .unwrap();
        let shown = format!("{target:?}");
        assert!(shown.contains("example.com:443"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn a_literal_resolves_to_itself() {
        let local = allowing(&["127.0.0.0/8"]);
        let target = local.check_url("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            local.resolve(&target).await,
            Ok("127.0.0.1:9".parse().unwrap())
        );
        let mapped = local.check_url("https://[::ffff:127.0.0.1]/").unwrap();
        assert_eq!(
            local.resolve(&mapped).await,
            Ok("127.0.0.1:443".parse().unwrap())
        );
        let public = open().check_url("https://[2606:4700::1]:8443/").unwrap();
        assert_eq!(
            open().resolve(&public).await,
            Ok("[2606:4700::1]:8443".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn the_policy_is_applied_again_at_resolution() {
        // The endpoint was made while 127.0.0.0/8 was allowed; the operator has since
        // removed it.
        let target = allowing(&["127.0.0.0/8"])
            .check_url("https://127.0.0.1/")
            .unwrap();
        assert!(matches!(
            open().resolve(&target).await,
            Err(UrlRefusal::NotPublic { .. })
        ));
    }

    #[tokio::test]
    async fn localhost_is_refused() {
        for url in [
            "https://localhost/",
            "https://localhost:8443/",
            "http://localhost/",
        ] {
            let target = open().check_url(url).unwrap();
            let refusal = open().resolve(&target).await.unwrap_err();
            assert!(
                matches!(
                    refusal,
                    UrlRefusal::NotPublic { .. } | UrlRefusal::PlainHttp { .. }
                ),
                "{url}: {refusal:?}"
            );
        }
    }

    #[tokio::test]
    async fn localhost_is_reached_when_loopback_is_allowed() {
        let local = allowing(&["127.0.0.0/8", "::1/128"]);
        let target = local.check_url("http://localhost:8080/").unwrap();
        let addr = local.resolve(&target).await.unwrap();
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), 8080);
    }

    fn answers(
        addrs: &[&str],
    ) -> impl FnOnce(String, u16) -> std::future::Ready<io::Result<Vec<SocketAddr>>> {
        let addrs: Vec<SocketAddr> = addrs.iter().map(|a| a.parse().unwrap()).collect();
        move |_, _| std::future::ready(Ok(addrs))
    }

    #[tokio::test]
    async fn a_name_that_points_inside_anywhere_is_refused() {
        let policy = open();
        let target = policy.check_url("https://hooks.example/").unwrap();
        let refusal = policy
            .resolve_with(
                &target,
                LOOKUP_TIMEOUT,
                answers(&["8.8.8.8:0", "10.0.0.1:0"]),
            )
            .await;
        assert_eq!(
            refusal,
            Err(UrlRefusal::NotPublic {
                ip: ip("10.0.0.1"),
                class: "private"
            })
        );
        let refusal = policy
            .resolve_with(&target, LOOKUP_TIMEOUT, answers(&["[::1]:0", "8.8.8.8:0"]))
            .await;
        assert!(matches!(refusal, Err(UrlRefusal::NotPublic { .. })));
    }

    #[tokio::test]
    async fn the_first_address_is_chosen_with_the_urls_port() {
        let policy = open();
        let target = policy.check_url("https://hooks.example:8443/").unwrap();
        let addr = policy
            .resolve_with(
                &target,
                LOOKUP_TIMEOUT,
                answers(&["[2606:4700::1]:0", "8.8.8.8:0"]),
            )
            .await;
        assert_eq!(addr, Ok("[2606:4700::1]:8443".parse().unwrap()));
    }

    #[tokio::test]
    async fn http_to_a_name_needs_every_address_inside_allowed_networks() {
        let policy = allowing(&["10.0.0.0/8"]);
        let target = policy.check_url("http://hooks.internal/").unwrap();
        let inside = policy
            .resolve_with(&target, LOOKUP_TIMEOUT, answers(&["10.1.1.1:0"]))
            .await;
        assert_eq!(inside, Ok("10.1.1.1:80".parse().unwrap()));
        let outside = policy
            .resolve_with(
                &target,
                LOOKUP_TIMEOUT,
                answers(&["10.1.1.1:0", "8.8.8.8:0"]),
            )
            .await;
        assert_eq!(outside, Err(UrlRefusal::PlainHttp { ip: ip("8.8.8.8") }));
    }

    #[tokio::test]
    async fn a_name_that_does_not_answer_in_time_is_unresolvable() {
        let policy = open();
        let target = policy.check_url("https://slow.example/").unwrap();
        let slow = |_: String, _: u16| std::future::pending::<io::Result<Vec<SocketAddr>>>();
        let refusal = policy
            .resolve_with(&target, Duration::from_millis(50), slow)
            .await;
        assert_eq!(refusal, Err(UrlRefusal::Unresolvable));
        let failed = |_: String, _: u16| {
            std::future::ready(Err::<Vec<SocketAddr>, _>(io::Error::other("NXDOMAIN")))
        };
        let refusal = policy.resolve_with(&target, LOOKUP_TIMEOUT, failed).await;
        assert_eq!(refusal, Err(UrlRefusal::Unresolvable));
        let empty = policy
            .resolve_with(&target, LOOKUP_TIMEOUT, answers(&[]))
            .await;
        assert_eq!(empty, Err(UrlRefusal::Unresolvable));
    }

    fn bracket(text: &str) -> String {
        if text.contains(':') {
            format!("[{text}]")
        } else {
            text.to_owned()
        }
    }
}
