//! The outbound side of webhooks (CONTRACT 9), knowing nothing of the store or the
//! application layer, which decide what to send and when and record what happened:
//!
//! - [`signature`]: endpoint secrets (`whsec_…`) and the Standard Webhooks signature and
//!   headers every attempt carries; several secrets sign at once while a rotated one expires.
//! - [`address`]: which addresses a delivery may reach. [`AddressPolicy::check_url`] judges an
//!   endpoint URL when it is made; [`AddressPolicy::resolve`] judges the address again before
//!   every attempt and returns the one address to connect to, so a name that is re-pointed
//!   inside the network between the check and the connection reaches nothing.
//! - [`send`]: [`Sender::send`] makes one attempt to exactly that address (no second look-up,
//!   no redirects, no proxy) and returns an [`Attempt`]: the status, the receiver's
//!   `Retry-After`, and a short error that never holds the body, a secret or the URL.
//!
//! When a failed attempt is tried again is the core's rule (`realname_core::delivery`).
//!
//! An attempt, end to end:
//!
//! ```no_run
//! # async fn attempt(secret: &str, event_id: &str, body: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! use realname_webhooks::{AddressPolicy, Attempt, DELIVERY_TIMEOUT, Headers, Sender};
//!
//! let policy = AddressPolicy::parse(&["10.0.0.0/8"])?;
//! let target = policy.check_url("https://hooks.example.com/realname")?;
//! let now = 1_700_000_000; // Unix seconds of this attempt, real time
//! let headers = Headers::new(&[secret], event_id, now, &body)?;
//! let attempt = match policy.resolve(&target).await {
//!     Ok(addr) => Sender::new(DELIVERY_TIMEOUT).send(&target, addr, &headers, body).await,
//!     Err(refusal) => Attempt::refused(&refusal),
//! };
//! # let _ = attempt;
//! # Ok(()) }
//! ```

pub mod address;
pub mod outbound;
pub mod send;
pub mod signature;

pub use address::{AddressPolicy, CidrError, Host, LOOKUP_TIMEOUT, Scheme, Target, UrlRefusal};
pub use outbound::Outbound;
pub use send::{Attempt, DELIVERY_TIMEOUT, Sender};
pub use signature::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, Headers, SECRET_PREFIX, SecretError,
    is_valid_secret, new_secret, sign, signature_header,
};
