//! The user's journey, page by page: identity, documents, bank card, confirmation, then the
//! status page that waits for the deposit, takes the amount, and tells the outcome.
//!
//! Every form is Post/Redirect/Get: a post answers 303, handing what was typed and every
//! error to the page in a flash, so Back and Reload never send a form again. Each step opens
//! only when it makes sense: a submitted application's steps lead to its status page, which
//! shows what was submitted, read-only; a later step opened too early leads to the first one
//! not done.

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Multipart, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use realname_app::AppError;
use realname_app::journey;
use realname_app::views::{self, Opened};
use realname_core::Code;
use realname_core::applicant::Nationality;
use realname_core::application::{
    ApplicationForm, DocumentsForm, PassportForm, StayPermitForm, check_identity,
};
use realname_core::card::CardNumber;
use realname_core::deposit::Fen;
use realname_core::diligence::{OccupationCategory, OccupationForm, PepForm, Sex};
use realname_core::documents::{ImageSlot, StayPermitKind};
use realname_core::policy::BankCardForm;
use realname_core::state::{Status, may_apply};
use realname_core::store::ApplicationRecord;
use serde::{Deserialize, Serialize};

use super::flash::{Flash, Notice, Said, pairs_of, restore};
use super::forms::{FormErrors, SummaryLine, said, said_all, said_code};
use super::progress::{self, Progress, Step};
use super::{Chrome, CsrfOnly, Lang, PageContext, china_time, encode_component};
use crate::config::Rail;
use crate::state::AppState;

/// The input a breach belongs next to.
fn form_field(path: &str, code: Code) -> String {
    let input = match (path, code) {
        ("documents.passport", Code::DocumentExpired) | ("documents.passport.expiry_date", _) => {
            "passport_expiry"
        }
        ("documents.passport", _) | ("documents.passport.number", _) => "passport_number",
        ("documents.stay_permit", Code::DocumentExpired)
        | ("documents.stay_permit.expiry_date", _) => "stay_expiry",
        ("documents.stay_permit", _) | ("documents.stay_permit.kind", _) => "stay_kind",
        ("documents.stay_permit.number", _) => "stay_number",
        ("documents.stay_permit.entry_date", _) => "entry_date",
        ("occupation.title", _) => "occupation_title",
        ("pep.role", _) => "pep_role",
        (p, _) => p
            .strip_prefix("bank_card.")
            .or_else(|| p.strip_prefix("images."))
            .unwrap_or(p),
    };
    input.to_owned()
}

/// Where on which step a breach found at submission is fixed.
fn fix_link(id: &str, path: &str, code: Code) -> String {
    let input = form_field(path, code);
    let step = if path.starts_with("bank_card") {
        "bank_card"
    } else if path.starts_with("images") {
        "documents"
    } else if path.is_empty() {
        "confirm"
    } else {
        "identity"
    };
    if input.is_empty() {
        format!("/verifications/{id}/{step}")
    } else {
        format!("/verifications/{id}/{step}#{input}")
    }
}

/// To the login page, handing what was typed to `back`, where login returns the user.
pub fn login_first(
    state: &AppState,
    ctx: &PageContext,
    back: &str,
    values: Vec<(String, String)>,
    posted: bool,
) -> Response {
    let ended = posted || ctx.session_until.is_some() || ctx.session_token.is_some();
    let to = format!(
        "/login?next={}{}",
        encode_component(back),
        if ended { "&ended=1" } else { "" }
    );
    if values.is_empty() {
        ctx.see_other(&to)
    } else {
        ctx.see_other_with(state, &to, Flash::to(back).with_values(values))
    }
}

/// The logged-in user's own application, or the page that says why not.
async fn own(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    back: &str,
) -> Result<ApplicationRecord, Response> {
    let Some(who) = &ctx.principal else {
        return Err(login_first(state, ctx, back, Vec::new(), false));
    };
    journey::owned(state, who, id)
        .await
        .map_err(|e| ctx.error_page(&e))
}

/// The user's own application for a form post that is this site's own; a session that ended
/// keeps what was typed for after the login.
async fn own_for_post(
    state: &AppState,
    ctx: &PageContext,
    headers: &HeaderMap,
    id: &str,
    csrf: &str,
    back: &str,
    values: Vec<(String, String)>,
) -> Result<ApplicationRecord, Response> {
    if ctx.principal.is_none() {
        return Err(login_first(state, ctx, back, values, true));
    }
    let app = own(state, ctx, id, back).await?;
    if ctx.genuine(headers, Some(csrf)) {
        Ok(app)
    } else {
        Err(ctx.forbidden_form())
    }
}

fn status_path(app: &ApplicationRecord) -> String {
    format!("/verifications/{}", app.id)
}

/// A step of a draft, for an application that is no draft any more: its status page, which
/// says what happened (and, after a post, that the form was not needed).
fn draft_only(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
    posted: bool,
) -> Option<Response> {
    if app.status == Status::Draft {
        return None;
    }
    let to = status_path(app);
    Some(if posted {
        ctx.see_other_with(
            state,
            &to,
            Flash::to(&to).with_notice(Notice::AlreadySubmitted),
        )
    } else {
        ctx.see_other(&to)
    })
}

