//! Endpoint secrets and the signatures made with them, as the Standard Webhooks
//! specification defines them (<https://www.standardwebhooks.com>): a secret is `whsec_` and
//! the base64 of random bytes; a signature is `v1,` and the base64 of HMAC-SHA256 under those
//! bytes over `{webhook-id}.{webhook-timestamp}.{body}`. Receivers verify with any Standard
//! Webhooks library, so nothing here may drift from the specification's test vector.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::TryRngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

pub const SECRET_PREFIX: &str = "whsec_";
pub const HEADER_ID: &str = "webhook-id";
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
pub const HEADER_SIGNATURE: &str = "webhook-signature";

const SECRET_BYTES: usize = 32;
/// The specification's bounds on a symmetric key (24 to 64 bytes).
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// Why a secret could not be made or used. The messages never quote the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the operating system's random source failed")]
    RandomUnavailable,
    #[error("a webhook secret is `whsec_` and the base64 of 24 to 64 bytes")]
    Malformed,
    #[error("a delivery needs at least one secret to sign with")]
    NoSecret,
    /// The id is part of the signed text, whose parts are separated by dots: an id with a dot
    /// would let one signature stand for another (id, timestamp) pair.
    #[error("a webhook id is 1 to 256 visible ASCII characters other than `.`")]
    MessageId,
}

/// The three Standard Webhooks headers of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// The event id: the same on every attempt, so receivers de-duplicate by it.
    pub id: String,
    /// Unix seconds of this attempt (real time), which receivers check against their clock.
    pub timestamp: i64,
    /// One `v1,…` signature per secret, separated by spaces.
    pub signature: String,
}

/// A fresh endpoint secret: `whsec_` and the standard base64 of 32 random bytes.
pub fn new_secret() -> Result<String, SecretError> {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|_| SecretError::RandomUnavailable)?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
}

/// Whether `secret` is one this crate can sign with (for checking stored or imported
/// secrets before the first delivery needs them).
pub fn is_valid_secret(secret: &str) -> bool {
    key_of(secret).is_ok()
}

