//! Sessions that link a platform's users (CONTRACT 9): the platform names its user by its own
//! id; the first session makes the realname account bound to it (no password: it signs in
//! only through links), every later one reaches the same account. A session hands out
//! single-use links that sign a browser in to the pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::TryRngCore;
use realname_core::platform::{LinkToken, LinkUse, PlatformSession, Scope, SessionPurpose};
use realname_core::ports::Lookup;
use realname_core::state::{RealNameStatus, Status, real_name_status};
use realname_core::store::{Account, ApplicationRecord, Role};
use realname_core::{Code, Report};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{AppError, AppResult, Principal, Service};

/// What a platform sends to open a session.
#[derive(Default)]
pub struct SessionRequest {
    pub external_user_id: Option<String>,
    pub return_url: Option<String>,
    pub locale: Option<String>,
    pub purpose: Option<String>,
    pub metadata: Option<Value>,
}

/// Where an account stands, as the platform sees it.
pub struct Standing {
    pub real_name_status: RealNameStatus,
    /// The account's newest application.
    pub newest: Option<ApplicationRecord>,
}

impl Standing {
    /// Where an account stands, from its applications, newest first.
    pub fn of(applications: Vec<ApplicationRecord>) -> Standing {
        let statuses: Vec<Status> = applications.iter().map(|a| a.status).collect();
        Standing {
            real_name_status: real_name_status(&statuses),
            newest: applications.into_iter().next(),
        }
    }

    pub fn verification_id(&self) -> Option<Uuid> {
        self.newest.as_ref().map(|a| a.id)
    }

    pub fn verification_status(&self) -> Option<Status> {
        self.newest.as_ref().map(|a| a.status)
    }
}

/// A session with a fresh link, unless the account is verified already.
pub struct SessionView {
    pub session: PlatformSession,
    /// `public_url/start/{token}`: never stored, never logged.
    pub url: Option<String>,
    pub url_expires_at: Option<DateTime<Utc>>,
    pub standing: Standing,
}

pub async fn standing_of(app: &Service, account_id: Uuid) -> AppResult<Standing> {
    Ok(Standing::of(app.store.applications_of(account_id).await?))
}

const MAX_METADATA_PAIRS: usize = 20;
const MAX_METADATA_KEY: usize = 40;
const MAX_METADATA_VALUE: usize = 500;

/// 1–128 printable ASCII characters without spaces: an opaque id, never a name or a phone.
pub fn valid_external_user_id(text: &str) -> bool {
    (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic())
}

/// A session request, checked.
struct Checked {
    external: String,
    return_url: Option<String>,
    locale: Option<String>,
    purpose: SessionPurpose,
    metadata: String,
}

fn checked(app: &Service, request: SessionRequest) -> AppResult<Checked> {
    let mut report = Report::default();
    let external = request.external_user_id.unwrap_or_default();
    if !valid_external_user_id(&external) {
        report.breach("external_user_id", Code::ExternalUserIdInvalid);
    }
    let return_url = request
        .return_url
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    if let Some(url) = &return_url {
        let allowed =
            origin_of(url).is_some_and(|origin| app.settings.return_origins.contains(&origin));
        if !allowed {
            report.breach("return_url", Code::ReturnUrlNotAllowed);
        }
    }
    let locale = request.locale.filter(|l| !l.is_empty());
    if locale.as_deref().is_some_and(|l| l != "zh-CN" && l != "en") {
        report.breach("locale", Code::LocaleInvalid);
    }
    let purpose = match request.purpose.as_deref() {
        None | Some("") => SessionPurpose::Verification,
        Some(text) => SessionPurpose::parse(text).unwrap_or_else(|| {
            report.breach("purpose", Code::PurposeInvalid);
            SessionPurpose::Verification
        }),
    };
    let metadata = match request.metadata {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            report.breach("metadata", Code::MetadataInvalid);
            Map::new()
        }
    };
    let fits = metadata.len() <= MAX_METADATA_PAIRS
        && metadata.iter().all(|(k, v)| {
            k.chars().count() <= MAX_METADATA_KEY
                && v.as_str()
                    .is_some_and(|v| v.chars().count() <= MAX_METADATA_VALUE)
        });
    if !fits {
        report.breach("metadata", Code::MetadataInvalid);
    }
    if !report.is_clean() {
        return Err(AppError::validation(report));
    }
    Ok(Checked {
        external,
        return_url,
        locale,
        purpose,
        metadata: Value::Object(metadata).to_string(),
    })
}

/// The origin of an absolute http(s) URL, as `scheme://host[:port]` with the default port
/// left out (`https://pay.example.com`); `None` for anything else.
pub fn origin_of(text: &str) -> Option<String> {
    let url = url::Url::parse(text.trim()).ok()?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && url.username().is_empty()
        && url.password().is_none();
    plain.then(|| url.origin().ascii_serialization())
}

/// A new link into `session`, valid for `platform.link_ttl`.
async fn new_link(app: &Service, session: Uuid) -> AppResult<(String, DateTime<Utc>, LinkToken)> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|e| AppError::internal("link token", e))?;
    let token = URL_SAFE_NO_PAD.encode(secret);
    let expires_at = app.now() + app.settings.link_ttl;
    let link = LinkToken {
        token_hash: link_hash(app, &token),
        session_id: session,
        expires_at,
    };
    Ok((token, expires_at, link))
}