fn opened(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
) -> Result<Opened, Box<Response>> {
    views::open_kept(state, app).map_err(|e| Box::new(ctx.error_page(&e)))
}

fn kind_of(opened: &Opened) -> StayPermitKind {
    opened.identity.stay_permit.kind()
}

/// A draft's step page: the user's own draft, opened, or the page to go to instead (the
/// login, the status page of a submitted application, an error).
async fn draft_step(
    state: &AppState,
    ctx: &PageContext,
    id: &str,
    path: &str,
) -> Result<(ApplicationRecord, Opened), Response> {
    let app = own(state, ctx, id, path).await?;
    if let Some(r) = draft_only(state, ctx, &app, false) {
        return Err(r);
    }
    let opened = opened(state, ctx, &app).map_err(|r| *r)?;
    Ok((app, opened))
}

/// A step after the documents, opened before they are all there: to the documents, saying so.
fn documents_first(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
    opened: &Opened,
) -> Option<Response> {
    if missing_images(app, kind_of(opened)).is_empty() {
        return None;
    }
    let to = format!("/verifications/{}/documents", app.id);
    Some(ctx.see_other_with(
        state,
        &to,
        Flash::to(&to).with_notice(Notice::DocumentsFirst),
    ))
}

fn missing_images(app: &ApplicationRecord, kind: StayPermitKind) -> Vec<ImageSlot> {
    progress::required_slots(Some(kind))
        .iter()
        .filter(|slot| !app.images.iter().any(|i| i.slot == slot.as_str()))
        .copied()
        .collect()
}

/// Where a user who wants to apply goes instead, when they may not start a new application:
/// their open application, or their account page that says why.
pub async fn may_start(
    state: &AppState,
    ctx: &PageContext,
) -> Result<Option<ApplicationRecord>, Response> {
    let Some(who) = &ctx.principal else {
        return Err(login_first(
            state,
            ctx,
            "/verifications/new",
            Vec::new(),
            false,
        ));
    };
    let history = journey::mine(state, who)
        .await
        .map_err(|e| ctx.error_page(&e))?;
    match may_apply(history.iter().map(|a| (a.status, a.failure.as_ref()))) {
        Ok(()) => Ok(journey::retry_source(&history).cloned()),
        Err(Code::ApplicationInProgress) => {
            let open = history.iter().find(|a| a.status.is_open());
            Err(match open {
                Some(app) => ctx.see_other(&continue_path(state, app)),
                None => ctx.see_other("/account"),
            })
        }
        Err(code) => {
            let notice = if code == Code::AlreadyVerified {
                Notice::AlreadyVerified
            } else {
                Notice::Blocked
            };
            Err(ctx.see_other_with(state, "/account", Flash::to("/account").with_notice(notice)))
        }
    }
}

/// The page an application goes on at: a draft's first step not done, else its status.
pub fn continue_path(state: &AppState, app: &ApplicationRecord) -> String {
    if app.status != Status::Draft {
        return status_path(app);
    }
    let kind = views::open(state, app).ok().flatten().map(|o| kind_of(&o));
    progress::resume_path(app, kind)
}

#[derive(Deserialize, Serialize, Default, Clone)]
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
    sex: String,
    occupation: String,
    occupation_title: String,
    address: String,
    /// `yes` or `no`.
    pep: String,
    pep_role: String,
    /// The failed application this one starts from ("apply again").
    based_on: String,
}

fn some(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The nationality a person typed or picked: its code, or its name in either language.
fn nationality_code(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    // Every country, China's regions included, so that those get the message of their own.
    let wanted = text.to_lowercase();
    let by_name = Nationality::countries()
        .find(|n| n.name_en().to_lowercase() == wanted || n.name_zh() == text);
    Some(by_name.map_or_else(|| text.to_owned(), |n| n.code().to_owned()))
}

/// A nationality as the pick list shows it.
fn shown_name(n: Nationality, lang: Lang) -> &'static str {
    match lang {
        Lang::En => n.name_en(),
        Lang::Zh => n.name_zh(),
    }
}

/// Every nationality this flow takes, by its name in the reader's language: alphabetical in
/// English, by pinyin in Chinese. Sorted once per language, not on every page.
fn nationality_choices(lang: Lang) -> &'static [(&'static str, &'static str)] {
    use std::sync::LazyLock;
    fn sorted(lang: Lang) -> Vec<(&'static str, &'static str)> {
        use pinyin::ToPinyin;
        let mut all: Vec<(String, &'static str, &'static str)> = Nationality::all()
            .map(|n| {
                let name = shown_name(n, lang);
                let key = match lang {
                    Lang::En => name.to_lowercase(),
                    Lang::Zh => name
                        .chars()
                        .map(|c| match c.to_pinyin() {
                            Some(p) => format!("{} ", p.plain()),
                            None => c.to_lowercase().to_string(),
                        })
                        .collect(),
                };
                (key, n.code(), name)
            })
            .collect();
        all.sort();
        all.into_iter()
            .map(|(_, code, name)| (code, name))
            .collect()
    }
    static EN: LazyLock<Vec<(&str, &str)>> = LazyLock::new(|| sorted(Lang::En));
    static ZH: LazyLock<Vec<(&str, &str)>> = LazyLock::new(|| sorted(Lang::Zh));
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

