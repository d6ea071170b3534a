//! The JSON shapes of applications and review cases. Users see their data masked; reviewers
//! see it whole.

use chrono::{DateTime, SecondsFormat, Utc};
use realname_core::application::ApplicationForm;
use realname_core::card::CardNumber;
use realname_core::deposit::DepositRules;
use realname_core::documents::mask_middle;
use realname_core::name::normalise;
use realname_core::phone::Phone;
use realname_core::policy::{BankCardForm, Policy};
use realname_core::store::{ApplicationRecord, CaseRecord};
use realname_core::{Breach, Code};
use serde_json::{Value, json};

use crate::Service;
use crate::error::AppError;
use realname_core::ports::SealContext;

pub fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn opt_time(at: Option<DateTime<Utc>>) -> Value {
    at.map_or(Value::Null, |t| json!(time(t)))
}

/// An application's decrypted parts.
pub struct Opened {
    pub form: ApplicationForm,
    pub card: Option<BankCardForm>,
}

pub fn open(state: &Service, app: &ApplicationRecord) -> Result<Opened, AppError> {
    let form = state.open(SealContext::ApplicationForm(app.id), &app.form)?;
    let form: ApplicationForm =
        serde_json::from_slice(&form).map_err(|e| AppError::internal("stored form", e))?;
    let card = match &app.card {
        Some(stored) => {
            let bytes = state.open(SealContext::ApplicationCard(app.id), &stored.sealed)?;
            Some(serde_json::from_slice(&bytes).map_err(|e| AppError::internal("stored card", e))?)
        }
        None => None,
    };
    Ok(Opened { form, card })
}

/// `[{field, code}]` as stored → the API's warnings with both messages.
pub fn warnings(stored: &str) -> Vec<Value> {
    let pairs: Vec<(String, String)> = serde_json::from_str(stored).unwrap_or_default();
    pairs
        .into_iter()
        .filter_map(|(field, code)| Code::parse(&code).map(|c| Breach::new(field, c)))
        .map(|b| json!({"field": b.field, "code": b.code, "message": b.message_en(), "message_zh": b.message_zh()}))
        .collect()
}

pub fn encode_warnings(warnings: &[Breach]) -> String {
    let pairs: Vec<(&str, &str)> = warnings
        .iter()
        .map(|b| (b.field.as_str(), b.code.as_str()))
        .collect();
    serde_json::to_string(&pairs).unwrap_or_else(|_| "[]".into())
}

/// `1990-**-**`: the year alone.
pub fn masked_date(date: &str) -> String {
    format!("{}-**-**", date.get(..4).unwrap_or(""))
}

/// `+86 138****8000`, or the first and last two characters of what cannot be parsed.
pub fn masked_phone(phone: &str) -> String {
    Phone::mask_stored(phone).unwrap_or_else(|| mask_middle(phone, 2, 2))
}

/// A document number's first and last two characters (CONTRACT 8).
pub fn masked_number(number: &str) -> String {
    mask_middle(&number.trim().to_uppercase(), 2, 2)
}

fn documents(form: &ApplicationForm, reveal: bool) -> Value {
    let docs = form.documents.clone().unwrap_or_default();
    let number = |n: Option<&String>| {
        if reveal {
            json!(n)
        } else {
            json!(n.map(|n| masked_number(n)))
        }
    };
    let passport = docs
        .passport
        .as_ref()
        .map(|p| json!({"number": number(p.number.as_ref()), "expiry_date": p.expiry_date}));
    let stay = docs.stay_permit.as_ref().map(|s| {
        let mut v = json!({"kind": s.kind, "number": number(s.number.as_ref())});
        if let Some(map) = v.as_object_mut() {
            if s.expiry_date.is_some() {
                map.insert("expiry_date".into(), json!(s.expiry_date));
            }
            if s.entry_date.is_some() {
                map.insert("entry_date".into(), json!(s.entry_date));
            }
        }
        v
    });
    json!({"passport": passport, "stay_permit": stay})
}

