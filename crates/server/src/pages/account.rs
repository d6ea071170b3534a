//! Register, log in and out, account settings, the choice of nationality, and the language
//! switch that keeps what a form holds.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use realname_core::Code;
use realname_core::state::{RealNameStatus, Status, real_name_status};
use serde::{Deserialize, Serialize};

use super::flash::{Flash, Notice, local_path, pairs_of};
use super::forms::{FormErrors, SummaryLine, said_all, said_code};
use super::journey::{back_to_platform, continue_path, may_start};
use super::{
    Chrome, CsrfOnly, DEVICE_COOKIE, DEVICE_MAX_AGE, LANG_COOKIE, Lang, PageContext, cookie,
    encode_component, random_token, set_cookie,
};
use realname_app::AppError;
use realname_app::accounts::{SignInFrom, create_user, open_session};
use realname_app::auth::token_hash;

use crate::client::ClientAddress;
use crate::state::AppState;

#[derive(Deserialize, Serialize, Default)]
#[serde(default)]
pub struct CredentialsForm {
    csrf: Option<String>,
    login: Option<String>,
    #[serde(skip_serializing)]
    password: Option<String>,
    /// Staff's second factor, on the login form only.
    #[serde(skip_serializing)]
    totp: Option<String>,
    /// Where to go once signed in: the step the user was at.
    next: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    /// The session ended mid-journey.
    ended: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    login: String,
    next: String,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
    /// The session ended: log in again to come back where you were.
    ended: bool,
    /// A platform's link signed this browser in: its way back, for a new link.
    platform_back: Option<String>,
    /// Whether the staff code is shown open (a staff sign-in that needed it).
    staff_open: bool,
    register_href: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    login: String,
    next: String,
    errors: FormErrors,
    summary: Vec<SummaryLine>,
}

fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path)
        .filter(|p| !p.starts_with("/login") && !p.starts_with("/register"))
        .unwrap_or("")
        .to_owned()
}

fn with_next(path: &str, next: &str) -> String {
    if next.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?next={}", encode_component(next))
    }
}

/// The platform a link came from, for an account that has no password to log in with.
async fn platform_return(state: &AppState, ctx: &PageContext) -> Option<String> {
    super::start::return_link(&super::start::linked_session(state, ctx).await?)
}

pub async fn login_page(
    State(state): State<AppState>,
    ctx: PageContext,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if ctx.account.is_some() {
        return ctx.see_other(if next.is_empty() { "/account" } else { &next });
    }
    let flash = ctx.take_flash("/login");
    let errors = ctx.form_errors(flash.as_ref());
    let login = Flash::typed(flash.as_ref(), "login");
    let ended = q.ended.is_some();
    // The language switch brings the form back here with where to go after it.
    let mut chrome = ctx
        .form_chrome(&with_next("/login", &next))
        .with_flash_notice(ctx.lang, flash.as_ref());
    chrome.has_errors = errors.any();
    let staff_open = errors.has("totp");
    ctx.render(&LoginPage {
        chrome,
        login,
        summary: errors.summary("#login"),
        errors,
        ended,
        platform_back: platform_return(&state, &ctx).await,
        staff_open,
        register_href: with_next("/register", &next),
        next,
    })
}