impl IdentityValues {
    fn to_form(&self) -> ApplicationForm {
        let card_holder = self.stay_kind == "permanent_residence_card";
        let passport = (!card_holder
            && (some(&self.passport_number).is_some() || some(&self.passport_expiry).is_some()))
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
            nationality: nationality_code(&self.nationality),
            date_of_birth: some(&self.date_of_birth),
            phone: some(&self.phone),
            documents: Some(DocumentsForm {
                passport,
                stay_permit,
            }),
            sex: some(&self.sex),
            occupation: (some(&self.occupation).is_some()
                || some(&self.occupation_title).is_some())
            .then(|| OccupationForm {
                category: some(&self.occupation),
                title: some(&self.occupation_title),
            }),
            address: some(&self.address),
            pep: match self.pep.as_str() {
                "yes" => Some(PepForm {
                    declared: Some(true),
                    role: some(&self.pep_role),
                }),
                "no" => Some(PepForm {
                    declared: Some(false),
                    role: None,
                }),
                _ => None,
            },
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
            sex: text(&form.sex),
            occupation: form
                .occupation
                .as_ref()
                .map(|o| text(&o.category))
                .unwrap_or_default(),
            occupation_title: form
                .occupation
                .as_ref()
                .map(|o| text(&o.title))
                .unwrap_or_default(),
            address: text(&form.address),
            pep: match form.pep.as_ref().and_then(|p| p.declared) {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            pep_role: form.pep.as_ref().map(|p| text(&p.role)).unwrap_or_default(),
            based_on: String::new(),
        }
    }

    /// The nationality as the field shows it: the name in the reader's language.
    fn nationality_shown(&self, lang: Lang) -> String {
        match Nationality::lookup(&self.nationality) {
            Some(n) if self.nationality.trim().len() == 3 => shown_name(n, lang).to_owned(),
            _ => self.nationality.clone(),
        }
    }
}

/// Breaches and warnings of an identity form, said next to their inputs; warnings come from
/// the core's own check, so an identity with errors still shows its advice.
fn identity_messages(
    state: &AppState,
    form: &ApplicationForm,
    error: Option<&AppError>,
) -> (Vec<Said>, Vec<Said>) {
    let errors = error.map(|e| said_all(e, form_field)).unwrap_or_default();
    let warnings = match check_identity(form, state.today()) {
        Ok(checked) => checked.warnings,
        Err(report) => report.warnings,
    };
    let warnings = warnings
        .iter()
        .map(|w| said(&form_field(&w.field, w.code), w))
        .collect();
    (errors, warnings)
}

#[derive(Template)]
#[template(path = "identity.html")]
struct IdentityPage {
    chrome: Chrome,
    progress: Progress,
    action: String,
    is_new: bool,
    v: IdentityValues,
    nationality_text: String,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
    nationalities: &'static [(&'static str, &'static str)],
    kinds: Vec<(&'static str, &'static str)>,
    sexes: Vec<(&'static str, &'static str)>,
    occupations: Vec<(&'static str, &'static str)>,
    /// "Apply again": what the new application starts from.
    retry_note: Option<String>,
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
    values: IdentityValues,
    errors: FormErrors,
    retry_note: Option<String>,
) -> IdentityPage {
    let mut chrome = ctx.form_chrome(&action);
    chrome.has_errors = errors.any();
    IdentityPage {
        progress: progress::progress(ctx.t, Step::Identity, None),
        summary: errors.summary("#real_name"),
        chrome,
        action,
        is_new,
        nationality_text: values.nationality_shown(ctx.lang),
        v: values,
        errors,
        nationalities: nationality_choices(ctx.lang),
        kinds: vec![
            ("entry_record", ctx.t.entry_record()),
            ("residence_permit", ctx.t.residence_permit()),
            ("permanent_residence_card", ctx.t.permanent_residence_card()),
        ],
        sexes: Sex::ALL
            .iter()
            .map(|s| (s.as_str(), sex_label(ctx.t, *s)))
            .collect(),
        occupations: OccupationCategory::ALL
            .iter()
            .map(|c| (c.as_str(), occupation_label(ctx.t, *c)))
            .collect(),
        retry_note,
    }
}

