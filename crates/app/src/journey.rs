//! The user's journey as operations on the store, shared by the JSON API and the pages: each
//! checks the rules in the core, writes through the store, and returns the application as
//! stored, or an `AppError` whose code both front ends render.

use rand::TryRngCore;
use realname_core::application::{
    ApplicationForm, DocumentsForm, Identity, SubmissionInput, check_identity,
    check_new_application, check_submission,
};
use realname_core::deposit::{Answer, Fen, SettledDeposit, end_to_end_id};
use realname_core::documents::{ImageFormat, ImageSlot};
use realname_core::policy::BankCardForm;
use realname_core::ports::SealContext;
use realname_core::state::{Event, Status, may_apply, transition};
use realname_core::store::{
    ApplicationRecord, Applied, Consent, ImageMeta, NewApplication, StateChange, StoredCard,
    SubmitCommand, SubmitOutcome,
};
use realname_core::{Breach, Code, Detail};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::views::{self, encode_warnings};
use crate::{Principal, Service};

/// The caller's own application, or `not_found`: another's is indistinguishable from none.
pub async fn owned(state: &Service, who: &Principal, id: &str) -> AppResult<ApplicationRecord> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::new(Code::NotFound))?;
    match state.store.application(id).await? {
        Some(app) if app.account_id == who.account()?.id => Ok(app),
        _ => Err(AppError::new(Code::NotFound)),
    }
}

/// The caller's applications, newest first.
pub async fn mine(state: &Service, who: &Principal) -> AppResult<Vec<ApplicationRecord>> {
    Ok(state.store.applications_of(who.account()?.id).await?)
}

pub async fn reload(state: &Service, id: Uuid) -> AppResult<ApplicationRecord> {
    state
        .store
        .application(id)
        .await?
        .ok_or_else(|| AppError::new(Code::NotFound))
}

/// The real name an account was verified under, if it was.
pub fn verified_name(
    state: &Service,
    applications: &[ApplicationRecord],
) -> AppResult<Option<String>> {
    match applications.iter().find(|a| a.status == Status::Verified) {
        // Erased (its account was closed long ago): the name is no longer known.
        Some(app) => Ok(
            views::open(state, app)?.map(|opened| opened.identity.real_name.as_str().to_owned())
        ),
        None => Ok(None),
    }
}

/// Whether the application may still be edited: the state machine says (only a draft).
fn require_draft(state: &Service, app: &ApplicationRecord) -> AppResult<()> {
    transition(app.status, &Event::Edit, &state.moment(app.id, state.now()))?;
    Ok(())
}

fn document_hashes(state: &Service, identity: &Identity) -> Vec<Vec<u8>> {
    identity
        .document_numbers()
        .iter()
        .map(|n| state.vault.document_hash(n))
        .collect()
}

/// The identity is stored as it was checked: the validated values, sealed.
fn seal_identity(state: &Service, id: Uuid, identity: &Identity) -> AppResult<Vec<u8>> {
    let json = serde_json::to_vec(identity).map_err(|e| AppError::internal("identity", e))?;
    state.seal(SealContext::ApplicationForm(id), &json)
}

/// A new draft, with consent recorded from `address`.
pub async fn create(
    state: &Service,
    who: &Principal,
    form: &ApplicationForm,
    address: String,
) -> AppResult<ApplicationRecord> {
    let account_id = who.account()?.id;
    let history = state.store.applications_of(account_id).await?;
    may_apply(history.iter().map(|a| (a.status, a.failure.as_ref()))).map_err(AppError::new)?;
    let checked = check_new_application(form, state.today()).map_err(AppError::validation)?;
    let id = Uuid::new_v4();
    let now = state.now();
    let new = NewApplication {
        id,
        account_id,
        form: seal_identity(state, id, &checked.value)?,
        document_hashes: document_hashes(state, &checked.value),
        warnings: encode_warnings(&checked.warnings),
        consent: Consent {
            at: now,
            version: state.settings.consent_version.clone(),
            address,
        },
        at: now,
        livemode: state.mode() == realname_core::platform::KeyMode::Live,
    };
    state.store.create_application(&new).await?;
    let created = reload(state, id).await;
    state.status_changed();
    created
}

