//! Pages for people, served by `realname serve` itself: no CDN, no font from elsewhere, no
//! inline script. Forms work without JavaScript. Every page comes in English and Simplified
//! Chinese, chosen from the browser's Accept-Language, switchable on every page, remembered in
//! a cookie.
//!
//! Sessions are the API's sessions, carried in an HttpOnly, Secure, SameSite cookie; every
//! form that changes state carries a CSRF token that must match its cookie (double submit),
//! and a request another site started is refused.

mod account;
pub mod flash;
mod forms;
mod journey;
mod progress;
mod review;
mod start;
mod static_files;
mod text;

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore;
use realname_app::Principal;
use realname_core::Code;
use realname_core::state::Failure;
use realname_core::store::Account;
use std::sync::atomic::{AtomicBool, Ordering};

pub use flash::{Flash, Notice};
pub use text::Text;

use crate::error::HttpStatus;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "rn_session";
/// `__Host-`: only this origin over a secure connection sets it, never a sibling domain, so a
/// token cannot be planted from outside (CONTRACT 4).
pub const CSRF_COOKIE: &str = "__Host-rn_csrf";
pub const LANG_COOKIE: &str = "rn_lang";
/// This browser's own token, handed out at its first sign-in: a browser that signed in to an
/// account is not slowed down by failures against that login from elsewhere (CONTRACT 4).
pub const DEVICE_COOKIE: &str = "__Host-rn_device";
/// How long a browser keeps its token: a year, beyond the 30 days it counts for.
pub const DEVICE_MAX_AGE: i64 = 365 * 86_400;
/// The platform session a link signed this browser in from, to offer the way back to it.
pub const PLATFORM_COOKIE: &str = "rn_platform_session";
/// When the current session ends (service clock), so that a page can warn before it does and
/// tell a session that ended from a visitor who never had one.
pub const SESSION_UNTIL_COOKIE: &str = "rn_session_until";
/// The form a page's language switch sends along, so that switching keeps what was typed.
pub const PAGE_FORM: &str = "page-form";
/// How long before a session ends its pages warn about it.
const SESSION_WARNING_MINUTES: i64 = 15;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The value `?lang=` takes.
    pub fn short(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            Some(Lang::Zh)
        } else if tag.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// `?lang=` first, then the remembered cookie, then the browser's Accept-Language (in its
    /// order of preference), then Chinese.
    pub fn choose(query_lang: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(lang) = query_lang.and_then(Lang::parse) {
            return lang;
        }
        if let Some(lang) = cookie(headers, LANG_COOKIE)
            .as_deref()
            .and_then(Lang::parse)
        {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut ranked: Vec<(f32, Lang)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(Lang::Zh, |(_, lang)| *lang)
    }

    /// A catalogue message in this language.
    pub fn says(self, code: Code) -> &'static str {
        match self {
            Lang::En => code.message_en(),
            Lang::Zh => code.message_zh(),
        }
    }

    pub fn failure(self, failure: &Failure) -> String {
        match self {
            Lang::En => failure.message_en(),
            Lang::Zh => failure.message_zh(),
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Zh,
            Lang::Zh => Lang::En,
        }
    }
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<i64>,
    same_site: &str,
) -> HeaderValue {
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    let text = format!("{name}={value}; Path=/; HttpOnly; Secure; SameSite={same_site}{age}");
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("rn_invalid=1"))
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A CSRF token bound to a session: a random part and a hash of it with the session's
/// token, which only that browser holds. A token planted in another browser, or kept from
/// before a sign-in, is not its session's, and the sign-in hands out a new one.
fn session_csrf(session_token: &str) -> String {
    let nonce = random_token();
    let mac = csrf_mac(session_token, &nonce);
    format!("{nonce}.{mac}")
}

