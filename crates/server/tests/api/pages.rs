//! The pages over HTTP: language, cookies, CSRF and security headers. (Browser tests of the
//! whole journey come with the rest of the pages.)

use reqwest::{StatusCode, header};

use crate::helpers::*;

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

pub fn value(cookie: &str) -> String {
    cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned()
}

#[tokio::test]
async fn pages_speak_the_browsers_language_and_remember_a_switch() {
    let app = spawn_app().await;
    let client = no_redirects();
    let res = client
        .get(app.url("/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("frame-ancestors 'none'")
            && csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
    );
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    let csrf = set_cookie(&res, "__Host-rn_csrf").expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("Secure") && csrf.contains("SameSite=Strict")
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Log in"));
    assert!(
        html.contains("<label for=\"login\">"),
        "every field has a label"
    );
    assert!(!html.contains("<script"), "forms work without JavaScript");

    let zh = client
        .get(app.url("/login"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(zh.text().await.unwrap().contains("<html lang=\"zh-CN\">"));
    let switched = client
        .get(app.url("/login?lang=zh"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let remembered = set_cookie(&switched, "rn_lang").expect("the choice is remembered");
    assert!(switched.text().await.unwrap().contains("登录"));
    let later = client
        .get(app.url("/register"))
        .header("accept-language", "en")
        .header("cookie", remembered.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert!(later.text().await.unwrap().contains("注册账户"));
}

#[tokio::test]
async fn forms_need_their_csrf_token_and_register_logs_in() {
    let app = spawn_app().await;
    let client = no_redirects();
    let res = client.get(app.url("/register")).send().await.unwrap();
    let csrf = value(&set_cookie(&res, "__Host-rn_csrf").unwrap());
    let cookie = format!("__Host-rn_csrf={csrf}");

    let forged = client
        .post(app.url("/register"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", "wrong"),
            ("login", "web@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross_site = client
        .post(app.url("/register"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "web@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    // A breach is said next to its field after a redirect (Reload never sends the form
    // again), in the page's language, keeping what was typed; the flash is spent once shown.
    let weak = client
        .post(app.url("/register"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "web@example.com"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::SEE_OTHER);
    assert_eq!(weak.headers()["location"], "/register");
    let flash = set_cookie(&weak, "rn_flash").expect("the errors ride in a flash");
    assert!(!flash.contains("web@example.com"), "the flash is sealed");
    let shown = client
        .get(app.url("/register?lang=zh"))
        .header("cookie", format!("{cookie}; rn_flash={}", value(&flash)))
        .send()
        .await
        .unwrap();
    assert!(
        set_cookie(&shown, "rn_flash").is_some_and(|c| c.contains("Max-Age=0")),
        "shown once"
    );
    let html = shown.text().await.unwrap();
    assert!(
        html.contains("密码至少需要 8 个字符")
            && html.contains("value=\"web@example.com\"")
            && html.contains("aria-describedby=\"password-error password-hint\"")
            && html.contains("<title>错误:"),
        "{html}"
    );

    let ok = client
        .post(app.url("/register"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "web@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(ok.headers()["location"], "/account");
    let session = set_cookie(&ok, "rn_session").expect("a session cookie");
    assert!(
        session.contains("HttpOnly")
            && session.contains("Secure")
            && session.contains("SameSite=Lax")
    );
    // Signing in hands out a new CSRF token bound to the session: the one from before, or
    // one planted by another site, no longer passes.
    let bound = value(&set_cookie(&ok, "__Host-rn_csrf").expect("a new CSRF token"));
    assert_ne!(bound, csrf, "rotated at sign-in");
    let session_pair = session.split(';').next().unwrap();
    let planted = client
        .post(app.url("/logout"))
        .header("cookie", format!("{cookie}; {session_pair}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(planted.status(), StatusCode::FORBIDDEN);
    let cookie = format!("__Host-rn_csrf={bound}");
    let csrf = bound;
    let foreign = client
        .post(app.url("/logout"))
        .header("cookie", format!("{cookie}; {session_pair}"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN, "another origin");
    let cookies = format!("{cookie}; {session_pair}");

    let account = client
        .get(app.url("/account?lang=en"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    let html = account.text().await.unwrap();
    assert!(
        html.contains("web@example.com")
            && html.contains("Not authenticated")
            && html.contains("Authenticate now"),
        "{html}"
    );
    let choose = client
        .get(app.url("/authenticate?lang=en"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    let html = choose.text().await.unwrap();
    assert!(html.contains("Foreign nationality") && html.contains("Resident Identity Card"));

    // The same session works for the API, and logging out of the page ends it.
    let token = value(&session);
    let (status, me) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(
        (status, me["login"].as_str()),
        (StatusCode::OK, Some("web@example.com"))
    );
    // A browser under the pages' no-referrer policy sends `Origin: null`: no verdict.
    let out = client
        .post(app.url("/logout"))
        .header("cookie", &cookies)
        .header("origin", "null")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookie(&out, "rn_session")
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = app.get("/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let gone = client
        .get(app.url("/account"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    let to = gone.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/login?next=/account"), "{to}");
}

#[tokio::test]
async fn a_wrong_password_is_said_on_the_login_page() {
    let app = spawn_app().await;
    app.register("pw@example.com").await;
    let mut b = Browser::open(&app).await;
    let (status, to) = b
        .post(
            &app,
            "/login",
            &[("login", "pw@example.com"), ("password", "not my password")],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/login"));
    let (_, html) = b.get(&app, "/login?lang=en").await;
    assert!(
        html.contains("The login or password is wrong.")
            && html.contains("value=\"pw@example.com\"")
            && !html.contains("not my password"),
        "{html}"
    );
    let (_, again) = b.get(&app, "/login?lang=en").await;
    assert!(
        !again.contains("The login or password is wrong."),
        "reloading does not say it again"
    );
}

/// A browser-like client for the pages: it keeps the cookies it is given.
pub(crate) struct Browser {
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
    csrf: String,
}

impl Browser {
    pub(crate) async fn open(app: &TestApp) -> Browser {
        let client = no_redirects();
        let res = client.get(app.url("/login")).send().await.unwrap();
        let csrf = value(&set_cookie(&res, "__Host-rn_csrf").unwrap());
        let mut cookies = std::collections::BTreeMap::new();
        cookies.insert("__Host-rn_csrf".to_owned(), csrf.clone());
        Browser {
            client,
            cookies,
            csrf,
        }
    }

    /// The token a form carries: the one its page was rendered with, the cookie's current one
    /// (signing in replaces it).
    pub(crate) fn csrf(&self) -> String {
        self.cookies
            .get("__Host-rn_csrf")
            .cloned()
            .unwrap_or_else(|| self.csrf.clone())
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn keep(&mut self, res: &reqwest::Response) {
        for v in res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            if let Some((k, rest)) = v.split(';').next().and_then(|kv| kv.split_once('=')) {
                if v.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), rest.to_owned());
                }
            }
        }
    }

    /// A GET with the cookies kept so far; the answer's cookies are kept in turn.
    async fn fetch(&mut self, app: &TestApp, path: &str) -> reqwest::Response {
        let res = self
            .client
            .get(app.url(path))
            .header("cookie", self.header())
            .send()
            .await
            .unwrap();
        self.keep(&res);
        res
    }

    pub(crate) async fn get(&mut self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let res = self.fetch(app, path).await;
        (res.status(), res.text().await.unwrap())
    }

    /// A GET that redirects: its status and where to.
    async fn get_location(&mut self, app: &TestApp, path: &str) -> (StatusCode, String) {
        let res = self.fetch(app, path).await;
        let to = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (res.status(), to)
    }

    /// Posts a form; answers the status and where it redirects to (or the page's HTML).
    pub(crate) async fn post(
        &mut self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let csrf = self.csrf();
        let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let res = self
            .client
            .post(app.url(path))
            .header("cookie", self.header())
            .form(&form)
            .send()
            .await
            .unwrap();
        self.keep(&res);
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        (status, location.unwrap_or(res.text().await.unwrap()))
    }
}

#[tokio::test]
async fn a_user_walks_the_whole_journey_through_the_pages() {
    let app = spawn_app().await;
    let mut b = Browser::open(&app).await;
    let (status, to) = b
        .post(
            &app,
            "/register?lang=en",
            &[("login", "walker@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/account"));

    let identity = [
        ("real_name", "John Smith"),
        ("nationality", "USA"),
        ("date_of_birth", "1990-05-17"),
        ("phone", "13800138000"),
        ("stay_kind", "entry_record"),
        ("entry_date", "2026-01-10"),
        ("passport_number", "E12345678"),
        ("passport_expiry", FAR_EXPIRY),
        ("sex", "female"),
        ("occupation", "other"),
        ("occupation_title", "Diving instructor"),
        ("address", "Room 1201, 88 Jianguo Road, Chaoyang, Beijing"),
        ("pep", "no"),
    ];
    // Without consent and with a bad phone: both said next to their fields, input kept.
    let mut bad = identity.to_vec();
    bad[3] = ("phone", "91234567");
    let (status, to) = b.post(&app, "/verifications/new", &bad).await;
    assert_eq!(
        (status, to.as_str()),
        (StatusCode::SEE_OTHER, "/verifications/new")
    );
    let (_, html) = b.get(&app, &to).await;
    assert!(
        html.contains("id=\"phone-error\"") && html.contains("international code"),
        "{html}"
    );
    assert!(html.contains("value=\"John Smith\"") && html.contains("value=\"E12345678\""));
    assert!(html.contains("give your consent"));

    let mut good = identity.to_vec();
    good.push(("consent", "true"));
    let (status, to) = b.post(&app, "/verifications/new", &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let id = to
        .trim_start_matches("/verifications/")
        .trim_end_matches("/documents")
        .to_owned();

    let (status, html) = b.get(&app, &format!("/verifications/{id}/documents")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("enctype=\"multipart/form-data\""));
    let to = upload(&mut b, &app, &id, &["passport_photo_page", "stay_permit"]).await;
    assert_eq!(to, format!("/verifications/{id}/bank_card"));

    let (_, html) = b.get(&app, &format!("/verifications/{id}/bank_card")).await;
    assert!(
        html.contains("Bank of Hangzhou: current accounts only.")
            && html.contains("value=\"John Smith\"")
    );
    let card = [
        ("bank", "ICBC"),
        ("card_number", CARD),
        ("card_type", "savings"),
        ("account_type", "current"),
        ("account_name", "John Smith"),
    ];
    let (status, to) = b
        .post(&app, &format!("/verifications/{id}/bank_card"), &card)
        .await;
    assert_eq!(
        (status, to.clone()),
        (
            StatusCode::SEE_OTHER,
            format!("/verifications/{id}/confirm")
        )
    );

    let (_, html) = b.get(&app, &format!("/verifications/{id}/confirm")).await;
    assert!(
        html.contains("E1*****78")
            && html.contains("**** 0018")
            && !html.contains(CARD)
            && !html.contains("E12345678")
    );
    let (status, to) = b
        .post(&app, &format!("/verifications/{id}/submit"), &[])
        .await;
    assert_eq!(
        (status, to),
        (StatusCode::SEE_OTHER, format!("/verifications/{id}"))
    );
    let (_, html) = b.get(&app, &format!("/verifications/{id}")).await;
    assert!(html.contains("on its way"), "{html}");

    app.advance(0).await;
    let (_, html) = b
        .get(&app, &format!("/sandbox/statement?card_number={CARD}"))
        .await;
    let amount = html
        .split("class=\"amount\">+")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(amount.starts_with("0."), "{amount}");
    let (_, html) = b.get(&app, &format!("/verifications/{id}")).await;
    assert!(html.contains("name=\"amount\"") && html.contains("Attempts left"));
    let (status, to) = b
        .post(
            &app,
            &format!("/verifications/{id}/amount"),
            &[("amount", "0.999")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&app, &to).await;
    assert!(html.contains("did not use an attempt") && html.contains("value=\"0.999\""));
    // A wrong amount, then Reload: the reload is a GET and uses no attempt.
    let wrong = if amount == "0.01" { "0.02" } else { "0.01" };
    let (_, to) = b
        .post(
            &app,
            &format!("/verifications/{id}/amount"),
            &[("amount", wrong)],
        )
        .await;
    let attempts = |html: &str| {
        html.split("Attempts left</dt><dd>")
            .nth(1)
            .map(|s| s[..1].to_owned())
    };
    let (_, first) = b.get(&app, &format!("{to}?lang=en")).await;
    let (_, reloaded) = b.get(&app, &format!("{to}?lang=en")).await;
    assert_eq!(attempts(&first).as_deref(), Some("2"), "{first}");
    assert_eq!(
        attempts(&reloaded).as_deref(),
        Some("2"),
        "Reload used no attempt"
    );
    let (status, to) = b
        .post(
            &app,
            &format!("/verifications/{id}/amount"),
            &[("amount", &amount)],
        )
        .await;
    assert_eq!(
        (status, to.clone()),
        (StatusCode::SEE_OTHER, format!("/verifications/{id}"))
    );
    let (_, html) = b.get(&app, &format!("/verifications/{id}?lang=zh")).await;
    assert!(html.contains("您的申请正在审核中"), "{html}");

    // A reviewer works the case through the pages.
    app.staff("rita", "reviewer").await;
    let mut r = Browser::open(&app).await;
    let (status, html) = r.get(&app, "/login?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"name="totp""#),
        "the login page asks staff for the code"
    );
    let (status, to) = r
        .post(&app, "/login", &[("login", "rita"), ("password", PASSWORD)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "staff need their code");
    let (_, html) = r.get(&app, &to).await;
    assert!(
        html.contains(r#"name="totp""#) && html.contains("The login or password is wrong."),
        "{html}"
    );
    let code = app.totp("rita").await;
    let (status, to) = r
        .post(
            &app,
            "/login?lang=en",
            &[("login", "rita"), ("password", PASSWORD), ("totp", &code)],
        )
        .await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/review"));
    let (status, html) = r.get(&app, "/review").await;
    assert_eq!(status, StatusCode::OK);
    let case = html
        .split("/review/cases/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    // Until the reviewer holds the case, it is masked and its images are not shown.
    let (_, html) = r.get(&app, &format!("/review/cases/{case}")).await;
    assert!(
        !html.contains("E12345678") && !html.contains(CARD) && html.contains("accesskey=\"c\""),
        "masked before the claim"
    );
    assert!(!html.contains("/documents/passport_photo_page"));
    let (status, _) = r
        .get(&app, &format!("/review/cases/{case}/documents/stay_permit"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = r
        .post(&app, &format!("/review/cases/{case}/claim"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = r.get(&app, &format!("/review/cases/{case}")).await;
    assert!(
        html.contains("E12345678") && html.contains(CARD),
        "the reviewer who holds it sees everything unmasked"
    );
    assert!(html.contains(&format!(
        "/review/cases/{case}/documents/passport_photo_page"
    )));
    let (status, bytes) = r
        .get(&app, &format!("/review/cases/{case}/documents/stay_permit"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!bytes.is_empty());
    let (_, html) = r.get(&app, &format!("/review/cases/{case}")).await;
    assert!(
        html.contains("accesskey=\"a\"")
            && html.contains("accesskey=\"r\"")
            && html.contains("Document page missing")
    );
    assert!(
        html.contains(r#"<option value="" selected>"#),
        "no reason is chosen for the reviewer"
    );
    let (status, to) = r
        .post(
            &app,
            &format!("/review/cases/{case}/decision"),
            &[("outcome", "reject"), ("reason", "other"), ("note", "")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = r.get(&app, &to).await;
    assert!(html.contains("needs a note"), "{html}");
    let (status, _) = r
        .post(
            &app,
            &format!("/review/cases/{case}/decision"),
            &[("outcome", "approve"), ("reason", "other")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = b.get(&app, &format!("/verifications/{id}?lang=en")).await;
    assert!(html.contains("You are authenticated"), "{html}");
    let (_, html) = b.get(&app, "/account").await;
    assert!(html.contains("Authenticated") && html.contains("John Smith"));
    let (status, _) = r.get(&app, "/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the audit log is for admins");
    app.staff("ada", "admin").await;
    let mut a = Browser::open(&app).await;
    let code = app.totp("ada").await;
    a.post(
        &app,
        "/login",
        &[("login", "ada"), ("password", PASSWORD), ("totp", &code)],
    )
    .await;
    let (status, html) = a
        .get(&app, &format!("/audit?verification_id={id}&lang=en"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Opened the case unmasked")
            && html.contains("Viewed a document image")
            && html.contains("Decided the case")
            && html.contains(">rita<")
            && !html.contains("reveal_application"),
        "the audit log says who did what in words: {html}"
    );

    // A user is no reviewer.
    let (status, _) = b.get(&app, "/review").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another user cannot see it.
    let mut stranger = Browser::open(&app).await;
    stranger
        .post(
            &app,
            "/register",
            &[("login", "stranger@example.com"), ("password", PASSWORD)],
        )
        .await;
    let (status, html) = stranger
        .get(&app, &format!("/verifications/{id}?lang=en"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        html.contains("Not found.") && html.contains("Request id: "),
        "an error page, with the id to quote: {html}"
    );
}

/// Posts the documents form with the given files; answers where it redirects.
pub(crate) async fn upload(b: &mut Browser, app: &TestApp, id: &str, files: &[&str]) -> String {
    let mut form = reqwest::multipart::Form::new().text("csrf", b.csrf());
    for slot in files {
        form = form.part(
            slot.to_string(),
            reqwest::multipart::Part::bytes(jpeg()).file_name("d.jpg"),
        );
    }
    let res = b
        .client
        .post(app.url(&format!("/verifications/{id}/documents")))
        .header("cookie", b.header())
        .multipart(form)
        .send()
        .await
        .unwrap();
    b.keep(&res);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    res.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_pages_guide_a_card_holder_and_recover_what_was_typed() {
    let app = spawn_app().await;
    let mut b = Browser::open(&app).await;
    let login = "holder@example.com";
    b.post(
        &app,
        "/register?lang=en",
        &[("login", login), ("password", PASSWORD)],
    )
    .await;

    // Nationality by name, in the reader's order; Hong Kong is sent where it belongs.
    let (_, html) = b.get(&app, "/verifications/new").await;
    let at = |name: &str| html.find(&format!("<option value=\"{name}\"")).unwrap();
    assert!(at("Afghanistan") < at("Albania") && at("Albania") < at("Aruba"));
    assert!(at("United States") < at("United States Minor Outlying Islands"));
    assert!(
        !html.contains("<option value=\"Hong Kong\""),
        "not offered as foreign"
    );
    let name = "Maria·Fernanda Gonzalez Rodriguez";
    let identity = |nationality: &'static str| {
        vec![
            ("consent", "true"),
            ("real_name", name),
            ("nationality", nationality),
            ("date_of_birth", "1990-05-17"),
            ("phone", "+852-91234567"),
            ("stay_kind", "permanent_residence_card"),
            ("stay_number", "USA110000000001"),
            ("stay_expiry", FAR_EXPIRY),
            // A passport typed before choosing the card is not asked for and not kept.
            ("passport_number", "E1"),
            ("sex", "female"),
            ("occupation", "other"),
            ("occupation_title", "Diving instructor"),
            ("address", "Room 1201, 88 Jianguo Road, Chaoyang, Beijing"),
            ("pep", "no"),
        ]
    };
    let (_, to) = b
        .post(&app, "/verifications/new", &identity("Hong Kong"))
        .await;
    let (_, html) = b.get(&app, &to).await;
    assert!(html.contains("Mainland Travel Permit"), "{html}");
    assert!(html.contains("value=\"Hong Kong\""), "what was typed stays");
    assert!(
        html.contains("id=\"phone-warning\""),
        "the phone's advice shows beside the errors: {html}"
    );

    // Saved: on to the documents with the phone's advice said; a card holder is asked for the
    // card alone.
    let (_, to) = b
        .post(&app, "/verifications/new", &identity("United States"))
        .await;
    assert!(to.ends_with("/documents"), "{to}");
    let id = to.split('/').nth(2).unwrap().to_owned();
    let (_, html) = b.get(&app, &to).await;
    assert!(
        html.contains("mainland mobile number"),
        "the warning: {html}"
    );
    assert!(html.contains("Permanent Residence ID Card (front)"));
    assert!(!html.contains("name=\"passport_photo_page\""), "{html}");
    let (_, again) = b.get(&app, &to).await;
    assert!(!again.contains("mainland mobile number"), "said once");

    // Next without a file: said at the input, not at the end.
    let to = upload(&mut b, &app, &id, &[]).await;
    assert_eq!(to, format!("/verifications/{id}/documents"));
    let (_, html) = b.get(&app, &to).await;
    assert!(
        html.contains("id=\"stay_permit-error\"") && html.contains("aria-invalid=\"true\""),
        "{html}"
    );
    // The card step waits for the documents.
    let (status, to) = b
        .get_location(&app, &format!("/verifications/{id}/bank_card"))
        .await;
    assert_eq!(
        (status, to.as_str()),
        (
            StatusCode::SEE_OTHER,
            format!("/verifications/{id}/documents").as_str()
        )
    );
    let to = upload(&mut b, &app, &id, &["stay_permit"]).await;
    assert_eq!(to, format!("/verifications/{id}/bank_card"));

    // Every error of a field: Bank of China refuses the dot and the length both.
    let card = |bank: &'static str, number: &'static str| {
        vec![
            ("bank", bank),
            ("card_number", number),
            ("card_type", "savings"),
            ("account_type", "current"),
            ("account_name", name),
        ]
    };
    let path = format!("/verifications/{id}/bank_card");
    let (_, to) = b
        .post(&app, &path, &card("BOC", "6216600000000060012"))
        .await;
    let (_, html) = b.get(&app, &to).await;
    assert!(
        html.contains("dot") && html.contains("China Merchants Bank"),
        "both breaches are said: {html}"
    );

    // The session ends while the card is typed: after logging in, the user is back on the
    // step with the card number kept.
    b.cookies.remove("rn_session");
    let (status, to) = b.post(&app, &path, &card("CMB", "6225880000090002")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        to.starts_with(&format!("/login?next={path}")) && to.ends_with("ended=1"),
        "{to}"
    );
    let (_, html) = b.get(&app, &format!("{to}&lang=en")).await;
    assert!(html.contains("Your session ended"), "{html}");
    let (_, back) = b
        .post(
            &app,
            "/login",
            &[("login", login), ("password", PASSWORD), ("next", &path)],
        )
        .await;
    assert_eq!(back, path);
    let (_, html) = b.get(&app, &path).await;
    assert!(html.contains("value=\"6225880000090002\""), "{html}");

    // Switching language keeps what the form holds.
    let mut fields = card("CMB", "6225880000090002");
    fields[1] = ("card_number", "6225 8800 0009 0002");
    let (_, to) = b
        .post(&app, &format!("/language?to=zh&back={path}"), &fields)
        .await;
    assert_eq!(to, format!("{path}?lang=zh"));
    let (_, html) = b.get(&app, &to).await;
    assert!(html.contains("value=\"6225 8800 0009 0002\"") && html.contains("银行卡号"));

    // Submitted: Submit again, and the steps' pages, lead to the status page, which shows
    // the application read-only.
    let (_, to) = b.post(&app, &path, &card("CMB", "6225880000090002")).await;
    assert_eq!(to, format!("/verifications/{id}/confirm"));
    let (_, to) = b
        .post(&app, &format!("/verifications/{id}/submit"), &[])
        .await;
    assert_eq!(to, format!("/verifications/{id}"));
    let (_, to) = b
        .post(&app, &format!("/verifications/{id}/submit"), &[])
        .await;
    assert_eq!(to, format!("/verifications/{id}"));
    let (_, html) = b.get(&app, &format!("{to}?lang=en")).await;
    assert!(html.contains("submitted already"), "{html}");
    for step in ["identity", "documents", "bank_card", "confirm"] {
        let (status, to) = b
            .get_location(&app, &format!("/verifications/{id}/{step}"))
            .await;
        assert_eq!(
            (status, to),
            (StatusCode::SEE_OTHER, format!("/verifications/{id}"))
        );
    }
    let (_, to) = b.get_location(&app, "/verifications/new").await;
    assert_eq!(to, format!("/verifications/{id}"), "one open application");

    // The bank returns the deposit (the sandbox's card ending 0002: AC04): the account page
    // says why, and applying again starts from what was there, but the card.
    app.advance(0).await;
    let (_, html) = b.get(&app, "/account?lang=en").await;
    // What is held about the user, until when, why, and the consent it rests on.
    assert!(
        html.contains("What we hold about you")
            && html.contains("then erased")
            && html.contains("PIPL art. 19")
            && html.contains("from 127.0.0.1"),
        "{html}"
    );
    assert!(
        html.contains("account is closed") && html.contains("Apply again"),
        "{html}"
    );
    let (_, html) = b.get(&app, "/verifications/new").await;
    assert!(
        html.contains(&format!("value=\"{name}\"")) && html.contains("value=\"USA110000000001\""),
        "pre-filled: {html}"
    );
    assert!(
        !html.contains("name=\"consent\" value=\"true\" checked"),
        "consent is asked anew"
    );
    let based_on = format!("name=\"based_on\" value=\"{id}\"");
    assert!(html.contains(&based_on));
    let mut again = identity("United States");
    again.push(("based_on", &id));
    let (_, to) = b.post(&app, "/verifications/new", &again).await;
    assert!(
        to.ends_with("/bank_card"),
        "the document photos came along: {to}"
    );
    let (_, html) = b.get(&app, &to).await;
    assert!(
        !html.contains("6225880000090002"),
        "a returned card is not offered again"
    );

    // A quarter of an hour before the session ends, the pages say so.
    let (_, html) = b.get(&app, "/account?lang=en").await;
    assert!(!html.contains("Your session ends at"));
    app.advance(12 * 3600 - 10 * 60).await;
    let (_, html) = b.get(&app, "/account?lang=en").await;
    assert!(html.contains("Your session ends at"), "{html}");
}
