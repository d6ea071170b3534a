//! Register, log in and out, account settings, and the choice of nationality.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use realname_core::Code;
use realname_core::state::{RealNameStatus, Status, may_apply, real_name_status};
use serde::Deserialize;

use super::{Chrome, CsrfOnly, PageContext};
use realname_app::AppError;
use realname_app::accounts::{create_user, open_session};
use realname_app::auth::token_hash;

use crate::client::ClientAddress;
use crate::error::HttpStatus;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    login: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    chrome: Chrome,
    login: String,
    errors: Vec<(String, String)>,
}

impl RegisterPage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    csrf: Option<String>,
    login: Option<String>,
    password: Option<String>,
    /// Staff's second factor, on the login form only.
    totp: Option<String>,
}

fn expired_form(ctx: &PageContext) -> Response {
    let page = LoginPage {
        chrome: ctx.chrome("/login"),
        login: String::new(),
        error: Some(ctx.t.forbidden_request().to_owned()),
    };
    ctx.render_status(StatusCode::FORBIDDEN, &page)
}

pub async fn login_page(ctx: PageContext) -> Response {
    if ctx.account.is_some() {
        return ctx.finish(Redirect::to("/account").into_response());
    }
    ctx.render(&LoginPage {
        chrome: ctx.chrome("/login"),
        login: String::new(),
        error: None,
    })
}

fn signed_in(ctx: &PageContext, state: &AppState, token: &str, to: &str) -> Response {
    let mut response = ctx.finish(Redirect::to(to).into_response());
    let max_age = state.config.session_ttl.num_seconds();
    response
        .headers_mut()
        .append(header::SET_COOKIE, ctx.login_session(token, max_age));
    response
}

pub async fn login_submit(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if !ctx.genuine(&headers, form.csrf.as_deref()) {
        return expired_form(&ctx);
    }
    let login = form.login.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let code = form.totp.filter(|c| !c.trim().is_empty());
    match open_session(&state, &login, password, code.as_deref(), &from).await {
        Ok(session) => {
            let home = if session.account.role.is_staff() {
                "/review"
            } else {
                "/account"
            };
            signed_in(&ctx, &state, &session.token, home)
        }
        Err(error) => {
            let status = error.status();
            let page = LoginPage {
                chrome: ctx.chrome("/login"),
                login,
                error: Some(ctx.lang.error(&error)),
            };
            ctx.render_status(status, &page)
        }
    }
}

pub async fn register_page(ctx: PageContext) -> Response {
    ctx.render(&RegisterPage {
        chrome: ctx.chrome("/register"),
        login: String::new(),
        errors: Vec::new(),
    })
}

pub async fn register_submit(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    headers: HeaderMap,
    Form(form): Form<CredentialsForm>,
) -> Response {
    if !ctx.genuine(&headers, form.csrf.as_deref()) {
        return expired_form(&ctx);
    }
    let login = form.login.unwrap_or_default();
    let password = form.password.unwrap_or_default();
    let created = create_user(&state, &login, password.clone(), &from).await;
    let opened = match created {
        Ok(_) => open_session(&state, &login, password, None, &from).await,
        Err(e) => Err(e),
    };
    match opened {
        Ok(session) => signed_in(&ctx, &state, &session.token, "/account"),
        Err(error) => {
            let field_errors: Vec<(String, String)> = if error.details.is_empty() {
                let field = if error.code == Code::LoginTaken {
                    "login"
                } else {
                    "password"
                };
                vec![(field.to_owned(), ctx.lang.says(error.code).to_owned())]
            } else {
                error
                    .details
                    .iter()
                    .map(|b| (b.field.clone(), ctx.lang.breach(b)))
                    .collect()
            };
            let page = RegisterPage {
                chrome: ctx.chrome("/register"),
                login,
                errors: field_errors,
            };
            ctx.render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
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
    let mut response = ctx.finish(Redirect::to("/login").into_response());
    response
        .headers_mut()
        .append(header::SET_COOKIE, ctx.clear_session());
    response
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
    application: Option<String>,
}

pub async fn settings(State(state): State<AppState>, ctx: PageContext) -> Response {
    let Some(account) = ctx.account.clone() else {
        return ctx.finish(Redirect::to("/login").into_response());
    };
    let apps = match state.store.applications_of(account.id).await {
        Ok(apps) => apps,
        Err(e) => return ctx.error_page(&AppError::from(e)),
    };
    let statuses: Vec<Status> = apps.iter().map(|a| a.status).collect();
    let status = real_name_status(&statuses);
    let (code, text) = match status {
        RealNameStatus::Unverified => ("unverified", ctx.t.status_unverified()),
        RealNameStatus::Pending => ("pending", ctx.t.status_pending()),
        RealNameStatus::Verified => ("verified", ctx.t.status_verified()),
    };
    let real_name = realname_app::journey::verified_name(&state, &apps)
        .ok()
        .flatten();
    let page = AccountPage {
        chrome: ctx.chrome("/account"),
        login: account.login.clone(),
        status: code,
        status_text: text,
        real_name,
        can_apply: may_apply(apps.iter().map(|a| (a.status, a.failure.as_ref()))).is_ok(),
        application: apps
            .iter()
            .find(|a| a.status.is_open())
            .map(|a| a.id.to_string()),
    };
    ctx.render(&page)
}

#[derive(Template)]
#[template(path = "choose_nationality.html")]
struct ChooseNationalityPage {
    chrome: Chrome,
}

pub async fn choose_nationality(ctx: PageContext) -> Response {
    if ctx.account.is_none() {
        return ctx.finish(Redirect::to("/login").into_response());
    }
    ctx.render(&ChooseNationalityPage {
        chrome: ctx.chrome("/authenticate"),
    })
}