fn link_hash(app: &Service, token: &str) -> Vec<u8> {
    app.vault
        .keyed_hash(Lookup::LinkToken, token.as_bytes())
        .to_vec()
}

fn url_of(app: &Service, token: &str) -> String {
    format!("{}/start/{token}", app.settings.public_url)
}

/// Opens a session for a platform's user, making its account the first time.
pub async fn create(
    app: &Service,
    who: &Principal,
    request: SessionRequest,
) -> AppResult<SessionView> {
    let key = who.platform(app, Scope::SessionsWrite)?;
    let Checked {
        external,
        return_url,
        locale,
        purpose,
        metadata,
    } = checked(app, request)?;
    let now = app.now();
    let account = Account {
        id: Uuid::new_v4(),
        login: format!("platform:{external}"),
        // No password opens it: it signs in only through links.
        password_hash: String::new(),
        role: Role::User,
        created_at: now,
    };
    let account_id = app.store.link_platform_user(&external, &account).await?;
    let session = PlatformSession {
        id: Uuid::new_v4(),
        account_id,
        external_user_id: external,
        return_url,
        locale,
        metadata,
        mode: key.mode,
        created_at: now,
        purpose,
    };
    let (token, expires_at, link) = new_link(app, session.id).await?;
    app.store.create_platform_session(&session, &link).await?;
    let standing = standing_of(app, account_id).await?;
    let verified = standing.real_name_status == RealNameStatus::Verified;
    Ok(SessionView {
        url: (!verified).then(|| url_of(app, &token)),
        url_expires_at: (!verified).then_some(expires_at),
        session,
        standing,
    })
}

/// A session again, with a fresh link (earlier unused ones stay good until they expire).
pub async fn get(app: &Service, who: &Principal, id: &str) -> AppResult<SessionView> {
    let key = who.platform(app, Scope::SessionsWrite)?;
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    let session = app
        .store
        .platform_session(id)
        .await?
        .filter(|s| s.mode == key.mode)
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    let standing = standing_of(app, session.account_id).await?;
    // A closed account signs in no more: a new session for its id makes a new account.
    let closed = app
        .store
        .account_closed_at(session.account_id)
        .await?
        .is_some();
    if closed {
        // Its applications still say what they were; the account is what the platform asks.
        let standing = Standing {
            real_name_status: RealNameStatus::Closed,
            ..standing
        };
        return Ok(SessionView {
            session,
            url: None,
            url_expires_at: None,
            standing,
        });
    }
    if standing.real_name_status == RealNameStatus::Verified {
        return Ok(SessionView {
            session,
            url: None,
            url_expires_at: None,
            standing,
        });
    }
    let (token, expires_at, link) = new_link(app, session.id).await?;
    app.store.add_link(&link).await?;
    Ok(SessionView {
        url: Some(url_of(app, &token)),
        url_expires_at: Some(expires_at),
        session,
        standing,
    })
}

/// The session a link opens into and whether the link is still good, without using it:
/// what a link preview may learn.
pub async fn peek(app: &Service, token: &str) -> AppResult<Option<(PlatformSession, bool)>> {
    Ok(app.store.link(&link_hash(app, token), app.now()).await?)
}

/// A browser signed in by a link.
pub struct Started {
    /// The pages session's token, for the cookie.
    pub session_token: String,
    pub expires_at: DateTime<Utc>,
    pub session: PlatformSession,
    /// Where the journey goes on.
    pub next: String,
}

/// Uses a link: signs its browser in to the pages as the session's account. `None` when the
/// link was used before, has expired, or never was.
pub async fn start(app: &Service, token: &str) -> AppResult<Option<Started>> {
    let LinkUse::Used(session) = app
        .store
        .use_link(&link_hash(app, token), app.now())
        .await?
    else {
        return Ok(None);
    };
    let session_token = crate::auth::new_token()?;
    let expires_at = app.now() + app.settings.session_ttl;
    app.store
        .create_page_session(
            &crate::auth::token_hash(&session_token),
            session.account_id,
            expires_at,
        )
        .await?;
    let standing = standing_of(app, session.account_id).await?;
    let next = match (&standing.newest, session.purpose) {
        // Renewals land on the account page, which says whether one is due (CONTRACT 9, 13).
        (_, SessionPurpose::Renewal) => "/account".to_owned(),
        (Some(newest), SessionPurpose::Verification)
            if newest.status.is_open() || newest.status == Status::Verified =>
        {
            format!("/verifications/{}", newest.id)
        }
        (_, SessionPurpose::Verification) => "/verifications/new".to_owned(),
    };
    Ok(Some(Started {
        session_token,
        expires_at,
        session,
        next,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        assert_eq!(
            origin_of("https://pay.example.com/done?x=1").as_deref(),
            Some("https://pay.example.com")
        );
        assert_eq!(
            origin_of("https://PAY.example.com:443/").as_deref(),
            Some("https://pay.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:9000/back").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        for bad in [
            "pay.example.com/done",
            "javascript:alert(1)",
            "https://",
            "https://a@b.com/",
            "ftp://x.com",
        ] {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn external_ids_are_opaque_printable_ascii() {
        assert!(valid_external_user_id("ext-42"));
        assert!(valid_external_user_id(&"x".repeat(128)));
        for bad in ["", "a b", "名字", &"x".repeat(129), "tab\there"] {
            assert!(!valid_external_user_id(bad), "{bad}");
        }
    }
}