fn bank_card(policy: &Policy, card: Option<&BankCardForm>, reveal: bool) -> Value {
    let Some(card) = card else { return Value::Null };
    let code = card
        .bank
        .clone()
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    let bank = policy.bank(&code);
    let parsed = card.card_number.as_deref().and_then(CardNumber::parse);
    let mut v = json!({
        "bank": code,
        "bank_name": bank.map(|b| b.name.clone()),
        "bank_name_zh": bank.map(|b| b.name_zh.clone()),
        "card_last4": parsed.as_ref().map(|c| c.last4().to_owned()),
        "card_type": card.card_type,
        "account_type": card.account_type,
    });
    if reveal && let Some(map) = v.as_object_mut() {
        map.insert(
            "card_number".into(),
            json!(parsed.as_ref().map(|c| c.expose().to_owned())),
        );
        map.insert("account_name".into(), json!(card.account_name));
    }
    v
}

/// The application as its owner sees it: personal data masked, no deposit amount.
pub fn application(state: &Service, app: &ApplicationRecord) -> Result<Value, AppError> {
    let opened = open(state, app)?;
    Ok(render(state, app, &opened, false))
}

pub fn render(state: &Service, app: &ApplicationRecord, opened: &Opened, reveal: bool) -> Value {
    let form = &opened.form;
    let rules: &DepositRules = &state.settings.deposit;
    let deposit = app.deposit.as_ref().map(|d| {
        let status = if d.settled_at.is_some() {
            "settled"
        } else if d.paid_at.is_some() {
            "paid"
        } else {
            "scheduled"
        };
        json!({
            "status": status,
            "paid_at": opt_time(d.paid_at),
            "settled_at": opt_time(d.settled_at),
            "attempts_remaining": rules.attempts_remaining(d.attempts_used),
            "expires_at": opt_time(d.expires_at),
        })
    });
    let images: Vec<Value> = app
        .images
        .iter()
        .map(|i| json!({"slot": i.slot, "content_type": i.content_type, "bytes": i.bytes, "sha256": i.sha256}))
        .collect();
    let real_name = form.real_name.as_deref().map(normalise);
    json!({
        "id": app.id,
        "status": app.status,
        "real_name": real_name,
        "nationality": form.nationality.as_deref().map(|n| n.trim().to_ascii_uppercase()),
        "date_of_birth": if reveal { json!(form.date_of_birth) } else { json!(form.date_of_birth.as_deref().map(masked_date)) },
        "phone": if reveal { json!(form.phone) } else { json!(form.phone.as_deref().map(masked_phone)) },
        "documents": documents(form, reveal),
        "images": images,
        "bank_card": bank_card(&state.policy, opened.card.as_ref(), reveal),
        "warnings": warnings(&app.warnings),
        "deposit": deposit,
        "failure": app.failure,
        "events": app.events.iter().map(|e| json!({"status": e.status, "at": time(e.at)})).collect::<Vec<_>>(),
        "created_at": time(app.created_at),
        "updated_at": time(app.updated_at),
    })
}

pub fn case_status(case: &CaseRecord, now: DateTime<Utc>) -> &'static str {
    if case.decided_at.is_some() {
        "decided"
    } else if case.claimed_until.is_some_and(|u| u >= now) {
        "claimed"
    } else {
        "open"
    }
}

pub fn case_summary(case: &CaseRecord, now: DateTime<Utc>, flags: &[Code]) -> Value {
    let claimed = case_status(case, now) == "claimed";
    json!({
        "id": case.id,
        "verification_id": case.application_id,
        "status": case_status(case, now),
        "submitted_at": time(case.submitted_at),
        "due_at": time(case.due_at),
        "overdue": case.decided_at.is_none() && case.due_at < now,
        "claimed_by": if claimed { json!(case.claimed_by) } else { Value::Null },
        "claimed_until": if claimed { opt_time(case.claimed_until) } else { Value::Null },
        "decided_at": opt_time(case.decided_at),
        "outcome": case.outcome,
        "flags": flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
    })
}
