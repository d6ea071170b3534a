//! What a platform may read (CONTRACT 9): a user by its own id, and an application as its user
//! sees it; with `verifications:read_pii`, the identity unmasked, each such read audited with
//! the key's prefix.

use chrono::{DateTime, NaiveDate, Utc};
use realname_core::Code;
use realname_core::platform::{ApiKey, Scope};
use realname_core::state::Status;
use realname_core::store::{ApplicationRecord, AuditEntry, ScreeningSubject};
use serde_json::json;
use uuid::Uuid;

use crate::platform::sessions::{Standing, valid_external_user_id};
use crate::views::{self, Opened};
use crate::{AppError, AppResult, Principal, Service};

/// A platform's user.
pub struct UserView {
    pub external_user_id: String,
    pub standing: Standing,
    pub verified_at: Option<DateTime<Utc>>,
    /// The last day the verification's documents are valid, once verified.
    pub valid_until: Option<NaiveDate>,
    /// With `verifications:read_pii`, once verified.
    pub real_name: Option<String>,
    /// Whether the key may read screening results (`screening:read`).
    pub screening_visible: bool,
    /// With `screening:read`: where the application the read names stands against the lists
    /// (`None` until first screened).
    pub screening: Option<ScreeningSubject>,
    /// The grade in force of the application the read names, once graded (CONTRACT 14).
    pub risk: Option<realname_core::store::RiskGradeRecord>,
}

pub async fn user(app: &Service, who: &Principal, external_user_id: &str) -> AppResult<UserView> {
    let key = who.platform(app, Scope::VerificationsRead)?;
    if !valid_external_user_id(external_user_id) {
        return Err(AppError::new(Code::NotFound));
    }
    let account = app
        .store
        .platform_account(external_user_id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    let applications = app.store.applications_of(account).await?;
    let verified = applications
        .iter()
        .find(|a| a.status == Status::Verified)
        .cloned();
    let standing = Standing::of(applications);
    let verified_at = verified.as_ref().and_then(|a| {
        a.events
            .iter()
            .find(|e| e.status == Status::Verified)
            .map(|e| e.at)
    });
    // Erased once the account's hold ran out: nothing to show, nothing to audit.
    let opened = match &verified {
        Some(record) => views::open(app, record)?,
        None => None,
    };
    let valid_until = opened.as_ref().and_then(|o| o.identity.earliest_expiry());
    let real_name = match (&verified, &opened) {
        (Some(record), Some(opened)) if key.has(Scope::VerificationsReadPii) => {
            audit(app, key, record.id, "reveal_real_name").await?;
            Some(opened.identity.real_name.as_str().to_owned())
        }
        _ => None,
    };
    let screening_visible = key.has(Scope::ScreeningRead);
    let screening = match (screening_visible, standing.verification_id()) {
        (true, Some(id)) => app.store.screening_of(&[id]).await?.into_iter().next(),
        _ => None,
    };
    let risk = match standing.verification_id() {
        Some(id) => crate::risk::current(app, id).await?,
        None => None,
    };
    Ok(UserView {
        external_user_id: external_user_id.to_owned(),
        risk,
        standing,
        verified_at,
        valid_until,
        real_name,
        screening_visible,
        screening,
    })
}

/// An application for a platform: as its user sees it, and with `expand` its identity whole.
pub struct VerificationRead {
    pub record: ApplicationRecord,
    /// `None` once its personal data was erased.
    pub opened: Option<Opened>,
    pub external_user_id: Option<String>,
    /// Whether the identity is to be shown unmasked.
    pub expanded: bool,
    /// Whether the key may see the real name (`verifications:read_pii`), as on the user read.
    pub shows_name: bool,
}

pub async fn verification(
    app: &Service,
    who: &Principal,
    id: &str,
    expand_identity: bool,
) -> AppResult<VerificationRead> {
    let key = who.platform(app, Scope::VerificationsRead)?;
    if expand_identity {
        who.platform(app, Scope::VerificationsReadPii)?;
    }
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    let record = app
        .store
        .application(id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))?;
    let opened = views::open(app, &record)?;
    let external_user_id = app.store.external_user_of(record.account_id).await?;
    if expand_identity && opened.is_some() {
        audit(app, key, record.id, "reveal_identity").await?;
    }
    Ok(VerificationRead {
        record,
        opened,
        external_user_id,
        expanded: expand_identity,
        shows_name: key.has(Scope::VerificationsReadPii),
    })
}

/// A platform's read of personal data, in the audit trail: no staff account acted, so the
/// actor is the nil id and the key's prefix says who.
async fn audit(app: &Service, key: &ApiKey, application: Uuid, action: &str) -> AppResult<()> {
    let entry = AuditEntry {
        id: Uuid::new_v4(),
        at: app.now(),
        actor: Uuid::nil(),
        action: action.to_owned(),
        application_id: Some(application),
        detail: json!({"api_key": key.prefix}).to_string(),
    };
    Ok(app.store.append_audit(&entry).await?)
}