pub async fn new_identity(State(state): State<AppState>, ctx: PageContext) -> Response {
    let retry = match may_start(&state, &ctx).await {
        Ok(retry) => retry,
        Err(r) => return r,
    };
    let flash = ctx.take_flash("/verifications/new");
    let errors = ctx.form_errors(flash.as_ref());
    let mut note = None;
    let values = match flash.as_ref().and_then(restore::<IdentityValues>) {
        Some(v) => v,
        // An erased application has nothing left to carry over.
        None => match retry
            .as_ref()
            .and_then(|a| views::open(&state, a).ok().flatten())
        {
            // Apply again: everything as the failed application had it, but consent, which
            // each application asks for anew.
            Some(previous) => {
                let mut v = IdentityValues::from_form(&previous.form());
                v.consent = None;
                v
            }
            None => IdentityValues::default(),
        },
    };
    if let Some(previous) = &retry {
        let images = previous
            .failure
            .as_ref()
            .is_some_and(|f| !journey::needs_new_images(f));
        note = Some(if images {
            ctx.t.retry_note_with_images().to_owned()
        } else {
            ctx.t.retry_note_new_images().to_owned()
        });
    }
    let values = IdentityValues {
        based_on: retry.map(|a| a.id.to_string()).unwrap_or_default(),
        ..values
    };
    ctx.render(&identity_page(
        &ctx,
        "/verifications/new".into(),
        true,
        values,
        errors,
        note,
    ))
}

pub async fn create_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(values): Form<IdentityValues>,
) -> Response {
    let back = "/verifications/new";
    let Some(who) = ctx.principal.clone() else {
        return login_first(&state, &ctx, back, pairs_of(&values), true);
    };
    if !ctx.genuine(&headers, Some(&values.csrf)) {
        return ctx.forbidden_form();
    }
    let form = values.to_form();
    match journey::create(&state, &who, &form, peer.ip().to_string()).await {
        Ok(app) => {
            // Apply again: the failed application it starts from, if it is this user's.
            let source = match values.based_on.as_str() {
                "" => None,
                id => journey::owned(&state, &who, id)
                    .await
                    .ok()
                    .filter(|a| a.status == Status::Failed),
            };
            let mut app = app;
            if let Some(source) = &source
                && journey::carry_images(&state, source, &app).await.is_ok()
            {
                app = journey::reload(&state, app.id).await.unwrap_or(app);
            }
            after_identity(&state, &ctx, &app)
        }
        Err(error)
            if matches!(
                error.code,
                Code::ApplicationInProgress | Code::AlreadyVerified | Code::ApplicationBlocked
            ) =>
        {
            match may_start(&state, &ctx).await {
                Err(r) => r,
                Ok(_) => ctx.see_other(back),
            }
        }
        Err(error) => {
            let (errors, warnings) = identity_messages(&state, &form, Some(&error));
            let flash = Flash::to(back)
                .with_values(pairs_of(&values))
                .with_errors(errors)
                .with_warnings(warnings);
            ctx.see_other_with(&state, back, flash)
        }
    }
}

/// After the identity is saved: on to the first step not done, with its warnings said there.
fn after_identity(state: &AppState, ctx: &PageContext, app: &ApplicationRecord) -> Response {
    let to = continue_path(state, app);
    let warnings: Vec<Said> = views::warnings(&app.warnings)
        .iter()
        .map(|w| Said {
            field: String::new(),
            en: w.message.clone(),
            zh: w.message_zh.clone(),
        })
        .collect();
    if warnings.is_empty() {
        return ctx.see_other(&to);
    }
    let flash = Flash::to(&to)
        .with_notice(Notice::SavedWithWarning)
        .with_warnings(warnings);
    ctx.see_other_with(state, &to, flash)
}

pub async fn edit_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let action = format!("/verifications/{id}/identity");
    let (_, opened) = match draft_step(&state, &ctx, &id, &action).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let flash = ctx.take_flash(&action);
    let mut errors = ctx.form_errors(flash.as_ref());
    let values = match flash.as_ref().and_then(restore::<IdentityValues>) {
        Some(v) => v,
        None => {
            let form = opened.form();
            errors = FormErrors::new(
                ctx.lang,
                Vec::new(),
                identity_messages(&state, &form, None).1,
            );
            IdentityValues::from_form(&form)
        }
    };
    ctx.render(&identity_page(&ctx, action, false, values, errors, None))
}