/// One signature: `v1,` and the base64 of HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    check_message_id(msg_id)?;
    let key = key_of(secret)?;
    let mut mac = <HmacSha256 as Mac>::new_from_slice(&key).map_err(|_| SecretError::Malformed)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` value: one signature per secret, separated by spaces. While a
/// rotated secret has not expired yet, deliveries carry both, so a receiver holding either
/// one accepts them.
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    if secrets.is_empty() {
        return Err(SecretError::NoSecret);
    }
    let signatures = secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(signatures.join(" "))
}

impl Headers {
    pub fn new(
        secrets: &[&str],
        msg_id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<Headers, SecretError> {
        Ok(Headers {
            id: msg_id.to_owned(),
            timestamp,
            signature: signature_header(secrets, msg_id, timestamp, body)?,
        })
    }

    /// Header names and values, in the order they are sent.
    pub fn pairs(&self) -> [(&'static str, String); 3] {
        [
            (HEADER_ID, self.id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }
}

fn key_of(secret: &str) -> Result<Vec<u8>, SecretError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or(SecretError::Malformed)?;
    let key = STANDARD
        .decode(encoded)
        .map_err(|_| SecretError::Malformed)?;
    if KEY_BYTES.contains(&key.len()) {
        Ok(key)
    } else {
        Err(SecretError::Malformed)
    }
}

fn check_message_id(msg_id: &str) -> Result<(), SecretError> {
    let visible = |b: u8| b.is_ascii_graphic() && b != b'.';
    if (1..=256).contains(&msg_id.len()) && msg_id.bytes().all(visible) {
        Ok(())
    } else {
        Err(SecretError::MessageId)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use standardwebhooks::Webhook;

    use super::*;

    const PAYLOAD: &[u8] = br#"{"id":"evt_1","object":"event","type":"verification.verified","created_at":"2025-01-01T00:00:00Z","livemode":false,"data":{"object":"verification","id":"3f0c","external_user_id":"u-42","status":"verified","failure":null,"sequence":4}}"#;

    fn now() -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    }

    fn header_map(headers: &Headers) -> reqwest::header::HeaderMap {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers.pairs() {
            map.insert(name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn new_secrets_are_32_random_bytes_behind_the_prefix() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        let encoded = a.strip_prefix("whsec_").unwrap();
        assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
        assert!(is_valid_secret(&a));
        Webhook::new(&a).unwrap();
    }

    #[test]
    fn the_specifications_test_vector() {
        // From the Standard Webhooks reference libraries' own tests.
        let signature = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1649367553,
            br#"{"email":"test@example.com","username":"test_user"}"#,
        )
        .unwrap();
        assert_eq!(signature, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
    }

    #[test]
    fn the_reference_verifier_accepts_a_realname_event() {
        let secret = new_secret().unwrap();
        let headers = Headers::new(&[&secret], "evt_01JABC", now(), PAYLOAD).unwrap();
        assert!(!headers.signature.contains(' '));
        Webhook::new(&secret)
            .unwrap()
            .verify(PAYLOAD, &header_map(&headers))
            .unwrap();
    }

    #[test]
    fn a_wrong_secret_or_a_changed_body_fails() {
        let secret = new_secret().unwrap();
        let other = new_secret().unwrap();
        let headers = Headers::new(&[&secret], "evt_01JABC", now(), PAYLOAD).unwrap();
        let map = header_map(&headers);
        assert!(Webhook::new(&other).unwrap().verify(PAYLOAD, &map).is_err());
        let mut changed = PAYLOAD.to_vec();
        changed.push(b' ');
        assert!(
            Webhook::new(&secret)
                .unwrap()
                .verify(&changed, &map)
                .is_err()
        );
    }

    #[test]
    fn during_rotation_either_secret_verifies() {
        let old = new_secret().unwrap();
        let new = new_secret().unwrap();
        let headers = Headers::new(&[&new, &old], "evt_01JABC", now(), PAYLOAD).unwrap();
        let signatures: Vec<&str> = headers.signature.split(' ').collect();
        assert_eq!(signatures.len(), 2);
        assert!(signatures.iter().all(|s| s.starts_with("v1,")));
        let map = header_map(&headers);
        for secret in [&old, &new] {
            Webhook::new(secret).unwrap().verify(PAYLOAD, &map).unwrap();
        }
        let stranger = new_secret().unwrap();
        assert!(
            Webhook::new(&stranger)
                .unwrap()
                .verify(PAYLOAD, &map)
                .is_err()
        );
    }

    #[test]
    fn unusable_secrets_are_refused_without_being_quoted() {
        for secret in [
            "",
            "whsec_",
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "whsec_not base64!",
            "whsec_c2hvcnQ=",
            &format!("whsec_{}", STANDARD.encode([1u8; 65])),
        ] {
            let refusal = sign(secret, "evt_1", 1, b"{}").unwrap_err();
            assert_eq!(refusal, SecretError::Malformed, "{secret}");
            assert!(!is_valid_secret(secret));
        }
        assert!(!SecretError::Malformed.to_string().contains("C2FV"));
    }

    #[test]
    fn message_ids_with_dots_or_spaces_are_refused() {
        let secret = new_secret().unwrap();
        for id in ["", "evt.1", "evt 1", "evt\n1", "évt", &"e".repeat(257)] {
            assert_eq!(
                sign(&secret, id, 1, b"{}"),
                Err(SecretError::MessageId),
                "{id}"
            );
        }
    }

    #[test]
    fn no_secret_no_signature() {
        assert_eq!(
            signature_header(&[], "evt_1", 1, b"{}"),
            Err(SecretError::NoSecret)
        );
    }

    #[test]
    fn headers_carry_the_three_names() {
        let secret = new_secret().unwrap();
        let headers = Headers::new(&[&secret], "evt_1", 1_700_000_000, b"{}").unwrap();
        let pairs = headers.pairs();
        assert_eq!(pairs[0], ("webhook-id", "evt_1".to_owned()));
        assert_eq!(pairs[1], ("webhook-timestamp", "1700000000".to_owned()));
        assert_eq!(pairs[2].0, "webhook-signature");
        assert_eq!(
            pairs[2].1,
            sign(&secret, "evt_1", 1_700_000_000, b"{}").unwrap()
        );
    }
}