fn csrf_mac(session_token: &str, nonce: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"realname csrf\0")
        .chain_update(session_token.as_bytes())
        .chain_update(b"\0")
        .chain_update(nonce.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// Whether `token` was made for the session of `session_token`.
fn bound_to(token: &str, session_token: &str) -> bool {
    token
        .split_once('.')
        .is_some_and(|(nonce, mac)| same_secret(mac, &csrf_mac(session_token, nonce)))
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What every page knows of its request: the language, the CSRF token for its forms, and the
/// logged-in account if any.
pub struct PageContext {
    pub lang: Lang,
    pub t: Text,
    pub csrf: String,
    /// A new CSRF cookie to set, when the browser had none.
    new_csrf: bool,
    remember_lang: bool,
    pub account: Option<Account>,
    /// Who the session cookie belongs to, as the application layer sees them.
    pub principal: Option<Principal>,
    pub session_token: Option<String>,
    /// The platform session a link signed this browser in from, if any.
    pub platform_session: Option<String>,
    /// The id the request-id layer gave this request, shown on error pages.
    pub request_id: String,
    /// Where users' browsers reach the service: one origin a form of this site is posted
    /// from (the `Host` the browser asked for is the other).
    public_url: String,
    /// What the last form post handed on, if this deployment sealed it.
    flash: Option<Flash>,
    /// Whether a page showed the flash, so that it is spent.
    flash_taken: AtomicBool,
    /// When the session ends, as the browser was told at sign-in.
    pub session_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The service clock's now.
    pub now: chrono::DateTime<chrono::Utc>,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let query_lang = parts.uri.query().and_then(|q| {
            q.split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == "lang")
                .map(|(_, v)| v.to_owned())
        });
        let lang = Lang::choose(query_lang.as_deref(), &parts.headers);
        let session_token = cookie(&parts.headers, SESSION_COOKIE);
        // A page is a person's: a platform key in a cookie is no session.
        let principal = match &session_token {
            Some(token) => state
                .app
                .page_principal(token)
                .await
                .ok()
                .flatten()
                .filter(Principal::is_person),
            None => None,
        };
        let account = principal.as_ref().and_then(|p| p.account().ok()).cloned();
        // Signed in, the token must be the session's; signed out, any token this origin set.
        let existing = cookie(&parts.headers, CSRF_COOKIE).filter(|c| {
            c.len() >= 32
                && match (&principal, &session_token) {
                    (Some(_), Some(token)) => bound_to(c, token),
                    _ => true,
                }
        });
        let fresh = || match (&principal, &session_token) {
            (Some(_), Some(token)) => session_csrf(token),
            _ => random_token(),
        };
        Ok(PageContext {
            lang,
            t: Text { lang },
            new_csrf: existing.is_none(),
            csrf: existing.unwrap_or_else(fresh),
            public_url: state.settings.public_url.clone(),
            remember_lang: query_lang.is_some(),
            account,
            principal,
            session_token,
            platform_session: cookie(&parts.headers, PLATFORM_COOKIE),
            flash: cookie(&parts.headers, flash::FLASH_COOKIE)
                .filter(|c| !c.is_empty())
                .and_then(|c| Flash::open(state, &c)),
            flash_taken: AtomicBool::new(false),
            session_until: cookie(&parts.headers, SESSION_UNTIL_COOKIE)
                .and_then(|c| c.parse::<i64>().ok())
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0)),
            now: state.now(),
            request_id: parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
        })
    }
}

impl PageContext {
    /// Renders a page and sets the cookies this context owes the browser.
    pub fn render(&self, page: &impl Template) -> Response {
        self.render_status(StatusCode::OK, page)
    }

    pub fn render_status(&self, status: StatusCode, page: &impl Template) -> Response {
        match page.render() {
            Ok(html) => self.finish((status, Html(html)).into_response()),
            Err(e) => crate::error::ApiError::internal("page template", e).into_response(),
        }
    }

