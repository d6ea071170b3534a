//! Pages for reviewers: the queue, a case with its images beside the typed data, claim and
//! decide, and the audit log for admins. Access keys give the common actions a keyboard
//! shortcut without any script.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use realname_app::views;
use realname_core::Code;
use realname_core::review::Flag;
use realname_core::review::{DecisionForm, ReviewReason};
use realname_core::store::CaseKind;
use serde::Deserialize;

use super::flash::{Flash, Notice};
use super::forms::{FormErrors, SummaryLine, said_all};
use super::{Chrome, Lang, PageContext, Text, china_time};
use crate::api::review::parse_filter;
use realname_app::casework;
use realname_app::{AppError, Principal};

use crate::state::AppState;

/// The logged-in staff member; without one, `turn_away` answers. (The application layer
/// decides again what staff may do; this only picks the page.)
fn staff(ctx: &PageContext) -> Option<Principal> {
    ctx.principal.clone().filter(|p| p.staff().is_ok())
}

/// To the login page, or 403 for a logged-in user who is not staff.
fn turn_away(ctx: &PageContext) -> Response {
    match ctx.account {
        None => ctx.finish(Redirect::to("/login").into_response()),
        Some(_) => ctx.error_page(&AppError::new(Code::Forbidden)),
    }
}

fn reason_label(t: Text, reason: ReviewReason) -> &'static str {
    match reason {
        ReviewReason::DocumentUnreadable => t.reason_document_unreadable(),
        ReviewReason::DocumentPageMissing => t.reason_document_page_missing(),
        ReviewReason::DocumentInvalid => t.reason_document_invalid(),
        ReviewReason::DocumentExpired => t.reason_document_expired(),
        ReviewReason::IdentityMismatch => t.reason_identity_mismatch(),
        ReviewReason::NameMismatch => t.reason_name_mismatch(),
        ReviewReason::UnderAge => t.reason_under_age(),
        ReviewReason::DuplicateIdentity => t.reason_duplicate_identity(),
        ReviewReason::SuspectedFraud => t.reason_suspected_fraud(),
        ReviewReason::Other => t.reason_other(),
    }
}

pub struct QueueRow {
    id: String,
    /// Application or list screening.
    kind: &'static str,
    submitted: String,
    due: String,
    overdue: bool,
    flags: Vec<String>,
    /// Who holds the claim, and until when (the claimed tab).
    holder: String,
    /// How it was decided (the decided tab).
    outcome: String,
}

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    chrome: Chrome,
    tabs: Vec<(&'static str, &'static str)>,
    current: &'static str,
    rows: Vec<QueueRow>,
    admin: bool,
}

impl QueuePage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    status: Option<String>,
}

pub async fn queue(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<QueueQuery>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    let Some(filter) = parse_filter(q.status.as_deref()) else {
        return ctx.error_page(&AppError::new(Code::NotFound));
    };
    let current = match q.status.as_deref() {
        Some("claimed") => "claimed",
        Some("awaiting_second_approval") => "awaiting_second_approval",
        Some("delisted") => "delisted",
        Some("decided") => "decided",
        _ => "open",
    };
    let (page, _) = match casework::queue(&state, &who, filter, None, None, 100).await {
        Ok(p) => p,
        Err(e) => return ctx.error_page(&e),
    };
    let now = state.now();
    let holders: Vec<uuid::Uuid> = page.iter().filter_map(|(c, _)| c.claimed_by).collect();
    let logins = casework::staff_logins(&state, &who, &holders)
        .await
        .unwrap_or_default();
    let lang = ctx.lang;
    let rows = page
        .into_iter()
        .map(|(case, flags)| QueueRow {
            id: case.id.to_string(),
            kind: match case.kind {
                CaseKind::Application => ctx.t.kind_application(),
                CaseKind::Screening => ctx.t.kind_screening(),
                CaseKind::Periodic => ctx.t.kind_periodic(),
            },
            submitted: china_time(lang, case.submitted_at),
            due: china_time(lang, case.due_at),
            overdue: case.decided_at.is_none() && case.due_at < now,
            holder: holder_text(&ctx, &case, &logins, now),
            // The outcome alone: its reason is on the case (a read per row is not worth it).
            outcome: outcome_text(ctx.t, &case, None),
            flags: flags
                .into_iter()
                .map(|f| flag_label(ctx.t, f).to_owned())
                .collect(),
        })
        .collect();
    let t = ctx.t;
    let page = QueuePage {
        chrome: ctx.chrome("/review"),
        tabs: vec![
            ("open", t.tab_open()),
            ("claimed", t.tab_claimed()),
            ("awaiting_second_approval", t.tab_second()),
            ("delisted", t.tab_delisted()),
            ("decided", t.tab_decided()),
        ],
        current,
        rows,
        admin: who.admin().is_ok(),
    };
    ctx.render(&page)
}