fn signed_in(
    ctx: &PageContext,
    state: &AppState,
    session: &realname_app::accounts::Session,
    device: &str,
    to: &str,
) -> Response {
    let mut response = ctx.see_other(to);
    let max_age = state.config.session_ttl.num_seconds();
    let headers = response.headers_mut();
    for cookie in ctx.login_session(&session.token, max_age, session.expires_at) {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.append(
        header::SET_COOKIE,
        set_cookie(DEVICE_COOKIE, device, Some(DEVICE_MAX_AGE), "Strict"),
    );
    response
}

/// The browser's own token, or a new one for its first sign-in.
fn device_of(headers: &HeaderMap) -> String {
    cookie(headers, DEVICE_COOKIE)
        .filter(|d| d.len() >= 32 && d.len() <= 64)
        .unwrap_or_else(random_token)
}

pub async fn login_submit(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let back = with_next("/login", &next);
    if !ctx.genuine(&headers, form.csrf.as_deref()) {
        return expired_form(&ctx);
    }
    let login = form.login.clone().unwrap_or_default();
    let password = form.password.clone().unwrap_or_default();
    let code = form.totp.clone().filter(|c| !c.trim().is_empty());
    let device = device_of(&headers);
    let from = SignInFrom {
        address: &from,
        browser: Some(&device),
    };
    match open_session(&state, &login, password, code.as_deref(), from).await {
        Ok(session) => {
            let home = if !next.is_empty() {
                next.as_str()
            } else if session.account.role.is_staff() {
                "/review"
            } else {
                "/account"
            };
            signed_in(&ctx, &state, &session, &device, home)
        }
        Err(error) => {
            // A wrong code and a wrong password read the same; both are said at the password.
            let errors = said_all(&error, |f, _| {
                if f.is_empty() {
                    "password".into()
                } else {
                    f.into()
                }
            })
            .into_iter()
            .map(|mut s| {
                if s.field.is_empty() {
                    s.field = "password".into();
                }
                s
            })
            .collect();
            let flash = Flash::to("/login")
                .with_values(pairs_of(&form))
                .with_errors(errors);
            ctx.see_other_with(&state, &back, flash)
        }
    }
}

/// A form whose CSRF token is not the browser's (it expired, or another site sent it):
/// refused, saying so, and nothing done.
fn expired_form(ctx: &PageContext) -> Response {
    ctx.forbidden_form()
}

pub async fn register_page(ctx: PageContext, Query(q): Query<LoginQuery>) -> Response {
    let next = safe_next(q.next.as_deref());
    let flash = ctx.take_flash("/register");
    let errors = ctx.form_errors(flash.as_ref());
    let mut chrome = ctx.form_chrome("/register");
    chrome.has_errors = errors.any();
    ctx.render(&RegisterPage {
        chrome,
        login: Flash::typed(flash.as_ref(), "login"),
        next,
        summary: errors.summary("#login"),
        errors,
    })
}

pub async fn register_submit(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let back = with_next("/register", &next);
    if !ctx.genuine(&headers, form.csrf.as_deref()) {
        return expired_form(&ctx);
    }
    let login = form.login.clone().unwrap_or_default();
    let password = form.password.clone().unwrap_or_default();
    let created = create_user(&state, &login, password.clone(), &from).await;
    let device = device_of(&headers);
    let opened = match created {
        Ok(_) => {
            let from = SignInFrom {
                address: &from,
                browser: Some(&device),
            };
            open_session(&state, &login, password, None, from).await
        }
        Err(e) => Err(e),
    };
    match opened {
        Ok(session) => {
            let to = if next.is_empty() { "/account" } else { &next };
            signed_in(&ctx, &state, &session, &device, to)
        }
        Err(error) => {
            let errors = if error.details.is_empty() {
                let field = if error.code == Code::LoginTaken {
                    "login"
                } else {
                    "password"
                };
                vec![said_code(field, error.code)]
            } else {
                said_all(&error, |f, _| f.to_owned())
            };
            let flash = Flash::to("/register")
                .with_values(pairs_of(&form))
                .with_errors(errors);
            ctx.see_other_with(&state, &back, flash)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !ctx.genuine(&headers, Some(&form.csrf)) {
        return expired_form(&ctx);
    }
    if let Some(token) = &ctx.session_token {
        let _ = state.store.delete_session(&token_hash(token)).await;
    }
    let mut response = ctx.see_other_with(
        &state,
        "/login",
        Flash::to("/login").with_notice(Notice::LoggedOut),
    );
    for cookie in ctx.clear_session() {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The language switch of a page with a form: what the form held goes back to the page, in
/// the other language.
pub async fn switch_language(
    State(state): State<AppState>,
    ctx: PageContext,
    headers: HeaderMap,
    Query(q): Query<SwitchQuery>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let back = local_path(&q.back).unwrap_or("/").to_owned();
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    let (path, query) = back.split_once('?').unwrap_or((&back, ""));
    let lang = if q.to == "en" { Lang::En } else { Lang::Zh };
    let to = if query.is_empty() {
        format!("{path}?lang={}", lang.short())
    } else {
        format!("{path}?{query}&lang={}", lang.short())
    };
    if !ctx.genuine(&headers, csrf) {
        return ctx.see_other(&to);
    }
    let values: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(k, _)| k != "csrf" && k != "password" && k != "totp")
        .collect();
    let mut response = ctx.see_other_with(&state, &to, Flash::to(path).with_values(values));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), Some(365 * 86_400), "Lax"),
    );
    response
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SwitchQuery {
    to: String,
    back: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    login: String,
    status: &'static str,
    status_text: &'static str,
    real_name: Option<String>,
    can_apply: bool,
    /// The open application: where it goes on, and what it waits for.
    open: Option<(String, &'static str)>,
    /// The latest failure: why, whether the user may try again, and the application's page.
    failure: Option<(String, bool, String)>,
    back: Option<String>,
    /// What is held about the user, until when, why, and the consent it rests on.
    held: Option<Held>,
}

pub struct Held {
    what: &'static str,
    until: String,
    why: &'static str,
    consent: String,
}

/// What the account holds of the latest application, as its owner reads it (CONTRACT 11).
fn held(
    ctx: &PageContext,
    state: &AppState,
    app: &realname_core::store::ApplicationRecord,
) -> Held {
    use realname_core::retention::{Retention, retention};
    let t = ctx.t;
    // The account is open: whoever reads this page is signed in to it.
    let facts = realname_app::erasure::facts_of(app, None);
    let rules = &state.app.settings.retention;
    let when = |at| super::china_time(ctx.lang, at);
    let until = match retention(&facts, rules) {
        _ if app.redacted_at.is_some() => {
            t.erased_on(&app.redacted_at.map(when).unwrap_or_default())
        }
        Retention::InUse => t.held_in_use().to_owned(),
        Retention::CancelDraftAt(at) => t.held_draft(&when(at)),
        Retention::EraseAt(at) => t.held_until(&when(at)),
        Retention::WhileAccountOpen => t.held_while_open(rules.verified_after.num_days()),
    };
    let why = match app.status {
        Status::Verified => t.why_verified(),
        Status::Failed if realname_core::retention::is_fraud_finding(app.failure.as_ref()) => {
            t.why_fraud()
        }
        Status::Failed | Status::Cancelled => t.why_failed(),
        _ => t.why_in_use(),
    };
    let erased = app.redacted_at.is_some();
    Held {
        what: if erased {
            t.held_what_erased()
        } else {
            t.held_what_text()
        },
        until,
        why: if erased { t.why_erased() } else { why },
        consent: t.consent_given(
            &app.consent.version,
            &when(app.consent.at),
            &app.consent.address,
        ),
    }
}

pub async fn settings(State(state): State<AppState>, ctx: PageContext) -> Response {
    let Some(account) = ctx.account.clone() else {
        return super::journey::login_first(&state, &ctx, "/account", Vec::new(), false);
    };
    let apps = match state.store.applications_of(account.id).await {
        Ok(apps) => apps,
        Err(e) => return ctx.error_page(&AppError::from(e)),
    };
    let flash = ctx.take_flash("/account");
    let statuses: Vec<Status> = apps.iter().map(|a| a.status).collect();
    let status = real_name_status(&statuses);
    let t = ctx.t;
    let (code, text) = match status {
        RealNameStatus::Unverified => ("unverified", t.status_unverified()),
        RealNameStatus::Pending => ("pending", t.status_pending()),
        RealNameStatus::Verified => ("verified", t.status_verified()),
        RealNameStatus::Expired => ("expired", t.status_expired()),
        RealNameStatus::Suspended => ("suspended", t.status_suspended()),
        RealNameStatus::Closed => ("closed", t.status_closed()),
    };
    let real_name = realname_app::journey::verified_name(&state, &apps)
        .ok()
        .flatten();
    let open = apps.iter().find(|a| a.status.is_open()).map(|a| {
        let what = match a.status {
            Status::Draft => t.open_draft(),
            Status::DepositPending => t.deposit_on_its_way(),
            Status::AwaitingAmount => t.enter_amount(),
            _ => t.under_review(),
        };
        (continue_path(&state, a), what)
    });
    let latest = apps
        .iter()
        .filter(|a| a.status != Status::Cancelled)
        .max_by_key(|a| a.updated_at);
    let failure = latest.filter(|a| a.status == Status::Failed).and_then(|a| {
        let f = a.failure.as_ref()?;
        Some((
            ctx.lang.failure(f),
            f.can_retry,
            format!("/verifications/{}", a.id),
        ))
    });
    let back = match latest {
        Some(app) => back_to_platform(&state, &ctx, app).await,
        None => None,
    };
    let held_about = latest.map(|app| held(&ctx, &state, app));
    let can_apply =
        realname_core::state::may_apply(apps.iter().map(|a| (a.status, a.failure.as_ref())))
            .is_ok();
    let page = AccountPage {
        chrome: ctx
            .chrome("/account")
            .with_flash_notice(ctx.lang, flash.as_ref()),
        login: account.login.clone(),
        status: code,
        status_text: text,
        real_name,
        can_apply,
        open,
        failure,
        back,
        held: held_about,
    };
    ctx.render(&page)
}

#[derive(Template)]
#[template(path = "choose_nationality.html")]
struct ChooseNationalityPage {
    chrome: Chrome,
}

pub async fn choose_nationality(State(state): State<AppState>, ctx: PageContext) -> Response {
    if let Err(r) = may_start(&state, &ctx).await {
        return r;
    }
    ctx.render(&ChooseNationalityPage {
        chrome: ctx.chrome("/authenticate"),
    })
}