    pub fn finish(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        let replaced = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.as_bytes().starts_with(flash::FLASH_COOKIE.as_bytes()));
        if self.flash_taken.load(Ordering::Relaxed) && !replaced {
            headers.append(header::SET_COOKIE, Flash::spent());
        }
        if self.new_csrf {
            headers.append(
                header::SET_COOKIE,
                set_cookie(CSRF_COOKIE, &self.csrf, None, "Strict"),
            );
        }
        if self.remember_lang {
            headers.append(
                header::SET_COOKIE,
                set_cookie(LANG_COOKIE, self.lang.code(), Some(365 * 86_400), "Lax"),
            );
        }
        response
    }

    /// A page that says what went wrong, with the request id to quote.
    fn problem_page(&self, status: StatusCode, text: &str) -> Response {
        let page = ErrorPage {
            chrome: self.chrome("/"),
            heading: self.t.error_title(),
            text: text.to_owned(),
            request_id: self.request_id.clone(),
        };
        self.render_status(status, &page)
    }

    /// An error as a page in the reader's language.
    pub fn error_page(&self, error: &realname_app::AppError) -> Response {
        self.problem_page(error.status(), self.lang.says(error.code))
    }

    /// A page asked for with a method it does not take (a form's URL opened by hand, say).
    pub fn method_not_allowed(&self) -> Response {
        self.problem_page(StatusCode::METHOD_NOT_ALLOWED, self.t.method_not_allowed())
    }

    /// A form post that is not this site's own, or whose token expired.
    pub fn forbidden_form(&self) -> Response {
        self.problem_page(StatusCode::FORBIDDEN, self.t.forbidden_request())
    }

    /// A link to the same page in the other language.
    pub fn switch_href(&self, path: &str) -> String {
        format!("{path}?lang={}", self.lang.other().short())
    }

    /// The flash handed to the page at `path`; showing it spends it.
    pub fn take_flash(&self, path: &str) -> Option<Flash> {
        let flash = self.flash.as_ref().filter(|f| f.path == path)?;
        self.flash_taken.store(true, Ordering::Relaxed);
        Some(flash.clone())
    }

    /// A redirect after a form post (303: the browser follows with a GET, so Back and
    /// Reload never send the form again).
    pub fn see_other(&self, to: &str) -> Response {
        self.finish(Redirect::to(to).into_response())
    }

    /// A redirect that hands a flash to the page it goes to.
    pub fn see_other_with(&self, state: &AppState, to: &str, flash: Flash) -> Response {
        let mut response = Redirect::to(to).into_response();
        if let Some(cookie) = flash.cookie(state) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        self.finish(response)
    }

    /// The form errors and warnings a flash carries, in the reader's language.
    pub fn form_errors(&self, flash: Option<&Flash>) -> forms::FormErrors {
        match flash {
            Some(f) => forms::FormErrors::new(self.lang, f.errors.clone(), f.warnings.clone()),
            None => forms::FormErrors::new(self.lang, Vec::new(), Vec::new()),
        }
    }

    /// The warning to show when the session ends soon.
    fn session_warning(&self) -> Option<String> {
        let until = self.session_until.filter(|_| self.account.is_some())?;
        let left = until - self.now;
        (left > chrono::Duration::zero()
            && left <= chrono::Duration::minutes(SESSION_WARNING_MINUTES))
        .then(|| self.t.session_ends_soon(&china_time(self.lang, until)))
    }

    /// Whether `origin` is this site's: `public_url`'s, or that of the `Host` asked for.
    fn own_origin(&self, origin: &str, headers: &HeaderMap) -> bool {
        let public = realname_app::platform::sessions::origin_of(&self.public_url);
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        public.as_deref() == Some(origin)
            || host.is_some_and(|host| {
                origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    == Some(host)
            })
    }

    /// Whether a form post is this site's own: its CSRF field matches its cookie (bound to
    /// the session once signed in), its `Origin`, when the browser sends one, is this site's,
    /// and the browser does not say another site sent it.
    pub fn genuine(&self, parts_headers: &HeaderMap, field: Option<&str>) -> bool {
        let cross_site = parts_headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|site| site == "cross-site");
        // Under the pages' `Referrer-Policy: no-referrer` a browser sends `Origin: null` even
        // for this site's own forms (the Fetch standard's rule): that says nothing either way,
        // and `Sec-Fetch-Site` and the token decide. A named origin must be this site's.
        let foreign_origin =
            parts_headers
                .get(header::ORIGIN)
                .is_some_and(|origin| match origin.to_str() {
                    Ok("null") => false,
                    Ok(origin) => !self.own_origin(origin, parts_headers),
                    Err(_) => true,
                });
        !self.new_csrf
            && !cross_site
            && !foreign_origin
            && field.is_some_and(|f| same_secret(f, &self.csrf))
    }

    /// The cookies of a new session: its token, when it ends (kept a day longer, so that a
    /// page can tell a session that ended from none), and a new CSRF token bound to it.
    pub fn login_session(
        &self,
        token: &str,
        max_age: i64,
        until: chrono::DateTime<chrono::Utc>,
    ) -> [HeaderValue; 3] {
        [
            set_cookie(CSRF_COOKIE, &session_csrf(token), None, "Strict"),
            set_cookie(SESSION_COOKIE, token, Some(max_age), "Lax"),
            set_cookie(
                SESSION_UNTIL_COOKIE,
                &until.timestamp().to_string(),
                Some(max_age + 86_400),
                "Lax",
            ),
        ]
    }

    pub fn clear_session(&self) -> [HeaderValue; 2] {
        [
            set_cookie(SESSION_COOKIE, "", Some(0), "Lax"),
            set_cookie(SESSION_UNTIL_COOKIE, "", Some(0), "Lax"),
        ]
    }

    /// What the frame of every page needs.
    pub fn chrome(&self, path: &str) -> Chrome {
        Chrome {
            lang: self.lang.code(),
            t: self.t,
            switch_href: self.switch_href(path),
            switch_action: None,
            csrf: self.csrf.clone(),
            logged_in: self.account.is_some(),
            notice: None,
            notice_lines: Vec::new(),
            session_warning: self.session_warning(),
            has_errors: false,
            stylesheet: static_files::stylesheet_path(),
            script: None,
            wait: None,
        }
    }

    /// The frame of a page whose form the language switch sends along (to `/language`, which
    /// hands what was typed back to `path` in the other language).
    pub fn form_chrome(&self, path: &str) -> Chrome {
        let mut chrome = self.chrome(path);
        chrome.switch_action = Some(format!(
            "/language?to={}&back={}",
            self.lang.other().short(),
            encode_component(path)
        ));
        chrome
    }
}

