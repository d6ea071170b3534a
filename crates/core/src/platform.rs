//! The platform side (CONTRACT 9): API keys, their modes and scopes. A platform key is a
//! caller of its own, never a user or staff session.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::state::{Failure, Status};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    SessionsWrite,
    VerificationsRead,
    VerificationsReadPii,
    VerificationsRedact,
    ScreeningRead,
    WebhooksManage,
    EventsRead,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::SessionsWrite,
        Scope::VerificationsRead,
        Scope::VerificationsReadPii,
        Scope::VerificationsRedact,
        Scope::ScreeningRead,
        Scope::WebhooksManage,
        Scope::EventsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::SessionsWrite => "sessions:write",
            Scope::VerificationsRead => "verifications:read",
            Scope::VerificationsReadPii => "verifications:read_pii",
            Scope::VerificationsRedact => "verifications:redact",
            Scope::ScreeningRead => "screening:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::EventsRead => "events:read",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }

    /// A key made without `--scope` gets every scope but reading and erasing personal data and
    /// reading screening results (the compliance side's, not every backend's), which must be
    /// asked for by name.
    pub fn default_set() -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|s| {
                !matches!(
                    s,
                    Scope::VerificationsReadPii | Scope::VerificationsRedact | Scope::ScreeningRead
                )
            })
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Test keys work only while the payout rail is the sandbox, live keys only while it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    Live,
    Test,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }

    pub fn parse(text: &str) -> Option<KeyMode> {
        match text {
            "live" => Some(KeyMode::Live),
            "test" => Some(KeyMode::Test),
            _ => None,
        }
    }

    /// The mode of the objects made while this rail is in use.
    pub fn of_rail(sandbox: bool) -> KeyMode {
        if sandbox {
            KeyMode::Test
        } else {
            KeyMode::Live
        }
    }

    /// `rn_live_` or `rn_test_`.
    pub fn key_start(self) -> &'static str {
        match self {
            KeyMode::Live => "rn_live_",
            KeyMode::Test => "rn_test_",
        }
    }
}

/// A store's mode (CONTRACT 9): a store is of one mode for life, `sandbox` or `live`, so that
/// no sandbox account, application, case, clock offset or event ever shows in live mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModeFacts {
    /// The mode the first start wrote; none in a new store and in one made before the rule.
    pub written: Option<KeyMode>,
    /// It holds a customer's account, an application or an API key (staff accounts are the
    /// operator's, made before the first start as often as after).
    pub holds_data: bool,
    /// A test key, a sandbox payout, a sandbox clock moved on, or an event made in the
    /// sandbox (an application made under the sandbox rail makes one at once).
    pub sandbox_traces: bool,
}

/// What a start under a rail of mode `wanted` may do with a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeCheck {
    /// The store is already of that mode.
    Agrees,
    /// The store has no mode yet, or holds nothing: the start writes `wanted`.
    Write,
    /// The store is of the other mode and holds data: the start is refused.
    Refused(KeyMode),
}

impl ModeFacts {
    /// The store's mode: the one written, else the one its data show (a store made before the
    /// rule), else none.
    pub fn mode(&self) -> Option<KeyMode> {
        self.written.or(if self.sandbox_traces {
            Some(KeyMode::Test)
        } else if self.holds_data {
            Some(KeyMode::Live)
        } else {
            None
        })
    }

    pub fn check(&self, wanted: KeyMode) -> ModeCheck {
        match self.mode() {
            Some(mode) if mode == wanted && self.written == Some(mode) => ModeCheck::Agrees,
            Some(mode) if mode != wanted && (self.holds_data || self.sandbox_traces) => {
                ModeCheck::Refused(mode)
            }
            _ => ModeCheck::Write,
        }
    }
}

/// The one line a start over a store of the other mode ends with.
pub fn mode_refusal(store: KeyMode) -> &'static str {
    match store {
        KeyMode::Test => "this store holds sandbox data; start live on a new database",
        KeyMode::Live => "this store holds live data; start the sandbox on a new database",
    }
}

/// How many characters of a key are kept in plain, to name it (`rn_live_AbCd`).
pub const PREFIX_CHARS: usize = 12;
/// 32 random bytes in unpadded base64url.
pub const SECRET_CHARS: usize = 43;

/// Whether `text` has the shape of a platform key, and of which mode.
pub fn key_mode_of(text: &str) -> Option<KeyMode> {
    let mode = [KeyMode::Live, KeyMode::Test]
        .into_iter()
        .find(|m| text.starts_with(m.key_start()))?;
    let secret = &text[mode.key_start().len()..];
    let shaped = secret.len() == SECRET_CHARS
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then_some(mode)
}

/// The name a key is listed and revoked by: its first characters.
pub fn key_prefix(key: &str) -> &str {
    key.get(..PREFIX_CHARS).unwrap_or(key)
}