/// A flag as the reviewer reads it.
fn flag_label(t: Text, flag: Flag) -> &'static str {
    match flag {
        Flag::DuplicateDocument => t.flag_duplicate_document(),
        Flag::DocumentExpiresSoon => t.flag_document_expires_soon(),
        Flag::Turns18Recently => t.flag_turns_18_recently(),
        Flag::ScreeningFlag => t.flag_screening_flag(),
    }
}

/// Who holds a case's claim and until when; empty when nobody does.
fn holder_text(
    ctx: &PageContext,
    case: &realname_core::store::CaseRecord,
    logins: &std::collections::HashMap<uuid::Uuid, String>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    match (case.claimant_at(now), case.claimed_until) {
        (Some(by), Some(until)) => {
            let who = if ctx.account.as_ref().is_some_and(|a| a.id == by) {
                ctx.t.you().to_owned()
            } else {
                logins
                    .get(&by)
                    .cloned()
                    .unwrap_or_else(|| ctx.t.another_reviewer().to_owned())
            };
            ctx.t.held_by(&who, &china_time(ctx.lang, until))
        }
        _ => String::new(),
    }
}

/// How a case was decided, with the reason of a rejection.
fn outcome_text(
    t: Text,
    case: &realname_core::store::CaseRecord,
    failure: Option<&realname_core::state::Failure>,
) -> String {
    match case.outcome.as_deref() {
        Some("approve") => t.outcome_approved().to_owned(),
        Some("dismiss") => t.outcome_dismissed().to_owned(),
        Some("confirm") => t.outcome_confirmed().to_owned(),
        Some("lift") => t.outcome_lifted().to_owned(),
        Some(_) => {
            let reason = failure
                .and_then(|f| ReviewReason::ALL.iter().find(|r| r.code() == f.code))
                .map(|r| reason_label(t, *r));
            match reason {
                Some(reason) => format!("{}: {reason}", t.outcome_rejected()),
                None => t.outcome_rejected().to_owned(),
            }
        }
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    short_id: String,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
    flags: Vec<String>,
    /// The other application that holds one of this one's documents: a link to its case (or
    /// its audit trail, before it reached review), and its short id.
    duplicate: Option<(String, String)>,
    rows: Vec<(&'static str, String)>,
    images: Vec<(&'static str, String, bool)>,
    decided: bool,
    outcome: String,
    held: bool,
    held_until: String,
    /// Another reviewer holds it: who, and until when.
    held_by_other: String,
    reasons: Vec<(&'static str, &'static str)>,
    /// A screening case: its hits beside the applicant, and its own decisions.
    screening: bool,
    /// A periodic review: approving lets the grade stand; there is nothing to reject.
    periodic: bool,
    hits: Vec<HitRow>,
    /// Awaiting its second approval: who decided first, what and when.
    first_decision: String,
    delisted: bool,
    report_reference: String,
    /// The risk grade (its label, score and policy version) and its factors, once graded.
    risk: Option<(String, Vec<(String, u32)>)>,
}

/// A listed person as the screening case shows them.
pub struct HitRow {
    source: String,
    entry_id: String,
    score: String,
    names: String,
    closest: String,
    matched: String,
    action: &'static str,
    disposition: &'static str,
}

fn hit_row(t: Text, h: realname_app::screening::HitRecord) -> HitRow {
    let feature = |m: &str| match m {
        "name" => t.matched_name(),
        "date_of_birth" => t.matched_date_of_birth(),
        "year_of_birth" => t.matched_year_of_birth(),
        "nationality" => t.matched_nationality(),
        "document" => t.matched_document(),
        _ => "",
    };
    HitRow {
        source: h.source,
        entry_id: h.entry_id,
        score: format!("{:.2}", h.score),
        names: h.names.join(" · "),
        closest: h.matched_name.unwrap_or_default(),
        matched: h
            .matched
            .iter()
            .map(|m| feature(m))
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        action: if h.action == "hold" {
            t.action_hold()
        } else {
            t.action_flag()
        },
        disposition: match h.disposition.as_str() {
            "near_miss" => t.disposition_near_miss(),
            "dismissed_before" => t.disposition_dismissed_before(),
            _ => t.disposition_potential_match(),
        },
    }
}

/// The applicant's identity and card as the case shows them: whole to the reviewer who holds
/// the claim, masked to anyone else.
fn identity_rows(
    state: &AppState,
    ctx: &PageContext,
    opened: &realname_app::views::Opened,
    unmasked: bool,
) -> Vec<(&'static str, String)> {
    let t = ctx.t;
    let form = &opened.form();
    let docs = form.documents.clone().unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // Staff who do not hold the claim (and are no admin) see what the user's own pages show.
    let shown = |v: &Option<String>, mask: fn(&str) -> String| {
        let v = text(v);
        if unmasked { v } else { mask(&v) }
    };
    let lang = ctx.lang;
    let nationality = match lang {
        Lang::En => opened.identity.nationality.name_en(),
        Lang::Zh => opened.identity.nationality.name_zh(),
    };
    let mut rows = vec![
        (t.real_name(), text(&form.real_name)),
        (t.nationality(), nationality.to_owned()),
        (
            t.date_of_birth(),
            shown(&form.date_of_birth, views::masked_date),
        ),
        (t.phone(), shown(&form.phone, views::masked_phone)),
    ];
    rows.extend(super::journey::diligence_rows(
        t,
        &opened.identity.diligence,
        unmasked,
    ));
    if let Some(p) = &docs.passport {
        rows.push((t.passport_number(), shown(&p.number, views::masked_number)));
        rows.push((t.expiry_date(), text(&p.expiry_date)));
    }
    if let Some(s) = &docs.stay_permit {
        rows.push((
            t.proof_of_stay(),
            super::journey::stay_kind_label(t, s.kind.as_deref()).to_owned(),
        ));
        if s.number.is_some() {
            rows.push((t.permit_number(), shown(&s.number, views::masked_number)));
        }
        for (label, value) in [
            (t.expiry_date(), &s.expiry_date),
            (t.entry_date(), &s.entry_date),
        ] {
            if value.is_some() {
                rows.push((label, text(value)));
            }
        }
    }
    if let Some(card) = &opened.card_form() {
        let last4 = |n: &str| {
            let tail: String = n.chars().rev().take(4).collect();
            format!("**** {}", tail.chars().rev().collect::<String>())
        };
        let bank = card.bank.as_deref().and_then(|b| state.policy.bank(b));
        let bank = bank.map_or_else(
            || text(&card.bank),
            |b| match lang {
                Lang::En => b.name.clone(),
                Lang::Zh => b.name_zh.clone(),
            },
        );
        let account_type = match card.account_type.as_deref() {
            Some("fixed") => t.fixed_account(),
            _ => t.current_account(),
        };
        rows.push((t.bank(), bank));
        rows.push((t.card_number(), shown(&card.card_number, last4)));
        rows.push((t.account_name(), text(&card.account_name)));
        rows.push((t.account_type(), account_type.to_owned()));
    }
    rows
}

async fn case_page(
    state: &AppState,
    ctx: &PageContext,
    who: &Principal,
    id: &str,
    flash: Option<&Flash>,
) -> Result<CasePage, AppError> {
    let errors = ctx.form_errors(flash);
    let (case, app, opened, flags, unmasked) = casework::reveal(state, who, id).await?;
    let t = ctx.t;
    let lang = ctx.lang;
    let rows = match &opened {
        Some(opened) => identity_rows(state, ctx, opened, unmasked),
        // Erased once its retention ran out: the reviewer sees null where the data was.
        None => super::journey::erased_rows(ctx, app.redacted_at),
    };
    let images = app
        .images
        .iter()
        .filter(|_| unmasked)
        .map(|i| {
            let label = if i.slot == "passport_photo_page" {
                t.passport_photo_page()
            } else {
                t.stay_permit_image()
            };
            (
                label,
                format!("/review/cases/{}/documents/{}", case.id, i.slot),
                i.content_type != "application/pdf",
            )
        })
        .collect();
    let now = state.now();
    let held = who.account().is_ok_and(|a| case.held_by(a.id, now));
    let named: Vec<uuid::Uuid> = case
        .claimed_by
        .into_iter()
        .chain(case.first.as_ref().map(|f| f.by))
        .collect();
    let logins = if named.is_empty() {
        Default::default()
    } else {
        casework::staff_logins(state, who, &named).await?
    };
    let screening = case.kind == CaseKind::Screening;
    let hits = if screening {
        casework::screening_hits(state, &case)
            .await?
            .into_iter()
            .map(|h| hit_row(t, h))
            .collect()
    } else {
        Vec::new()
    };
    let first_decision = case
        .first
        .as_ref()
        .filter(|_| case.decided_at.is_none())
        .map(|f| {
            let outcome = match f.outcome.as_str() {
                "dismiss" => t.outcome_dismissed(),
                "approve" => t.outcome_approved(),
                _ => t.outcome_confirmed(),
            };
            let who = logins
                .get(&f.by)
                .cloned()
                .unwrap_or_else(|| t.another_reviewer().to_owned());
            t.decided_first(outcome, &who, &china_time(lang, f.at))
        })
        .unwrap_or_default();
    let risk = realname_app::risk::current(state, app.id).await?.map(|g| {
        let grade = match g.grade {
            realname_core::risk::Grade::Low => t.risk_low(),
            realname_core::risk::Grade::Medium => t.risk_medium(),
            realname_core::risk::Grade::High => t.risk_high(),
        };
        let factors = g
            .factors
            .iter()
            .map(|(f, points)| {
                let label = match lang {
                    Lang::En => f.label_en(),
                    Lang::Zh => f.label_zh(),
                };
                (label.to_owned(), *points)
            })
            .collect();
        (t.risk_summary(grade, g.score, &g.policy_version), factors)
    });
    let held_by_other = if held {
        String::new()
    } else {
        holder_text(ctx, &case, &logins, now)
    };
    // Looked up only when the flags say there is one to link.
    let other = if flags.contains(&Flag::DuplicateDocument) {
        casework::duplicate_of(state, who, app.id).await?
    } else {
        None
    };
    let duplicate = other.map(|(other, case)| {
        let href = match case {
            Some(case) => format!("/review/cases/{case}"),
            None => format!("/audit?verification_id={other}"),
        };
        (href, other.simple().to_string()[..8].to_owned())
    });
    Ok(CasePage {
        chrome: {
            let mut chrome = ctx
                .chrome(&format!("/review/cases/{}", case.id))
                .with_flash_notice(ctx.lang, flash);
            chrome.has_errors = errors.any();
            chrome
        },
        id: case.id.to_string(),
        short_id: case.id.simple().to_string()[..8].to_owned(),
        summary: errors.summary("#reason"),
        errors,
        flags: flags
            .into_iter()
            .filter(|f| *f != Flag::DuplicateDocument || duplicate.is_none())
            .map(|f| flag_label(t, f).to_owned())
            .collect(),
        duplicate,
        rows,
        images,
        decided: !case.is_open(),
        outcome: outcome_text(t, &case, app.failure.as_ref()),
        screening,
        periodic: case.kind == CaseKind::Periodic,
        hits,
        first_decision,
        delisted: case.reopened_at.is_some(),
        report_reference: case.report_reference.clone().unwrap_or_default(),
        risk,
        held,
        held_until: case
            .claimed_until
            .map(|u| china_time(lang, u))
            .unwrap_or_default(),
        held_by_other,
        reasons: ReviewReason::ALL
            .iter()
            .map(|r| (r.code().as_str(), reason_label(t, *r)))
            .collect(),
    })
}

pub async fn case(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    let path = format!("/review/cases/{id}");
    let flash = ctx.take_flash(&path);
    match case_page(&state, &ctx, &who, &id, flash.as_ref()).await {
        Ok(page) => ctx.render(&page),
        Err(e) => ctx.error_page(&e),
    }
}

pub async fn document(
    State(state): State<AppState>,
    ctx: PageContext,
    Path((id, slot)): Path<(String, String)>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    match casework::document(&state, &who, &id, &slot).await {
        Ok((meta, bytes)) => crate::api::review::served_document(&meta, bytes),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DecisionValues {
    csrf: String,
    outcome: Option<String>,
    reason: Option<String>,
    note: Option<String>,
}

/// Back to the case, saying what was done (`done`) or what went wrong.
fn after_action(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    result: Result<(), AppError>,
    done: Notice,
) -> Response {
    let path = format!("/review/cases/{id}");
    match result {
        Ok(()) => ctx.see_other_with(state, &path, Flash::to(&path).with_notice(done)),
        Err(error) => {
            let errors = said_all(&error, |f, _| f.to_owned());
            ctx.see_other_with(state, &path, Flash::to(&path).with_errors(errors))
        }
    }
}

pub async fn claim(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<DecisionValues>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    if !ctx.genuine(&headers, Some(&v.csrf)) {
        return ctx.forbidden_form();
    }
    let result = casework::claim(&state, &who, &id).await.map(drop);
    after_action(&state, &ctx, &id, result, Notice::Claimed)
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<DecisionValues>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    if !ctx.genuine(&headers, Some(&v.csrf)) {
        return ctx.forbidden_form();
    }
    let form = DecisionForm {
        outcome: v.outcome,
        reason: v.reason.filter(|r| !r.is_empty()),
        note: v.note,
    };
    let result = casework::decide(&state, &who, &id, &form).await.map(drop);
    after_action(&state, &ctx, &id, result, Notice::Decided)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScreeningValues {
    csrf: String,
    outcome: Option<String>,
    note: Option<String>,
    report_reference: Option<String>,
}

pub async fn decide_screening(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<ScreeningValues>,
) -> Response {
    let Some(who) = staff(&ctx) else {
        return turn_away(&ctx);
    };
    if !ctx.genuine(&headers, Some(&v.csrf)) {
        return ctx.forbidden_form();
    }
    let result = casework::decide_screening(
        &state,
        &who,
        &id,
        v.outcome.as_deref().unwrap_or(""),
        v.note.as_deref(),
        v.report_reference.as_deref(),
    )
    .await
    .map(drop);
    after_action(&state, &ctx, &id, result, Notice::Decided)
}

pub struct AuditRow {
    at: String,
    who: String,
    action: &'static str,
    /// The application's short id, and a link to its trail.
    application: Option<(String, String)>,
    details: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    filter: String,
    rows: Vec<AuditRow>,
}

fn action_label(t: Text, action: &str) -> &'static str {
    match action {
        "reveal_application" => t.audit_reveal_application(),
        "reveal_document" => t.audit_reveal_document(),
        "decide" => t.audit_decide(),
        "reveal_real_name" => t.audit_reveal_real_name(),
        "reveal_identity" => t.audit_reveal_identity(),
        "erase" => t.audit_erase(),
        "close_account" => t.audit_close_account(),
        "screening_decision" => t.audit_screening_decision(),
        "screening_check" => t.audit_screening_check(),
        _ => t.audit_other(),
    }
}

/// An entry's detail (JSON) as label–value pairs a person reads.
fn details(t: Text, detail: &str) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail)
    else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(key, value)| {
            let label = match key.as_str() {
                "case_id" => t.detail_case().to_owned(),
                "slot" => t.detail_slot().to_owned(),
                "outcome" => t.detail_outcome().to_owned(),
                "reason" => t.reason().to_owned(),
                "api_key" => t.detail_api_key().to_owned(),
                "unmasked" => t.detail_unmasked().to_owned(),
                "rule" => t.detail_rule().to_owned(),
                other => other.replace('_', " "),
            };
            let value = match &value {
                serde_json::Value::String(s) => match (key.as_str(), s.as_str()) {
                    ("case_id", id) => id.chars().take(8).collect(),
                    ("slot", "passport_photo_page") => t.passport_photo_page().to_owned(),
                    ("slot", "stay_permit") => t.stay_permit_image().to_owned(),
                    ("outcome", "approve") => t.outcome_approved().to_owned(),
                    ("outcome", "reject") => t.outcome_rejected().to_owned(),
                    ("outcome", "dismiss") => t.outcome_dismissed().to_owned(),
                    ("outcome", "confirm") => t.outcome_confirmed().to_owned(),
                    ("outcome", "lift") => t.outcome_lifted().to_owned(),
                    ("reason", code) => ReviewReason::ALL
                        .iter()
                        .find(|r| r.code().as_str() == code)
                        .map_or_else(|| code.to_owned(), |r| reason_label(t, *r).to_owned()),
                    (_, s) => s.to_owned(),
                },
                serde_json::Value::Bool(true) => t.yes().to_owned(),
                serde_json::Value::Bool(false) => t.no().to_owned(),
                serde_json::Value::Null => "—".to_owned(),
                other => other.to_string(),
            };
            (label, value)
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    verification_id: String,
}

pub async fn audit(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<AuditQuery>,
) -> Response {
    let Some(who) = &ctx.principal else {
        return ctx.finish(Redirect::to("/login").into_response());
    };
    let filter = uuid::Uuid::parse_str(q.verification_id.trim()).ok();
    let entries = match casework::audit_trail(&state, who, filter, 500).await {
        Ok(e) => e,
        Err(e) => return ctx.error_page(&e),
    };
    let actors: Vec<uuid::Uuid> = entries.iter().map(|e| e.actor).collect();
    let logins = casework::staff_logins(&state, who, &actors)
        .await
        .unwrap_or_default();
    let t = ctx.t;
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            at: china_time(ctx.lang, e.at),
            who: if e.actor.is_nil() {
                t.platform_key().to_owned()
            } else {
                logins
                    .get(&e.actor)
                    .cloned()
                    .unwrap_or_else(|| e.actor.simple().to_string()[..8].to_owned())
            },
            action: action_label(t, &e.action),
            application: e.application_id.map(|a| {
                (
                    format!("/audit?verification_id={a}"),
                    a.simple().to_string()[..8].to_owned(),
                )
            }),
            details: details(t, &e.detail),
        })
        .collect();
    ctx.render(&AuditPage {
        chrome: ctx.chrome("/audit"),
        filter: q.verification_id,
        rows,
    })
}