/// A URL query component, percent-encoded.
pub fn encode_component(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    text: String,
    request_id: String,
}

/// The frame around every page: language, the language switch, the CSRF token, the nav,
/// a notice and the session's warning.
pub struct Chrome {
    pub lang: &'static str,
    pub t: Text,
    pub switch_href: String,
    /// Where the language switch sends the page's form, on a page with one.
    pub switch_action: Option<String>,
    pub csrf: String,
    pub logged_in: bool,
    /// What the last action did, said at the top of the page, and advice that came with it.
    pub notice: Option<String>,
    pub notice_lines: Vec<String>,
    pub session_warning: Option<String>,
    /// The title starts with "Error" while the page shows errors.
    pub has_errors: bool,
    pub stylesheet: &'static str,
    /// A small script of our own, as an enhancement only.
    pub script: Option<&'static str>,
    /// The status a waiting page waits to leave (the script reloads it when it does).
    pub wait: Option<&'static str>,
}

impl Chrome {
    /// The notice a flash carries, with the advice for the whole page that came with it.
    pub fn with_flash_notice(mut self, lang: Lang, flash: Option<&Flash>) -> Chrome {
        let Some(flash) = flash else {
            return self;
        };
        if let Some(notice) = flash.notice {
            self.notice = Some(Text { lang }.notice(notice).to_owned());
        }
        self.notice_lines = flash
            .warnings
            .iter()
            .filter(|w| w.field.is_empty())
            .map(|w| w.in_lang(lang).to_owned())
            .collect();
        self
    }
}

/// A time of the journey's progress, short for a phone: month, day and Beijing time of day.
pub fn china_time_short(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%m-%d %H:%M")
        .to_string()
}

/// A time as people in China read it: Beijing time, said in the reader's language.
pub fn china_time(lang: Lang, at: chrono::DateTime<chrono::Utc>) -> String {
    // China keeps one time zone all year, eight hours ahead of UTC.
    let shown = (at + chrono::Duration::hours(8)).format("%Y-%m-%d %H:%M");
    match lang {
        Lang::En => format!("{shown} (Beijing time)"),
        Lang::Zh => format!("{shown}（北京时间）"),
    }
}

/// A form whose only field is its CSRF token.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CsrfOnly {
    pub csrf: String,
}

/// Security headers on every page.
pub async fn security_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    with_page_headers(next.run(req).await)
}

/// The page headers, on a page or on any HTML answer (the 404 of an unknown path included).
/// A policy the answer set itself (a reviewer's document: `sandbox`) is kept.
pub fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // Pages hold personal data: never cached. A static file says otherwise itself.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