/// An API key as stored: its keyed hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub prefix: String,
    pub key_hash: Vec<u8>,
    pub name: String,
    pub mode: KeyMode,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// The scopes as stored: space-separated.
    pub fn scopes_text(&self) -> String {
        self.scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn parse_scopes(text: &str) -> Vec<Scope> {
        text.split_whitespace().filter_map(Scope::parse).collect()
    }
}

/// A platform's session for one of its users: what it asked for, and the account it reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSession {
    pub id: Uuid,
    pub account_id: Uuid,
    pub external_user_id: String,
    pub return_url: Option<String>,
    /// `zh-CN` or `en`: the pages' language for the browser the link signs in.
    pub locale: Option<String>,
    /// A JSON object of strings, returned as given.
    pub metadata: String,
    pub mode: KeyMode,
    pub created_at: DateTime<Utc>,
    /// Where its links land.
    pub purpose: SessionPurpose,
}

/// What a platform sends its user to realname for (CONTRACT 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionPurpose {
    /// The journey: the new application, or where the user's stands.
    Verification,
    /// The renewal of a verification (CONTRACT 13).
    Renewal,
}

impl SessionPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionPurpose::Verification => "verification",
            SessionPurpose::Renewal => "renewal",
        }
    }

    pub fn parse(text: &str) -> Option<SessionPurpose> {
        [SessionPurpose::Verification, SessionPurpose::Renewal]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

/// A single-use link into a session, as stored: its keyed hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkToken {
    pub token_hash: Vec<u8>,
    pub session_id: Uuid,
    pub expires_at: DateTime<Utc>,
}

/// What using a link found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkUse {
    /// The link was good and is now used up.
    Used(PlatformSession),
    /// The link was used before, or has expired.
    Spent,
    Unknown,
}

/// What happened to an application, as the platform hears of it (CONTRACT 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Created,
    Submitted,
    AwaitingAmount,
    UnderReview,
    Verified,
    Failed,
    Cancelled,
    Redacted,
    // After verification (CONTRACT 9, 12–14): accepted by endpoints and the feed's filter now,
    // so that platforms subscribe once; made by the features that decide them.
    RenewalDue,
    Expired,
    Superseded,
    Suspended,
    Reinstated,
    RiskChanged,
    ScreeningPotentialMatch,
    ScreeningConfirmed,
    ScreeningDismissed,
    ScreeningDelisted,
}

impl EventType {
    pub const ALL: [EventType; 18] = [
        EventType::Created,
        EventType::Submitted,
        EventType::AwaitingAmount,
        EventType::UnderReview,
        EventType::Verified,
        EventType::Failed,
        EventType::Cancelled,
        EventType::Redacted,
        EventType::RenewalDue,
        EventType::Expired,
        EventType::Superseded,
        EventType::Suspended,
        EventType::Reinstated,
        EventType::RiskChanged,
        EventType::ScreeningPotentialMatch,
        EventType::ScreeningConfirmed,
        EventType::ScreeningDismissed,
        EventType::ScreeningDelisted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "verification.created",
            EventType::Submitted => "verification.submitted",
            EventType::AwaitingAmount => "verification.awaiting_amount",
            EventType::UnderReview => "verification.under_review",
            EventType::Verified => "verification.verified",
            EventType::Failed => "verification.failed",
            EventType::Cancelled => "verification.cancelled",
            EventType::Redacted => "verification.redacted",
            EventType::RenewalDue => "verification.renewal_due",
            EventType::Expired => "verification.expired",
            EventType::Superseded => "verification.superseded",
            EventType::Suspended => "verification.suspended",
            EventType::Reinstated => "verification.reinstated",
            EventType::RiskChanged => "verification.risk_changed",
            EventType::ScreeningPotentialMatch => "screening.potential_match",
            EventType::ScreeningConfirmed => "screening.confirmed",
            EventType::ScreeningDismissed => "screening.dismissed",
            EventType::ScreeningDelisted => "screening.delisted",
        }
    }

    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The event a change into `status` makes: every status change makes exactly one.
    pub fn of_status(status: Status) -> EventType {
        match status {
            Status::Draft => EventType::Created,
            Status::DepositPending => EventType::Submitted,
            Status::AwaitingAmount => EventType::AwaitingAmount,
            Status::UnderReview => EventType::UnderReview,
            Status::Verified => EventType::Verified,
            Status::Failed => EventType::Failed,
            Status::Cancelled => EventType::Cancelled,
            Status::Suspended => EventType::Suspended,
        }
    }
}