pub async fn update_identity(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(values): Form<IdentityValues>,
) -> Response {
    let back = format!("/verifications/{id}/identity");
    let app = match own_for_post(
        &state,
        &ctx,
        &headers,
        &id,
        &values.csrf,
        &back,
        pairs_of(&values),
    )
    .await
    {
        Ok(app) => app,
        Err(r) => return r,
    };
    if let Some(r) = draft_only(&state, &ctx, &app, true) {
        return r;
    }
    let mut form = values.to_form();
    form.consent = Some(true);
    match journey::update(&state, &app, &form).await {
        Ok(app) => after_identity(&state, &ctx, &app),
        Err(error) => {
            let (errors, warnings) = identity_messages(&state, &form, Some(&error));
            let flash = Flash::to(&back)
                .with_values(pairs_of(&values))
                .with_errors(errors)
                .with_warnings(warnings);
            ctx.see_other_with(&state, &back, flash)
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
    progress: Progress,
    id: String,
    slots: Vec<SlotView>,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
}

fn slot_label(ctx: &PageContext, slot: ImageSlot, kind: StayPermitKind) -> &'static str {
    match (slot, kind) {
        (ImageSlot::PassportPhotoPage, _) => ctx.t.passport_photo_page(),
        (ImageSlot::StayPermit, StayPermitKind::EntryRecord) => ctx.t.entry_stamp_image(),
        (ImageSlot::StayPermit, StayPermitKind::ResidencePermit) => ctx.t.residence_permit_image(),
        (ImageSlot::StayPermit, StayPermitKind::PermanentResidenceCard) => {
            ctx.t.residence_card_image()
        }
    }
}

pub async fn documents(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/verifications/{id}/documents");
    let (app, opened) = match draft_step(&state, &ctx, &id, &path).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let kind = kind_of(&opened);
    let flash = ctx.take_flash(&path);
    let errors = ctx.form_errors(flash.as_ref());
    let slots = progress::required_slots(Some(kind))
        .iter()
        .map(|&slot| SlotView {
            name: slot.as_str(),
            label: slot_label(&ctx, slot, kind),
            uploaded: app.images.iter().any(|i| i.slot == slot.as_str()),
        })
        .collect::<Vec<_>>();
    let first = slots
        .first()
        .map(|s| format!("#{}", s.name))
        .unwrap_or_default();
    let mut chrome = ctx
        .chrome(&path)
        .with_flash_notice(ctx.lang, flash.as_ref());
    chrome.has_errors = errors.any();
    ctx.render(&DocumentsPage {
        chrome,
        progress: progress::progress(ctx.t, Step::Documents, None),
        id,
        summary: errors.summary(&first),
        slots,
        errors,
    })
}

pub async fn upload_documents(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> Response {
    let back = format!("/verifications/{id}/documents");
    if ctx.principal.is_none() {
        return login_first(&state, &ctx, &back, Vec::new(), true);
    }
    let app = match own(&state, &ctx, &id, &back).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    let mut csrf = None;
    let mut files: Vec<(ImageSlot, Vec<u8>)> = Vec::new();
    let mut errors: Vec<Said> = Vec::new();
    while let Ok(Some(field)) = multipart.next_field().await {
        let name = field.name().unwrap_or("").to_owned();
        let Ok(bytes) = field.bytes().await else {
            errors.push(said_code(&name, Code::DocumentImageTooLarge));
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
    if let Some(r) = draft_only(&state, &ctx, &app, true) {
        return r;
    }
    let kind = match opened(&state, &ctx, &app) {
        Ok(o) => kind_of(&o),
        Err(r) => return *r,
    };
    let wanted = progress::required_slots(Some(kind));
    for (slot, bytes) in files.iter().filter(|(slot, _)| wanted.contains(slot)) {
        if let Err(e) = journey::store_image(&state, &app, *slot, bytes).await {
            errors.push(said_code(slot.as_str(), e.code));
        }
    }
    let app = journey::reload(&state, app.id).await.unwrap_or(app);
    for slot in missing_images(&app, kind) {
        if !errors.iter().any(|e| e.field == slot.as_str()) {
            errors.push(said_code(slot.as_str(), Code::DocumentImageRequired));
        }
    }
    if !errors.is_empty() {
        return ctx.see_other_with(&state, &back, Flash::to(&back).with_errors(errors));
    }
    ctx.see_other(&continue_path(&state, &app))
}

#[derive(Deserialize, Serialize, Default)]
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
    progress: Progress,
    id: String,
    v: CardValues,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
    banks: Vec<(String, String)>,
    card_types: Vec<(&'static str, &'static str)>,
    account_types: Vec<(&'static str, &'static str)>,
}

impl BankCardPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }
}

fn bank_name(state: &AppState, lang: Lang, code: &str) -> String {
    state
        .policy
        .bank(code)
        .map(|b| match lang {
            Lang::Zh => b.name_zh.clone(),
            Lang::En => b.name.clone(),
        })
        .unwrap_or_else(|| code.to_owned())
}

/// The card a retry starts from: the failed application's, unless the bank returned it.
async fn previous_card(state: &AppState, app: &ApplicationRecord) -> Option<BankCardForm> {
    let history = state.store.applications_of(app.account_id).await.ok()?;
    let previous = journey::retry_source(&history)?;
    if previous
        .failure
        .as_ref()
        .is_some_and(journey::needs_new_card)
    {
        return None;
    }
    views::open(state, previous).ok()??.card_form()
}

pub async fn bank_card(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/verifications/{id}/bank_card");
    let (app, opened) = match draft_step(&state, &ctx, &id, &path).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Some(r) = documents_first(&state, &ctx, &app, &opened) {
        return r;
    }
    let flash = ctx.take_flash(&path);
    let errors = ctx.form_errors(flash.as_ref());
    let v = match flash.as_ref().and_then(restore::<CardValues>) {
        Some(v) => v,
        None => {
            let card = match opened.card_form() {
                Some(card) => Some(card),
                None => previous_card(&state, &app).await,
            };
            let card = card.unwrap_or_default();
            CardValues {
                csrf: String::new(),
                bank: card.bank.unwrap_or_default(),
                card_number: card.card_number.unwrap_or_default(),
                card_type: card.card_type.unwrap_or_else(|| "savings".into()),
                account_type: card.account_type.unwrap_or_else(|| "current".into()),
                account_name: card
                    .account_name
                    .unwrap_or_else(|| opened.identity.real_name.as_str().to_owned()),
            }
        }
    };
    let banks = state
        .policy
        .supported_banks()
        .map(|b| (b.code.clone(), bank_name(&state, ctx.lang, &b.code)))
        .collect();
    let mut chrome = ctx
        .form_chrome(&path)
        .with_flash_notice(ctx.lang, flash.as_ref());
    chrome.has_errors = errors.any();
    ctx.render(&BankCardPage {
        chrome,
        progress: progress::progress(ctx.t, Step::Card, None),
        id,
        v,
        summary: errors.summary("#bank"),
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
    })
}

pub async fn bind_card(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(v): Form<CardValues>,
) -> Response {
    let back = format!("/verifications/{id}/bank_card");
    let app = match own_for_post(&state, &ctx, &headers, &id, &v.csrf, &back, pairs_of(&v)).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    if let Some(r) = draft_only(&state, &ctx, &app, true) {
        return r;
    }
    let card = BankCardForm {
        bank: some(&v.bank),
        card_number: some(&v.card_number),
        card_type: some(&v.card_type),
        account_type: some(&v.account_type),
        account_name: some(&v.account_name),
    };
    match journey::bind_card(&state, &app, &card).await {
        Ok(app) => ctx.see_other(&continue_path(&state, &app)),
        Err(error) => {
            let flash = Flash::to(&back)
                .with_values(pairs_of(&v))
                .with_errors(said_all(&error, form_field));
            ctx.see_other_with(&state, &back, flash)
        }
    }
}

/// What an application holds, masked, with labels instead of codes: the confirmation page and
/// a submitted application's read-only view.
/// What an erased application's page says in place of its personal data.
pub fn erased_rows(
    ctx: &PageContext,
    at: Option<chrono::DateTime<chrono::Utc>>,
) -> Vec<(&'static str, String)> {
    let when = at.map(|at| china_time(ctx.lang, at)).unwrap_or_default();
    vec![(ctx.t.personal_data(), ctx.t.erased_on(&when))]
}

fn summary_rows(
    state: &AppState,
    ctx: &PageContext,
    opened: &Opened,
) -> Vec<(&'static str, String)> {
    let t = ctx.t;
    let identity = &opened.identity;
    let form = opened.form();
    let docs = form.documents.clone().unwrap_or_default();
    let masked = |v: &Option<String>| v.as_deref().map(views::masked_number).unwrap_or_default();
    let mut rows = vec![
        (t.real_name(), identity.real_name.as_str().to_owned()),
        (
            t.nationality(),
            shown_name(identity.nationality, ctx.lang).to_owned(),
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
    rows.extend(diligence_rows(t, &identity.diligence, false));
    if let Some(p) = &docs.passport {
        rows.push((t.passport_number(), masked(&p.number)));
    }
    if let Some(s) = &docs.stay_permit {
        rows.push((
            t.proof_of_stay(),
            stay_kind_label(t, s.kind.as_deref()).to_owned(),
        ));
        if s.number.is_some() {
            rows.push((t.permit_number(), masked(&s.number)));
        }
    }
    if let Some(card) = &opened.card {
        rows.push((t.bank(), bank_name(state, ctx.lang, &card.bank)));
        rows.push((t.card_number(), card.card_number.masked()));
    }
    rows
}

/// The due diligence fields as rows of a summary; the address masked unless `reveal`.
pub fn diligence_rows(
    t: super::Text,
    diligence: &realname_core::diligence::Diligence,
    reveal: bool,
) -> Vec<(&'static str, String)> {
    let mut rows = Vec::new();
    if let Some(sex) = diligence.sex {
        rows.push((t.sex(), sex_label(t, sex).to_owned()));
    }
    if let Some(o) = &diligence.occupation {
        let label = occupation_label(t, o.category);
        rows.push((
            t.occupation(),
            match &o.title {
                Some(title) => format!("{label}: {title}"),
                None => label.to_owned(),
            },
        ));
    }
    if let Some(a) = &diligence.address {
        rows.push((
            t.address(),
            if reveal {
                a.as_str().to_owned()
            } else {
                a.masked()
            },
        ));
    }
    if let Some(p) = &diligence.pep {
        rows.push((
            t.pep(),
            match &p.role {
                // A role is kept only with a declaration.
                Some(role) => format!("{}: {role}", t.pep_yes()),
                None if p.declared => t.pep_yes().to_owned(),
                None => t.pep_no().to_owned(),
            },
        ));
    }
    rows
}

pub fn sex_label(t: super::Text, sex: Sex) -> &'static str {
    match sex {
        Sex::Female => t.sex_female(),
        Sex::Male => t.sex_male(),
        Sex::Unspecified => t.sex_unspecified(),
    }
}

pub fn occupation_label(t: super::Text, category: OccupationCategory) -> &'static str {
    match category {
        OccupationCategory::CivilServant => t.occupation_civil_servant(),
        OccupationCategory::Professional => t.occupation_professional(),
        OccupationCategory::OfficeWorker => t.occupation_office_worker(),
        OccupationCategory::BusinessOwner => t.occupation_business_owner(),
        OccupationCategory::ServiceWorker => t.occupation_service_worker(),
        OccupationCategory::Farmer => t.occupation_farmer(),
        OccupationCategory::ProductionWorker => t.occupation_production_worker(),
        OccupationCategory::Military => t.occupation_military(),
        OccupationCategory::Student => t.occupation_student(),
        OccupationCategory::Retired => t.occupation_retired(),
        OccupationCategory::Unemployed => t.occupation_unemployed(),
        OccupationCategory::Other => t.occupation_other(),
    }
}

pub fn stay_kind_label(t: super::Text, kind: Option<&str>) -> &'static str {
    match kind {
        Some("entry_record") => t.entry_record(),
        Some("residence_permit") => t.residence_permit(),
        _ => t.permanent_residence_card(),
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    progress: Progress,
    id: String,
    rows: Vec<(&'static str, String)>,
    warnings: Vec<String>,
    summary: Vec<SummaryLine>,
}

pub async fn confirm(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/verifications/{id}/confirm");
    let (app, opened) = match draft_step(&state, &ctx, &id, &path).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    if let Some(r) = documents_first(&state, &ctx, &app, &opened) {
        return r;
    }
    if opened.card.is_none() {
        let to = format!("/verifications/{id}/bank_card");
        return ctx.see_other_with(&state, &to, Flash::to(&to).with_notice(Notice::CardFirst));
    }
    let flash = ctx.take_flash(&path);
    // A breach found at submission links to the step and input where it is fixed (the
    // submit named the link as the breach's place).
    let summary: Vec<SummaryLine> = flash
        .iter()
        .flat_map(|f| &f.errors)
        .map(|e| SummaryLine {
            href: if e.field.is_empty() {
                fix_link(&id, "", Code::ValidationFailed)
            } else {
                e.field.clone()
            },
            text: e.in_lang(ctx.lang).to_owned(),
        })
        .collect();
    let warnings = views::warnings(&app.warnings)
        .iter()
        .map(|w| match ctx.lang {
            Lang::En => w.message.clone(),
            Lang::Zh => w.message_zh.clone(),
        })
        .collect();
    let mut chrome = ctx.chrome(&path);
    chrome.has_errors = !summary.is_empty();
    ctx.render(&ConfirmPage {
        chrome,
        progress: progress::progress(ctx.t, Step::Card, None),
        rows: summary_rows(&state, &ctx, &opened),
        id,
        warnings,
        summary,
    })
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let back = format!("/verifications/{id}/confirm");
    let app = match own_for_post(&state, &ctx, &headers, &id, &f.csrf, &back, Vec::new()).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    // Submit pressed again, or in another tab: the application is on its way already.
    if let Some(r) = draft_only(&state, &ctx, &app, true) {
        return r;
    }
    match journey::submit(&state, &app).await {
        Ok(app) => ctx.see_other(&status_path(&app)),
        Err(error) => {
            // Said on the confirmation page, each linking to where it is fixed.
            let errors = said_all(&error, |field, code| fix_link(&id, field, code));
            ctx.see_other_with(&state, &back, Flash::to(&back).with_errors(errors))
        }
    }
}

#[derive(Template)]
#[template(path = "cancel.html")]
struct CancelPage {
    chrome: Chrome,
    id: String,
    keep: String,
}

/// Cancelling asks first: it cannot be undone.
pub async fn cancel_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/verifications/{id}/cancel");
    let app = match own(&state, &ctx, &id, &path).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    if let Some(r) = draft_only(&state, &ctx, &app, false) {
        return r;
    }
    ctx.render(&CancelPage {
        chrome: ctx.chrome(&path),
        keep: continue_path(&state, &app),
        id,
    })
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    let back = format!("/verifications/{id}/cancel");
    let app = match own_for_post(&state, &ctx, &headers, &id, &f.csrf, &back, Vec::new()).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    if let Some(r) = draft_only(&state, &ctx, &app, true) {
        return r;
    }
    match journey::cancel(&state, &app).await {
        Ok(_) => ctx.see_other_with(
            &state,
            "/account",
            Flash::to("/account").with_notice(Notice::Cancelled),
        ),
        Err(e) => ctx.error_page(&e),
    }
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    chrome: Chrome,
    progress: Option<Progress>,
    id: String,
    status: &'static str,
    heading: &'static str,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
    amount: String,
    attempts_left: u32,
    deadline: String,
    arrived: String,
    card: String,
    failure: String,
    can_retry: bool,
    new_images: bool,
    sandbox: bool,
    review_due: String,
    rows: Vec<(&'static str, String)>,
    /// "Back to the platform", once the user has submitted or reached an outcome.
    back: Option<String>,
}

/// The way back to the platform a link came from: its `return_url`, told which session, once
/// the application is submitted or has an outcome (CONTRACT 9).
pub async fn back_to_platform(
    state: &AppState,
    ctx: &PageContext,
    app: &ApplicationRecord,
) -> Option<String> {
    if app.status == Status::Draft {
        return None;
    }
    let session = super::start::linked_session(state, ctx).await?;
    (session.account_id == app.account_id)
        .then(|| super::start::return_link(&session))
        .flatten()
}

pub async fn status(
    State(state): State<AppState>,
    ctx: PageContext,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/verifications/{id}");
    let app = match own(&state, &ctx, &id, &path).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    if app.status == Status::Draft {
        return ctx.see_other(&continue_path(&state, &app));
    }
    // Erased once its retention ran out: the status and its history stay, the rest is null.
    let opened = match views::open(&state, &app) {
        Ok(o) => o,
        Err(e) => return ctx.error_page(&e),
    };
    let flash = ctx.take_flash(&path);
    let errors = ctx.form_errors(flash.as_ref());
    let amount = Flash::typed(flash.as_ref(), "amount");
    let back = back_to_platform(&state, &ctx, &app).await;
    let t = ctx.t;
    let heading = match app.status {
        Status::Draft => t.continue_application(),
        Status::DepositPending => t.deposit_on_its_way(),
        Status::AwaitingAmount => t.enter_amount(),
        Status::UnderReview => t.under_review(),
        Status::Verified => t.verified_title(),
        Status::Failed => t.failed_title(),
        Status::Cancelled => t.cancelled_title(),
        Status::Suspended => t.suspended_title(),
    };
    let card = opened
        .as_ref()
        .and_then(|o| o.card.as_ref())
        .map(|c| {
            t.card_ending(
                &bank_name(&state, ctx.lang, &c.bank),
                &c.card_number.masked().replace("**** ", ""),
            )
        })
        .unwrap_or_default();
    // Only the amount step has a form for the language switch to carry.
    let chrome = if app.status == Status::AwaitingAmount {
        ctx.form_chrome(&path)
    } else {
        ctx.chrome(&path)
    };
    let mut chrome = chrome.with_flash_notice(ctx.lang, flash.as_ref());
    chrome.has_errors = errors.any();
    if matches!(app.status, Status::DepositPending | Status::UnderReview) {
        chrome.script = Some(super::static_files::refresh_script_path());
        chrome.wait = Some(app.status.as_str());
    }
    let lang = ctx.lang;
    let page = StatusPage {
        chrome,
        progress: progress::of_application(t, &app),
        id,
        status: app.status.as_str(),
        heading,
        summary: errors.summary("#amount"),
        errors,
        amount,
        attempts_left: app.deposit.as_ref().map_or(0, |d| {
            state.config.deposit.attempts_remaining(d.attempts_used)
        }),
        deadline: app
            .deposit
            .as_ref()
            .and_then(|d| d.expires_at)
            .map(|at| china_time(lang, at))
            .unwrap_or_default(),
        arrived: app
            .events
            .iter()
            .find(|e| e.status == Status::AwaitingAmount)
            .map(|e| china_time(lang, e.at))
            .unwrap_or_default(),
        card,
        // A suspended account reads the same neutral words as a confirmed match's failure.
        failure: match (&app.failure, app.status) {
            (Some(f), _) => lang.failure(f),
            (None, Status::Suspended) => {
                lang.failure(&realname_core::state::Failure::not_eligible())
            }
            (None, _) => String::new(),
        },
        can_retry: app.failure.as_ref().is_some_and(|f| f.can_retry),
        new_images: app.failure.as_ref().is_some_and(journey::needs_new_images),
        sandbox: state.config.rail == Rail::Sandbox,
        review_due: app
            .events
            .iter()
            .rev()
            .find(|e| e.status == Status::UnderReview)
            .map(|e| china_time(lang, e.at + state.config.review_sla))
            .unwrap_or_default(),
        rows: match (&opened, app.redacted_at) {
            (Some(opened), _) => summary_rows(&state, &ctx, opened),
            (None, at) => erased_rows(&ctx, at),
        },
        back,
    };
    ctx.render(&page)
}

#[derive(Deserialize, Serialize, Default)]
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
    let back = format!("/verifications/{id}");
    let app = match own_for_post(&state, &ctx, &headers, &id, &v.csrf, &back, pairs_of(&v)).await {
        Ok(app) => app,
        Err(r) => return r,
    };
    if app.status != Status::AwaitingAmount {
        return ctx.see_other(&back);
    }
    match journey::confirm_amount(&state, &app, &v.amount).await {
        Ok(_) => ctx.see_other(&back),
        Err(error) => {
            let errors = match error.details.first() {
                Some(b) => vec![said("amount", b)],
                None => vec![said_code("amount", error.code)],
            };
            let flash = Flash::to(&back)
                .with_values(pairs_of(&v))
                .with_errors(errors);
            ctx.see_other_with(&state, &back, flash)
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
                            .map(|r| {
                                (
                                    china_time(ctx.lang, r.at),
                                    r.memo,
                                    Fen::new(r.amount_fen).to_string(),
                                )
                            })
                            .collect();
                    }
                    Err(e) => return ctx.error_page(&AppError::from(e)),
                }
            }
        }
    }
    if page.error.is_some() {
        page.chrome.has_errors = true;
    }
    ctx.render(&page)
}