/// The failed application a new one may start from: the account's latest, if it may retry.
pub fn retry_source(history: &[ApplicationRecord]) -> Option<&ApplicationRecord> {
    history
        .iter()
        .filter(|a| a.status == Status::Failed)
        .max_by_key(|a| a.updated_at)
        .filter(|a| a.failure.as_ref().is_some_and(|f| f.can_retry))
}

/// Whether a failure was about the documents themselves: a retry then needs new images.
pub fn needs_new_images(failure: &realname_core::state::Failure) -> bool {
    matches!(
        failure.code,
        Code::DocumentUnreadable
            | Code::DocumentPageMissing
            | Code::DocumentInvalid
            | Code::DocumentExpired
            | Code::IdentityMismatch
    )
}

/// Whether a failure was about the card's account: a retry then needs another card.
pub fn needs_new_card(failure: &realname_core::state::Failure) -> bool {
    failure
        .bank_reason
        .as_deref()
        .is_some_and(realname_core::report::is_about_the_account)
}

/// A retry takes the failed application's document images along (re-sealed for the new
/// draft), unless the failure was about them; `from` must be the same account's.
pub async fn carry_images(
    state: &Service,
    from: &ApplicationRecord,
    to: &ApplicationRecord,
) -> AppResult<()> {
    if from.account_id != to.account_id || from.failure.as_ref().is_none_or(needs_new_images) {
        return Ok(());
    }
    for meta in &from.images {
        let Some(slot) = ImageSlot::parse(&meta.slot) else {
            continue;
        };
        if let Some((_, sealed)) = state.store.image(from.id, slot.as_str()).await? {
            let bytes = state.open(SealContext::Image(slot, from.id), &sealed)?;
            store_image(state, to, slot, &bytes).await?;
        }
    }
    Ok(())
}

/// Fields present in the patch replace the stored ones; `documents.passport` and
/// `documents.stay_permit` are replaced as wholes.
pub fn merge(stored: ApplicationForm, patch: ApplicationForm) -> ApplicationForm {
    let docs = match (stored.documents, patch.documents) {
        (Some(old), Some(new)) => Some(DocumentsForm {
            passport: new.passport.or(old.passport),
            stay_permit: new.stay_permit.or(old.stay_permit),
        }),
        (old, new) => new.or(old),
    };
    ApplicationForm {
        consent: stored.consent,
        real_name: patch.real_name.or(stored.real_name),
        nationality: patch.nationality.or(stored.nationality),
        date_of_birth: patch.date_of_birth.or(stored.date_of_birth),
        phone: patch.phone.or(stored.phone),
        documents: docs,
        sex: patch.sex.or(stored.sex),
        occupation: patch.occupation.or(stored.occupation),
        address: patch.address.or(stored.address),
        pep: patch.pep.or(stored.pep),
    }
}

/// Replaces the draft's form with `form` (already merged as the caller wants).
pub async fn update(
    state: &Service,
    app: &ApplicationRecord,
    form: &ApplicationForm,
) -> AppResult<ApplicationRecord> {
    require_draft(state, app)?;
    let checked = check_identity(form, state.today()).map_err(AppError::validation)?;
    let sealed = seal_identity(state, app.id, &checked.value)?;
    let hashes = document_hashes(state, &checked.value);
    let warnings = encode_warnings(&checked.warnings);
    state
        .store
        .update_draft(app.id, &sealed, &hashes, &warnings, state.now())
        .await?
        .ok_or_else(|| AppError::new(Code::InvalidState))
}