/// An event as stored: thin, with no personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformEvent {
    /// `evt_` and 32 hex digits.
    pub id: String,
    /// Where the event stands in the feed: later events have larger positions.
    pub position: i64,
    pub event_type: EventType,
    pub application_id: Uuid,
    /// The platform's id of the application's user, when it has one.
    pub external_user_id: Option<String>,
    /// Counts the events of its application from 1.
    pub sequence: u32,
    pub status: Status,
    pub failure: Option<Failure>,
    pub livemode: bool,
    pub created_at: DateTime<Utc>,
    /// A screening event's list versions (`[{"source", "version"}]` as JSON).
    pub list_versions: Option<String>,
}

/// A receiver of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    /// Event types, or `*` for every type.
    pub events: Vec<String>,
    pub description: Option<String>,
    pub enabled: bool,
    /// The signing secret, sealed.
    pub secret: Vec<u8>,
    /// The secret before the last rotation, sealed, and when it stops signing.
    pub previous_secret: Option<Vec<u8>>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub livemode: bool,
    pub created_at: DateTime<Utc>,
}

impl WebhookEndpoint {
    pub fn takes(&self, event: EventType) -> bool {
        self.events.iter().any(|e| e == "*" || e == event.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Another attempt is scheduled.
    Pending,
    Delivered,
    /// No attempt is left, or the endpoint is gone.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Delivered,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One attempt at delivering an event to an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    pub id: Uuid,
    /// Where the attempt stands in its endpoint's list: later attempts are larger. Set by
    /// the store.
    pub position: i64,
    pub endpoint_id: Uuid,
    pub event_id: String,
    pub attempt: u32,
    pub state: DeliveryState,
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub livemode: bool,
}

/// Which events the feed answers, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub event_type: Option<EventType>,
    pub application_id: Option<Uuid>,
    /// The feed keeps 30 days.
    pub since: DateTime<Utc>,
    /// A key sees the events of its own mode only.
    pub livemode: bool,
    /// Events before this position (the cursor), or from the newest.
    pub before: Option<i64>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::{KeyMode, ModeCheck, ModeFacts};

    fn facts(written: Option<KeyMode>, holds_data: bool, sandbox_traces: bool) -> ModeFacts {
        ModeFacts {
            written,
            holds_data,
            sandbox_traces,
        }
    }

    #[test]
    fn a_store_keeps_the_mode_of_its_data() {
        use KeyMode::{Live, Test};
        // A new store takes the mode of its first start; an empty one may change it.
        assert_eq!(facts(None, false, false).check(Live), ModeCheck::Write);
        assert_eq!(
            facts(Some(Test), false, false).check(Live),
            ModeCheck::Write
        );
        // Written, it agrees with its own mode and refuses the other once it holds data.
        assert_eq!(
            facts(Some(Live), true, false).check(Live),
            ModeCheck::Agrees
        );
        assert_eq!(
            facts(Some(Test), true, true).check(Live),
            ModeCheck::Refused(Test)
        );
        assert_eq!(
            facts(Some(Live), true, false).check(Test),
            ModeCheck::Refused(Live)
        );
        // A store made before the rule: a test key, sandbox payout or clock offset make it
        // sandbox, other data live; the first start writes what agrees.
        assert_eq!(
            facts(None, true, true).check(Live),
            ModeCheck::Refused(Test)
        );
        assert_eq!(
            facts(None, false, true).check(Live),
            ModeCheck::Refused(Test)
        );
        assert_eq!(facts(None, true, true).check(Test), ModeCheck::Write);
        assert_eq!(
            facts(None, true, false).check(Test),
            ModeCheck::Refused(Live)
        );
        assert_eq!(facts(None, true, false).check(Live), ModeCheck::Write);
    }

    use super::*;

    #[test]
    fn keys_have_a_mode_a_prefix_and_a_shape() {
        let key = format!("rn_test_{}", "A".repeat(43));
        assert_eq!(key_mode_of(&key), Some(KeyMode::Test));
        assert_eq!(key_prefix(&key), "rn_test_AAAA");
        assert_eq!(
            key_mode_of(&format!("rn_live_{}", "b-_".repeat(14) + "c")),
            Some(KeyMode::Live)
        );
        for bad in [
            "rn_live_short",
            "rn_prod_",
            "",
            &format!("rn_test_{}", "!".repeat(43)),
        ] {
            assert_eq!(key_mode_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_status_makes_its_event() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        let made: Vec<EventType> = Status::ALL.into_iter().map(EventType::of_status).collect();
        assert_eq!(made.len(), 8);
        assert!(
            !made.contains(&EventType::Redacted),
            "erasure is no status change"
        );
    }

    #[test]
    fn scopes_round_trip_and_default_leaves_out_personal_data() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        let default = Scope::default_set();
        assert!(!default.contains(&Scope::VerificationsReadPii));
        assert!(!default.contains(&Scope::VerificationsRedact));
        assert_eq!(default.len(), 4);
    }
}