async fn home(ctx: PageContext) -> Response {
    let target = if ctx.account.is_some() {
        "/account"
    } else {
        "/login"
    };
    ctx.finish(Redirect::to(target).into_response())
}

/// Two document images of at most 10 MiB each, with room for the form around them.
const UPLOAD_LIMIT: usize = 2 * 10 * 1024 * 1024 + 64 * 1024;

pub fn router(sandbox: bool) -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(home))
        .route("/static/{name}", get(static_files::serve))
        .route("/language", axum::routing::post(account::switch_language))
        .route(
            "/login",
            get(account::login_page).post(account::login_submit),
        )
        .route(
            "/register",
            get(account::register_page).post(account::register_submit),
        )
        .route("/logout", axum::routing::post(account::logout))
        .route("/start/{token}", get(start::open).post(start::continue_))
        .route("/account", get(account::settings))
        .route("/authenticate", get(account::choose_nationality))
        .route(
            "/verifications/new",
            get(journey::new_identity).post(journey::create_identity),
        )
        .route("/verifications/{id}", get(journey::status))
        .route(
            "/verifications/{id}/identity",
            get(journey::edit_identity).post(journey::update_identity),
        )
        .route(
            "/verifications/{id}/documents",
            get(journey::documents)
                .post(journey::upload_documents)
                .layer(axum::extract::DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route(
            "/verifications/{id}/bank_card",
            get(journey::bank_card).post(journey::bind_card),
        )
        .route("/verifications/{id}/confirm", get(journey::confirm))
        .route(
            "/verifications/{id}/submit",
            axum::routing::post(journey::submit),
        )
        .route(
            "/verifications/{id}/cancel",
            get(journey::cancel_page).post(journey::cancel),
        )
        .route(
            "/verifications/{id}/amount",
            axum::routing::post(journey::answer_amount),
        )
        .route("/review", get(review::queue))
        .route("/review/cases/{id}", get(review::case))
        .route("/review/cases/{id}/documents/{slot}", get(review::document))
        .route(
            "/review/cases/{id}/claim",
            axum::routing::post(review::claim),
        )
        .route(
            "/review/cases/{id}/decision",
            axum::routing::post(review::decide),
        )
        .route(
            "/review/cases/{id}/screening_decision",
            axum::routing::post(review::decide_screening),
        )
        .route("/audit", get(review::audit));
    if sandbox {
        router = router.route("/sandbox/statement", get(journey::statement));
    }
    router.layer(axum::middleware::from_fn(security_headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn language_comes_from_the_query_then_the_cookie_then_the_browser() {
        assert_eq!(Lang::choose(None, &headers(&[])), Lang::Zh);
        assert_eq!(
            Lang::choose(
                None,
                &headers(&[("accept-language", "en-GB,en;q=0.9,zh;q=0.8")])
            ),
            Lang::En
        );
        assert_eq!(
            Lang::choose(
                None,
                &headers(&[("accept-language", "fr-FR,zh-CN;q=0.7,en;q=0.5")])
            ),
            Lang::Zh
        );
        assert_eq!(
            Lang::choose(
                None,
                &headers(&[("accept-language", "en;q=0.3,zh-TW;q=0.9")])
            ),
            Lang::Zh
        );
        let with_cookie = headers(&[("accept-language", "zh-CN"), ("cookie", "a=1; rn_lang=en")]);
        assert_eq!(Lang::choose(None, &with_cookie), Lang::En);
        assert_eq!(Lang::choose(Some("zh"), &with_cookie), Lang::Zh);
        assert_eq!(Lang::choose(Some("xx"), &with_cookie), Lang::En);
    }

    #[test]
    fn cookies_are_read_by_name() {
        let h = headers(&[
            ("cookie", "__Host-rn_csrf=abc; rn_session=tok"),
            ("cookie", "other=1"),
        ]);
        assert_eq!(cookie(&h, "rn_session").as_deref(), Some("tok"));
        assert_eq!(cookie(&h, "other").as_deref(), Some("1"));
        assert_eq!(cookie(&h, "missing"), None);
        let set = set_cookie(SESSION_COOKIE, "tok", Some(60), "Lax");
        let set = set.to_str().unwrap_or_default();
        assert!(set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Lax"));
    }
}