/// Stores one document image, judged by its content.
pub async fn store_image(
    state: &Service,
    app: &ApplicationRecord,
    slot: ImageSlot,
    bytes: &[u8],
) -> AppResult<ImageMeta> {
    require_draft(state, app)?;
    let format = ImageFormat::check_upload(bytes, bytes.len() as u64).map_err(AppError::new)?;
    let meta = ImageMeta {
        slot: slot.as_str().to_owned(),
        content_type: format.content_type().to_owned(),
        bytes: bytes.len() as u64,
        sha256: Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    };
    let sealed = state.seal(SealContext::Image(slot, app.id), bytes)?;
    if state
        .store
        .put_image(app.id, &meta, &sealed, state.now())
        .await?
        == Applied::Moved
    {
        return Err(AppError::new(Code::InvalidState));
    }
    Ok(meta)
}

/// Binds a bank card after every rule of the policy and the card's history.
pub async fn bind_card(
    state: &Service,
    app: &ApplicationRecord,
    card: &BankCardForm,
) -> AppResult<ApplicationRecord> {
    require_draft(state, app)?;
    let name = views::open_kept(state, app)?.identity.real_name;
    let checked = state
        .policy
        .check_card(card, &name)
        .map_err(AppError::validation)?;
    let card_hash = state.vault.card_hash(&checked.card_number);
    let history = state
        .store
        .card_history(app.account_id, &card_hash)
        .await?
        .check();
    if !history.is_clean() {
        return Err(AppError::validation(history));
    }
    // The card is stored as the policy accepted it.
    let json = serde_json::to_vec(&checked).map_err(|e| AppError::internal("card", e))?;
    let stored = StoredCard {
        bank: checked.bank,
        sealed: state.seal(SealContext::ApplicationCard(app.id), &json)?,
        card_hash,
    };
    if state.store.set_card(app.id, &stored, state.now()).await? == Applied::Moved {
        return Err(AppError::new(Code::InvalidState));
    }
    reload(state, app.id).await
}

/// Re-checks every rule and, if the limits allow, pays the one deposit.
pub async fn submit(state: &Service, app: &ApplicationRecord) -> AppResult<ApplicationRecord> {
    require_draft(state, app)?;
    let opened = views::open_kept(state, app)?;
    let images: Vec<ImageSlot> = app
        .images
        .iter()
        .filter_map(|i| ImageSlot::parse(&i.slot))
        .collect();
    let now = state.now();
    let submission = check_submission(&SubmissionInput {
        form: &opened.form(),
        bank_card: opened.card_form().as_ref(),
        images: &images,
        policy: &state.policy,
        today: state.today(),
    })
    .map_err(AppError::validation)?;
    // Before any payout (CONTRACT 12): a potential match on a list that holds keeps the
    // payout back until its case is decided, while the user sees the same deposit_pending.
    let screening =
        crate::screening::screen(state, app.id, &submission.identity, "submit", now).await?;
    let event = match &screening {
        Some(s) if s.held => Event::SubmitHeld,
        _ => Event::Submit,
    };
    let moved = transition(Status::Draft, &event, &state.moment(app.id, now))?;
    let amount = Fen::draw(&mut rand::rngs::OsRng.unwrap_err());
    let command = SubmitCommand {
        application_id: app.id,
        account_id: app.account_id,
        transition: moved,
        at: now,
        card_hash: state.vault.card_hash(&submission.bank_card.card_number),
        document_hashes: document_hashes(state, &submission.identity),
        warnings: encode_warnings(&submission.warnings),
        limits: state.settings.deposit.round_limits(now),
        end_to_end_id: end_to_end_id(app.id),
        sealed_amount: state.seal_amount(app.id, amount)?,
        screening,
    };
    match state.store.submit(&command).await? {
        SubmitOutcome::Submitted => {}
        SubmitOutcome::Moved => return Err(AppError::new(Code::InvalidState)),
        SubmitOutcome::DepositLimitReached => return Err(AppError::new(Code::DepositLimitReached)),
        SubmitOutcome::CardReturnedByBank => {
            return Err(AppError::field(
                "bank_card.card_number",
                Code::CardReturnedByBank,
            ));
        }
        SubmitOutcome::CardInUse => {
            return Err(AppError::field("bank_card.card_number", Code::CardInUse));
        }
    }
    // The answer is the state the submit made; only then may the worker pay (and, with a
    // bank that settles at once, move it on).
    let submitted = reload(state, app.id).await;
    state.status_changed();
    submitted
}

