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
use realname_core::review::{DecisionForm, ReviewReason};
use serde::Deserialize;

use super::{Chrome, PageContext, Text, china_time};
use crate::api::review::parse_filter;
use realname_app::casework;
use realname_app::{AppError, Principal};

use crate::error::HttpStatus;
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
    submitted: String,
    due: String,
    overdue: bool,
    flags: Vec<String>,
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
        Some("decided") => "decided",
        _ => "open",
    };
    let (page, _) = match casework::queue(&state, &who, filter, None, 100).await {
        Ok(p) => p,
        Err(e) => return ctx.error_page(&e),
    };
    let now = state.now();
    let rows = page
        .into_iter()
        .map(|(case, flags)| QueueRow {
            id: case.id.to_string(),
            submitted: china_time(case.submitted_at),
            due: china_time(case.due_at),
            overdue: case.decided_at.is_none() && case.due_at < now,
            flags: flags
                .into_iter()
                .map(|f| ctx.lang.says(f).to_owned())
                .collect(),
        })
        .collect();
    let t = ctx.t;
    let page = QueuePage {
        chrome: ctx.chrome("/review"),
        tabs: vec![
            ("open", t.tab_open()),
            ("claimed", t.tab_claimed()),
            ("decided", t.tab_decided()),
        ],
        current,
        rows,
        admin: who.admin().is_ok(),
    };
    ctx.render(&page)
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    id: String,
    short_id: String,
    error: Option<String>,
    flags: Vec<String>,
    rows: Vec<(&'static str, String)>,
    images: Vec<(&'static str, String, bool)>,
    decided: bool,
    outcome: String,
    held: bool,
    held_until: String,
    reasons: Vec<(&'static str, &'static str)>,
}

async fn case_page(
    state: &AppState,
    ctx: &PageContext,
    who: &Principal,
    id: &str,
    error: Option<String>,
) -> Result<CasePage, AppError> {
    let (case, app, opened, flags, unmasked) = casework::reveal(state, who, id).await?;
    let t = ctx.t;
    let form = &opened.form();
    let docs = form.documents.clone().unwrap_or_default();
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // Staff who do not hold the claim (and are no admin) see what the user's own pages show.
    let shown = |v: &Option<String>, mask: fn(&str) -> String| {
        let v = text(v);
        if unmasked { v } else { mask(&v) }
    };
    let mut rows = vec![
        (t.real_name(), text(&form.real_name)),
        (t.nationality(), text(&form.nationality)),
        (
            t.date_of_birth(),
            shown(&form.date_of_birth, views::masked_date),
        ),
        (t.phone(), shown(&form.phone, views::masked_phone)),
    ];
    if let Some(p) = &docs.passport {
        rows.push((t.passport_number(), shown(&p.number, views::masked_number)));
        rows.push((t.expiry_date(), text(&p.expiry_date)));
    }
    if let Some(s) = &docs.stay_permit {
        rows.push((t.proof_of_stay(), text(&s.kind)));
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
        rows.push((t.bank(), text(&card.bank)));
        rows.push((t.card_number(), shown(&card.card_number, last4)));
        rows.push((t.account_name(), text(&card.account_name)));
        rows.push((t.account_type(), text(&card.account_type)));
    }
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
    let held = case.decided_at.is_none()
        && who.account().is_ok_and(|a| case.claimed_by == Some(a.id))
        && case.claimed_until.is_some_and(|u| u >= now);
    Ok(CasePage {
        chrome: ctx.chrome(&format!("/review/cases/{}", case.id)),
        id: case.id.to_string(),
        short_id: case.id.simple().to_string()[..8].to_owned(),
        error,
        flags: flags
            .into_iter()
            .map(|f| ctx.lang.says(f).to_owned())
            .collect(),
        rows,
        images,
        decided: case.decided_at.is_some(),
        outcome: case.outcome.clone().unwrap_or_default(),
        held,
        held_until: case.claimed_until.map(china_time).unwrap_or_default(),
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
    match case_page(&state, &ctx, &who, &id, None).await {
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

async fn after_action(
    state: &AppState,
    ctx: &PageContext,
    who: &Principal,
    id: &str,
    result: Result<(), AppError>,
) -> Response {
    match result {
        Ok(()) => ctx.finish(Redirect::to(&format!("/review/cases/{id}")).into_response()),
        Err(error) => {
            let text = ctx.lang.error(&error);
            match case_page(state, ctx, who, id, Some(text)).await {
                Ok(page) => ctx.render_status(error.status(), &page),
                Err(e) => ctx.error_page(&e),
            }
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
    after_action(&state, &ctx, &who, &id, result).await
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
        reason: v.reason,
        note: v.note,
    };
    let result = casework::decide(&state, &who, &id, &form).await.map(drop);
    after_action(&state, &ctx, &who, &id, result).await
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    filter: String,
    rows: Vec<(String, String, String, String, String)>,
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
    let rows = entries
        .into_iter()
        .map(|e| {
            let app = e.application_id.map(|a| a.to_string()).unwrap_or_default();
            (
                china_time(e.at),
                e.actor.to_string()[..8].to_owned(),
                e.action,
                app,
                e.detail,
            )
        })
        .collect();
    ctx.render(&AuditPage {
        chrome: ctx.chrome("/audit"),
        filter: q.verification_id,
        rows,
    })
}
