//! The user's journey, page by page: identity, documents, bank card, confirmation, then the
//! status page that waits for the deposit, takes the amount, and tells the outcome.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use realname_core::Code;
use realname_core::applicant::Nationality;
use realname_core::application::{ApplicationForm, DocumentsForm, PassportForm, StayPermitForm};
use realname_core::card::CardNumber;
use realname_core::deposit::Fen;
use realname_core::documents::ImageSlot;
use realname_core::name::normalise;
use realname_core::policy::BankCardForm;
use realname_core::state::Status;
use realname_core::store::ApplicationRecord;
use serde::Deserialize;

use super::{Chrome, CsrfOnly, Lang, PageContext, china_time};
use crate::config::Rail;
use realname_app::AppError;

use crate::error::HttpStatus;
use crate::state::AppState;
use realname_app::journey;
use realname_app::views;

/// Breaches by form field, in the page's language; the first entry with an empty field is a
/// message for the whole form.
#[derive(Default)]
pub struct FormErrors {
    pub list: Vec<(String, String)>,
}

impl FormErrors {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, m)| m.as_str())
    }

    pub fn any(&self) -> bool {
        !self.list.is_empty()
    }

    fn from_error(lang: Lang, error: &AppError) -> FormErrors {
        if error.details.is_empty() {
            return FormErrors {
                list: vec![(String::new(), lang.says(error.code).to_owned())],
            };
        }
        let list = error
            .details
            .iter()
            .map(|b| (form_field(&b.field, b.code).to_owned(), lang.breach(b)))
            .collect();
        FormErrors { list }
    }
}

/// The input a breach belongs next to.
fn form_field(path: &str, code: Code) -> &str {
    match (path, code) {
        ("documents.passport", Code::DocumentExpired) | ("documents.passport.expiry_date", _) => {
            "passport_expiry"
        }
        ("documents.passport", _) | ("documents.passport.number", _) => "passport_number",
        ("documents.stay_permit", Code::DocumentExpired)
        | ("documents.stay_permit.expiry_date", _) => "stay_expiry",
        ("documents.stay_permit", _) | ("documents.stay_permit.kind", _) => "stay_kind",
        ("documents.stay_permit.number", _) => "stay_number",
        ("documents.stay_permit.entry_date", _) => "entry_date",
        (p, _) => p
            .strip_prefix("bank_card.")
            .or_else(|| p.strip_prefix("images."))
            .unwrap_or(p),
    }
}

fn login_first(ctx: &PageContext) -> Response {
    ctx.finish(Redirect::to("/login").into_response())
}

/// The logged-in user's own application, or the page that says why not.
async fn own(state: &AppState, ctx: &PageContext, id: &str) -> Result<ApplicationRecord, Response> {
    let Some(who) = &ctx.principal else {
        return Err(login_first(ctx));
    };
    journey::owned(state, who, id)
        .await
        .map_err(|e| ctx.error_page(&e))
}

/// The user's own application for a form post that is this site's own.
async fn own_for_post(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
) -> Result<ApplicationRecord, Response> {
    let app = own(state, ctx, id).await?;
    if ctx.genuine(headers, Some(csrf)) {
        Ok(app)
    } else {
        Err(ctx.forbidden_form())
    }
}

