//! Where a platform's link lands (CONTRACT 9): a page with one Continue button, because link
//! previews in chat apps and mail scanners fetch links before people do and must not use them
//! up; continuing (a POST) uses the link, signs the browser in to the pages and goes on with
//! the journey. A used or expired link says so and offers the way back to the platform.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use realname_app::platform::sessions;
use realname_core::platform::PlatformSession;

use super::{Chrome, CsrfOnly, LANG_COOKIE, Lang, PageContext, set_cookie};
use crate::client::ClientAddress;
use crate::state::AppState;
use realname_app::limits::{self, Counted};

/// How long a browser remembers the platform a link came from.
const PLATFORM_COOKIE_SECONDS: i64 = 30 * 86_400;

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    chrome: Chrome,
    action: String,
}

#[derive(Template)]
#[template(path = "link_spent.html")]
struct LinkSpentPage {
    chrome: Chrome,
    back: Option<String>,
}

/// The platform session a link signed this browser in from, if the browser remembers one.
pub async fn linked_session(state: &AppState, ctx: &PageContext) -> Option<PlatformSession> {
    let id = uuid::Uuid::parse_str(ctx.platform_session.as_deref()?).ok()?;
    state.store.platform_session(id).await.ok()?
}

/// The platform's page to go back to, told which session the user comes from.
pub fn return_link(session: &PlatformSession) -> Option<String> {
    let url = session.return_url.as_deref()?;
    let joiner = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{joiner}verification_session={}", session.id))
}

fn spent(ctx: &PageContext, session: Option<&PlatformSession>) -> Response {
    let page = LinkSpentPage {
        chrome: ctx.chrome("/"),
        back: session.and_then(return_link),
    };
    ctx.render_status(StatusCode::GONE, &page)
}

/// The session's language, for a browser that has not chosen one yet.
fn with_locale(ctx: PageContext, session: &PlatformSession) -> PageContext {
    let lang = match session.locale.as_deref() {
        Some("en") => Lang::En,
        Some("zh-CN") => Lang::Zh,
        _ => return ctx,
    };
    PageContext {
        lang,
        t: super::Text { lang },
        ..ctx
    }
}

pub async fn open(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    Path(token): Path<String>,
) -> Response {
    // Link tokens cannot be guessed; counting them per address keeps anyone from trying.
    if let Err(e) = limits::admit(&state, Counted::Link { address: &from }).await {
        return ctx.error_page(&e);
    }
    match sessions::peek(&state, &token).await {
        Ok(Some((session, true))) => {
            let ctx = with_locale(ctx, &session);
            let page = StartPage {
                chrome: ctx.chrome("/"),
                action: format!("/start/{token}"),
            };
            ctx.render(&page)
        }
        Ok(Some((session, false))) => spent(&with_locale(ctx, &session), Some(&session)),
        Ok(None) => spent(&ctx, None),
        Err(e) => ctx.error_page(&e),
    }
}

pub async fn continue_(
    State(state): State<AppState>,
    ClientAddress(from): ClientAddress,
    ctx: PageContext,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !ctx.genuine(&headers, Some(&form.csrf)) {
        return ctx.forbidden_form();
    }
    if let Err(e) = limits::admit(&state, Counted::Link { address: &from }).await {
        return ctx.error_page(&e);
    }
    match sessions::start(&state, &token).await {
        Ok(Some(started)) => {
            let max_age = (started.expires_at - state.now()).num_seconds().max(0);
            let mut response = Redirect::to(&started.next).into_response();
            let cookies = response.headers_mut();
            for cookie in ctx.login_session(&started.session_token, max_age, started.expires_at) {
                cookies.append(header::SET_COOKIE, cookie);
            }
            if let Some(locale) = started.session.locale.as_deref() {
                cookies.append(
                    header::SET_COOKIE,
                    set_cookie(LANG_COOKIE, locale, Some(365 * 86_400), "Lax"),
                );
            }
            cookies.append(
                header::SET_COOKIE,
                // Kept after the session ends: an account a link opened has no password, and
                // its way back to the platform is the way to a new link.
                set_cookie(
                    super::PLATFORM_COOKIE,
                    &started.session.id.to_string(),
                    Some(PLATFORM_COOKIE_SECONDS),
                    "Lax",
                ),
            );
            ctx.finish(response)
        }
        Ok(None) => match sessions::peek(&state, &token).await {
            Ok(found) => spent(&ctx, found.as_ref().map(|(s, _)| s)),
            Err(e) => ctx.error_page(&e),
        },
        Err(e) => ctx.error_page(&e),
    }
}