pub async fn cancel(state: &Service, app: &ApplicationRecord) -> AppResult<ApplicationRecord> {
    let now = state.now();
    let moved = transition(app.status, &Event::Cancel, &state.moment(app.id, now))?;
    let change = StateChange::new(app.id, app.status, moved, now);
    if state.store.apply(&change).await? == Applied::Moved {
        return Err(AppError::new(Code::InvalidState));
    }
    let cancelled = reload(state, app.id).await;
    state.status_changed();
    cancelled
}

/// Judges the amount the user typed. A malformed one uses no attempt; a wrong one uses one,
/// counted in the same conditional write that compares it.
pub async fn confirm_amount(
    state: &Service,
    app: &ApplicationRecord,
    text: &str,
) -> AppResult<ApplicationRecord> {
    let entered = Fen::parse_deposit_answer(text).map_err(AppError::new)?;
    let rules = state.settings.deposit;
    let mut app = app.clone();
    // A concurrent answer may move the attempt count between our read and our write; the
    // write is conditional on the count we read, so on a race we read again and judge again.
    for _ in 0..8 {
        if app.status != Status::AwaitingAmount {
            return Err(AppError::new(Code::InvalidState));
        }
        let deposit = app
            .deposit
            .clone()
            .ok_or_else(|| AppError::new(Code::InvalidState))?;
        let amount = state.open_amount(app.id, &deposit.amount)?;
        let now = state.now();
        let settled = SettledDeposit {
            amount,
            attempts_used: deposit.attempts_used,
            expires_at: deposit.expires_at.unwrap_or(now),
        };
        let answer = settled.answer(entered, now, &rules);
        let applied = match answer {
            Answer::Incorrect { .. } => {
                state
                    .store
                    .record_wrong_answer(app.id, deposit.attempts_used, now)
                    .await?
            }
            _ => {
                let event = answer
                    .event()
                    .ok_or_else(|| AppError::new(Code::InvalidState))?;
                let moved = transition(Status::AwaitingAmount, &event, &state.moment(app.id, now))?;
                let change = StateChange::new(app.id, Status::AwaitingAmount, moved, now);
                state.store.apply(&change).await?
            }
        };
        if applied == Applied::Moved {
            app = reload(state, app.id).await?;
            continue;
        }
        // Accepted, or failed on the last attempt or past the deadline; a wrong answer with
        // attempts left changes nothing, and waking the worker for it costs one empty pass.
        state.status_changed();
        return match answer {
            Answer::Accepted => {
                let reviewed = reload(state, app.id).await?;
                crate::risk::grade_quietly(state, &reviewed).await;
                Ok(reviewed)
            }
            Answer::Incorrect {
                attempts_remaining, ..
            } => Err(incorrect(attempts_remaining)),
            Answer::Exhausted { .. } => Err(incorrect(0)),
            Answer::Expired => Err(AppError::new(Code::DepositExpired)),
        };
    }
    Err(AppError::new(Code::RequestInProgress))
}

fn incorrect(attempts_remaining: u32) -> AppError {
    let breach = Breach::new("amount", Code::AmountIncorrect)
        .with_detail(Detail::AttemptsRemaining(attempts_remaining));
    AppError {
        details: vec![breach],
        ..AppError::new(Code::AmountIncorrect)
    }
    .with("attempts_remaining", json!(attempts_remaining))
}