fn go(ctx: &PageContext, to: String) -> Response {
    ctx.finish(Redirect::to(&to).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IdentityValues {
    csrf: String,
    consent: Option<String>,
    real_name: String,
    nationality: String,
    date_of_birth: String,
    phone: String,
    passport_number: String,
    passport_expiry: String,
    stay_kind: String,
    stay_number: String,
    stay_expiry: String,
    entry_date: String,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

impl IdentityValues {
    fn to_form(&self) -> ApplicationForm {
        let passport = (some(&self.passport_number).is_some()
            || some(&self.passport_expiry).is_some())
        .then(|| PassportForm {
            number: some(&self.passport_number),
            expiry_date: some(&self.passport_expiry),
        });
        let stay_permit = some(&self.stay_kind).map(|kind| StayPermitForm {
            number: some(&self.stay_number).filter(|_| kind != "entry_record"),
            expiry_date: some(&self.stay_expiry).filter(|_| kind != "entry_record"),
            entry_date: some(&self.entry_date).filter(|_| kind == "entry_record"),
            kind: Some(kind),
        });
        ApplicationForm {
            consent: Some(self.consent.is_some()),
            real_name: some(&self.real_name),
            nationality: some(&self.nationality),
            date_of_birth: some(&self.date_of_birth),
            phone: some(&self.phone),
            documents: Some(DocumentsForm {
                passport,
                stay_permit,
            }),
        }
    }

    fn from_form(form: &ApplicationForm) -> IdentityValues {
        let docs = form.documents.clone().unwrap_or_default();
        let passport = docs.passport.unwrap_or_default();
        let stay = docs.stay_permit.unwrap_or_default();
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        IdentityValues {
            csrf: String::new(),
            consent: form.consent.filter(|c| *c).map(|_| "true".into()),
            real_name: text(&form.real_name),
            nationality: text(&form.nationality),
            date_of_birth: text(&form.date_of_birth),
            phone: text(&form.phone),
            passport_number: text(&passport.number),
            passport_expiry: text(&passport.expiry_date),
            stay_kind: text(&stay.kind),
            stay_number: text(&stay.number),
            stay_expiry: text(&stay.expiry_date),
            entry_date: text(&stay.entry_date),
        }
    }
}

/// What the identity template reads of the values.
pub struct IdentityView {
    real_name: String,
    nationality: String,
    date_of_birth: String,
    phone: String,
    passport_number: String,
    passport_expiry: String,
    stay_kind: String,
    stay_number: String,
    stay_expiry: String,
    entry_date: String,
    consent: bool,
}

impl From<&IdentityValues> for IdentityView {
    fn from(v: &IdentityValues) -> Self {
        IdentityView {
            real_name: v.real_name.clone(),
            nationality: v.nationality.clone(),
            date_of_birth: v.date_of_birth.clone(),
            phone: v.phone.clone(),
            passport_number: v.passport_number.clone(),
            passport_expiry: v.passport_expiry.clone(),
            stay_kind: v.stay_kind.clone(),
            stay_number: v.stay_number.clone(),
            stay_expiry: v.stay_expiry.clone(),
            entry_date: v.entry_date.clone(),
            consent: v.consent.is_some(),
        }
    }
}

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    chrome: Chrome,
    action: String,
    is_new: bool,
    v: IdentityView,
    errors: FormErrors,
    warning: Option<String>,
    nationalities: Vec<(&'static str, String)>,
    kinds: Vec<(&'static str, &'static str)>,
}

impl IdentityPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

fn identity_page(
    ctx: &PageContext,
    action: String,
    is_new: bool,
    values: &IdentityValues,
    errors: FormErrors,
) -> IdentityPage {
    let nationalities = Nationality::all()
        .map(|n| {
            let name = if ctx.lang == Lang::Zh {
                n.name_zh()
            } else {
                n.name_en()
            };
            (n.code(), format!("{name} ({})", n.code()))
        })
        .collect();
    IdentityPage {
        chrome: ctx.chrome(&action),
        action,
        is_new,
        v: values.into(),
        errors,
        warning: None,
        nationalities,
        kinds: vec![
            ("entry_record", ctx.t.entry_record()),
            ("residence_permit", ctx.t.residence_permit()),
            ("permanent_residence_card", ctx.t.permanent_residence_card()),
        ],
    }
}

pub async fn new_identity(ctx: PageContext) -> Response {
    if ctx.account.is_none() {
        return login_first(&ctx);
    }
    let values = IdentityValues {
        stay_kind: "entry_record".into(),
        ..IdentityValues::default()
    };
    ctx.render(&identity_page(
        &ctx,
        "/verifications/new".into(),
        true,
        &values,
        FormErrors::default(),
    ))
}

pub async fn create_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(values): Form<IdentityValues>,
) -> Response {
    let Some(who) = ctx.principal.clone() else {
        return login_first(&ctx);
    };
    if !ctx.genuine(&headers, Some(&values.csrf)) {
        return ctx.forbidden_form();
    }
    match journey::create(&state, &who, &values.to_form(), peer.ip().to_string()).await {
        Ok(app) => go(&ctx, format!("/verifications/{}/documents", app.id)),
        Err(error) => {
            let page = identity_page(
                &ctx,
                "/verifications/new".into(),
                true,
                &values,
                FormErrors::from_error(ctx.lang, &error),
            );
            ctx.render_status(error.status(), &page)
        }
    }
}

pub async fn edit_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let app = match own(&state, &ctx, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let form = match views::open(&state, &app) {
        Ok(o) => o.form(),
        Err(e) => return ctx.error_page(&e),
    };
    let values = IdentityValues::from_form(&form);
    ctx.render(&identity_page(
        &ctx,
        format!("/verifications/{id}/identity"),
        false,
        &values,
        FormErrors::default(),
    ))
}

pub async fn update_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(values): Form<IdentityValues>,
) -> Response {
    let app = match own_for_post(&state, &ctx, &headers, &id, &values.csrf).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let mut form = values.to_form();
    form.consent = Some(true);
    match journey::update(&state, &app, &form).await {
        Ok(app) => go(&ctx, format!("/verifications/{}/documents", app.id)),
        Err(error) => {
            let action = format!("/verifications/{id}/identity");
            let page = identity_page(
                &ctx,
                action,
                false,
                &values,
                FormErrors::from_error(ctx.lang, &error),
            );
            ctx.render_status(error.status(), &page)
        }
    }
}

pub struct SlotView {
    name: &'static str,
    label: &'static str,
    uploaded: bool,
}

#[derive(Template)]
#[template(path = "documents.html")]
struct DocumentsPage {
    chrome: Chrome,
    id: String,
    slots: Vec<SlotView>,
    errors: FormErrors,
}

fn documents_page(ctx: &PageContext, app: &ApplicationRecord, errors: FormErrors) -> DocumentsPage {
    let uploaded = |slot: ImageSlot| app.images.iter().any(|i| i.slot == slot.as_str());
    DocumentsPage {
        chrome: ctx.chrome(&format!("/verifications/{}/documents", app.id)),
        id: app.id.to_string(),
        slots: vec![
            SlotView {
                name: "passport_photo_page",
                label: ctx.t.passport_photo_page(),
                uploaded: uploaded(ImageSlot::PassportPhotoPage),
            },
            SlotView {
                name: "stay_permit",
                label: ctx.t.stay_permit_image(),
                uploaded: uploaded(ImageSlot::StayPermit),
            },
        ],
        errors,
    }
}

pub async fn documents(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    match own(&state, &ctx, &id).await {
        Ok(app) => ctx.render(&documents_page(&ctx, &app, FormErrors::default())),
        Err(r) => r,
    }
}

pub async fn upload_documents(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let app = match own(&state, &ctx, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let mut csrf = None;
    let mut files: Vec<(ImageSlot, Vec<u8>)> = Vec::new();
    let mut errors = FormErrors::default();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let Ok(bytes) = field.bytes().await else {
            errors
                .list
                .push((name, ctx.lang.says(Code::DocumentImageTooLarge).to_owned()));
            break;
        };
        match (name.as_str(), ImageSlot::parse(&name)) {
            ("csrf", _) => csrf = Some(String::from_utf8_lossy(&bytes).into_owned()),
            (_, Some(slot)) if !bytes.is_empty() => files.push((slot, bytes.to_vec())),
            _ => {}
        }
    }
    if !ctx.genuine(&headers, csrf.as_deref()) {
        return ctx.forbidden_form();
    }
    for (slot, bytes) in files {
        if let Err(e) = journey::store_image(&state, &app, slot, &bytes).await {
            errors
                .list
                .push((slot.as_str().to_owned(), ctx.lang.says(e.code).to_owned()));
        }
    }
    if errors.any() {
        let app = journey::reload(&state, app.id).await.unwrap_or(app);
        return ctx.render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &documents_page(&ctx, &app, errors),
        );
    }
    go(&ctx, format!("/verifications/{id}/bank_card"))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CardValues {
    csrf: String,
    bank: String,
    card_number: String,
    card_type: String,
    account_type: String,
    account_name: String,
}

#[derive(Template)]
#[template(path = "bank_card.html")]
struct BankCardPage {
    chrome: Chrome,
    id: String,
    v: CardValues,
    errors: FormErrors,
    banks: Vec<(String, String)>,
    card_types: Vec<(&'static str, &'static str)>,
    account_types: Vec<(&'static str, &'static str)>,
}

impl BankCardPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

fn bank_card_page(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    v: CardValues,
    errors: FormErrors,
) -> BankCardPage {
    let banks = state
        .policy
        .supported_banks()
        .map(|b| {
            (
                b.code.clone(),
                if ctx.lang == Lang::Zh {
                    b.name_zh.clone()
                } else {
                    b.name.clone()
                },
            )
        })
        .collect();
    BankCardPage {
        chrome: ctx.chrome(&format!("/verifications/{id}/bank_card")),
        id: id.to_owned(),
        v,
        errors,
        banks,
        card_types: vec![
            ("savings", ctx.t.savings_card()),
            ("passbook", ctx.t.passbook()),
            ("credit", ctx.t.credit_card()),
        ],
        account_types: vec![
            ("current", ctx.t.current_account()),
            ("fixed", ctx.t.fixed_account()),
        ],
    }
}

pub async fn bank_card(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let app = match own(&state, &ctx, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let opened = match views::open(&state, &app) {
        Ok(o) => o,
        Err(e) => return ctx.error_page(&e),
    };
    let card = opened.card_form().unwrap_or_default();
    let v = CardValues {
        csrf: String::new(),
        bank: card.bank.unwrap_or_default(),
        card_number: card.card_number.unwrap_or_default(),
        card_type: card.card_type.unwrap_or_else(|| "savings".into()),
        account_type: card.account_type.unwrap_or_else(|| "current".into()),
        account_name: card
            .account_name
            .or(Some(opened.identity.real_name.as_str().to_owned()))
            .unwrap_or_default(),
    };
    ctx.render(&bank_card_page(&state, &ctx, &id, v, FormErrors::default()))
}

pub async fn bind_card(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<CardValues>,
) -> Response {
    let app = match own_for_post(&state, &ctx, &headers, &id, &v.csrf).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let card = BankCardForm {
        bank: some(&v.bank),
        card_number: some(&v.card_number),
        card_type: some(&v.card_type),
        account_type: some(&v.account_type),
        account_name: some(&v.account_name),
    };
    match journey::bind_card(&state, &app, &card).await {
        Ok(_) => go(&ctx, format!("/verifications/{id}/confirm")),
        Err(error) => {
            let errors = FormErrors::from_error(ctx.lang, &error);
            ctx.render_status(
                error.status(),
                &bank_card_page(&state, &ctx, &id, v, errors),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    id: String,
    rows: Vec<(&'static str, String)>,
    errors: FormErrors,
}

fn confirm_page(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
    errors: FormErrors,
) -> Result<ConfirmPage, AppError> {
    let opened = views::open(state, app)?;
    let form = &opened.form();
    let t = ctx.t;
    let docs = form.documents.clone().unwrap_or_default();
    let masked = |v: &Option<String>| v.as_deref().map(views::masked_number).unwrap_or_default();
    let mut rows = vec![
        (
            t.real_name(),
            form.real_name.as_deref().map(normalise).unwrap_or_default(),
        ),
        (
            t.nationality(),
            form.nationality.clone().unwrap_or_default(),
        ),
        (
            t.date_of_birth(),
            form.date_of_birth
                .as_deref()
                .map(views::masked_date)
                .unwrap_or_default(),
        ),
        (
            t.phone(),
            form.phone
                .as_deref()
                .map(views::masked_phone)
                .unwrap_or_default(),
        ),
    ];
    if let Some(p) = &docs.passport {
        rows.push((t.passport_number(), masked(&p.number)));
    }
    if let Some(s) = &docs.stay_permit {
        let kind = match s.kind.as_deref() {
            Some("entry_record") => t.entry_record(),
            Some("residence_permit") => t.residence_permit(),
            _ => t.permanent_residence_card(),
        };
        rows.push((t.proof_of_stay(), kind.to_owned()));
        if s.number.is_some() {
            rows.push((t.permit_number(), masked(&s.number)));
        }
    }
    if let Some(card) = &opened.card_form() {
        let bank = card.bank.as_deref().and_then(|b| state.policy.bank(b));
        let name = bank
            .map(|b| {
                if ctx.lang == Lang::Zh {
                    b.name_zh.clone()
                } else {
                    b.name.clone()
                }
            })
            .unwrap_or_default();
        let last4 = card
            .card_number
            .as_deref()
            .and_then(CardNumber::parse)
            .map(|c| c.masked())
            .unwrap_or_default();
        rows.push((t.bank(), name));
        rows.push((t.card_number(), last4));
    }
    Ok(ConfirmPage {
        chrome: ctx.chrome(&format!("/verifications/{}/confirm", app.id)),
        id: app.id.to_string(),
        rows,
        errors,
    })
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let app = match own(&state, &ctx, &id).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    match confirm_page(&state, &ctx, &app, FormErrors::default()) {
        Ok(page) => ctx.render(&page),
        Err(e) => ctx.error_page(&e),
    }
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let app = match own_for_post(&state, &ctx, &headers, &id, &f.csrf).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    match journey::submit(&state, &app).await {
        Ok(_) => go(&ctx, format!("/verifications/{id}")),
        Err(error) => {
            match confirm_page(&state, &ctx, &app, FormErrors::from_error(ctx.lang, &error)) {
                Ok(page) => ctx.render_status(error.status(), &page),
                Err(e) => ctx.error_page(&e),
            }
        }
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let app = match own_for_post(&state, &ctx, &headers, &id, &f.csrf).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    match journey::cancel(&state, &app).await {
        Ok(_) => go(&ctx, "/account".into()),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    id: String,
    status: &'static str,
    heading: &'static str,
    error: Option<String>,
    amount: String,
    attempts_left: u32,
    deadline: String,
    failure: String,
    can_retry: bool,
    sandbox: bool,
    review_due: String,
    /// "Back to the platform", once the user has submitted or reached an outcome.
    back: Option<String>,
}

/// The way back to the platform a link came from: its `return_url`, told which session, once
/// the application is submitted or has an outcome (CONTRACT 9).
async fn back_to_platform(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
) -> Option<String> {
    if app.status == Status::Draft {
        return None;
    }
    let id = uuid::Uuid::parse_str(ctx.platform_session.as_deref()?).ok()?;
    let session = state.store.platform_session(id).await.ok()??;
    (session.account_id == app.account_id)
        .then(|| super::start::return_link(&session))
        .flatten()
}

fn status_page(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
    error: Option<String>,
    amount: String,
    back: Option<String>,
) -> StatusPage {
    let t = ctx.t;
    let heading = match app.status {
        Status::Draft => t.continue_application(),
        Status::DepositPending => t.deposit_on_its_way(),
        Status::AwaitingAmount => t.enter_amount(),
        Status::UnderReview => t.under_review(),
        Status::Verified => t.verified_title(),
        Status::Failed => t.failed_title(),
        Status::Cancelled => t.cancelled_title(),
    };
    let failure = app.failure.as_ref().map(|f| ctx.lang.failure(f));
    StatusPage {
        chrome: ctx.chrome(&format!("/verifications/{}", app.id)),
        id: app.id.to_string(),
        status: app.status.as_str(),
        heading,
        error,
        amount,
        attempts_left: app.deposit.as_ref().map_or(0, |d| {
            state.config.deposit.attempts_remaining(d.attempts_used)
        }),
        deadline: app
            .deposit
            .as_ref()
            .and_then(|d| d.expires_at)
            .map(china_time)
            .unwrap_or_default(),
        failure: failure.unwrap_or_default(),
        can_retry: app.failure.as_ref().is_some_and(|f| f.can_retry),
        sandbox: state.config.rail == Rail::Sandbox,
        review_due: app
            .events
            .iter()
            .rev()
            .find(|e| e.status == Status::UnderReview)
            .map(|e| china_time(e.at + state.config.review_sla))
            .unwrap_or_default(),
        back,
    }
}

pub async fn status(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    match own(&state, &ctx, &id).await {
        Ok(app) => {
            let back = back_to_platform(&state, &ctx, &app).await;
            ctx.render(&status_page(&state, &ctx, &app, None, String::new(), back))
        }
        Err(r) => r,
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AmountValues {
    csrf: String,
    amount: String,
}

pub async fn answer_amount(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<AmountValues>,
) -> Response {
    let app = match own_for_post(&state, &ctx, &headers, &id, &v.csrf).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    match journey::confirm_amount(&state, &app, &v.amount).await {
        Ok(_) => go(&ctx, format!("/verifications/{id}")),
        Err(error) => {
            let app = journey::reload(&state, app.id).await.unwrap_or(app);
            let text = ctx.lang.error(&error);
            ctx.render_status(
                error.status(),
                &status_page(&state, &ctx, &app, Some(text), v.amount, None),
            )
        }
    }
}

#[derive(Template)]
#[template(path = "statement.html")]
struct StatementPage {
    chrome: Chrome,
    card_number: String,
    searched: bool,
    error: Option<String>,
    lines: Vec<(String, String, String)>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct StatementQuery {
    card_number: String,
}

pub async fn statement(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<StatementQuery>,
) -> Response {
    let mut page = StatementPage {
        chrome: ctx.chrome("/sandbox/statement"),
        card_number: q.card_number.clone(),
        searched: false,
        error: None,
        lines: Vec::new(),
    };
    if !q.card_number.trim().is_empty() {
        match CardNumber::parse(&q.card_number) {
            None => page.error = Some(ctx.lang.says(Code::CardNumberInvalid).to_owned()),
            Some(card) => {
                let rows = match &state.sandbox {
                    Some(bank) => bank.statement(&card, state.now()).await,
                    None => Ok(Vec::new()),
                };
                match rows {
                    Ok(rows) => {
                        page.searched = true;
                        page.lines = rows
                            .into_iter()
                            .map(|r| (china_time(r.at), r.memo, Fen::new(r.amount_fen).to_string()))
                            .collect();
                    }
                    Err(e) => return ctx.error_page(&AppError::from(e)),
                }
            }
        }
    }
    ctx.render(&page)
}
