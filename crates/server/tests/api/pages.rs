//! The pages over HTTP: language, cookies, CSRF and security headers. (Browser tests of the
//! whole journey come with the rest of the pages.)

use reqwest::{StatusCode, header};

use crate::helpers::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn value(cookie: &str) -> String {
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
    let csrf = set_cookie(&res, "rn_csrf").expect("a CSRF cookie");
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
    let csrf = value(&set_cookie(&res, "rn_csrf").unwrap());
    let cookie = format!("rn_csrf={csrf}");

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

    // A breach shows next to its field, in the page's language, keeping what was typed.
    let weak = client
        .post(app.url("/register?lang=zh"))
        .header("cookie", &cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "web@example.com"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = weak.text().await.unwrap();
    assert!(
        html.contains("密码至少需要 8 个字符") && html.contains("value=\"web@example.com\""),
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
    let cookies = format!("{cookie}; {}", session.split(';').next().unwrap());

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
    let out = client
        .post(app.url("/logout"))
        .header("cookie", &cookies)
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
    assert_eq!(gone.headers()["location"], "/login");
}

#[tokio::test]
async fn a_wrong_password_is_said_on_the_login_page() {
    let app = spawn_app().await;
    app.register("pw@example.com").await;
    let client = no_redirects();
    let res = client.get(app.url("/login")).send().await.unwrap();
    let csrf = value(&set_cookie(&res, "rn_csrf").unwrap());
    let wrong = client
        .post(app.url("/login?lang=en"))
        .header("cookie", format!("rn_csrf={csrf}"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("login", "pw@example.com"),
            ("password", "not my password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("The login or password is wrong.")
            && html.contains("value=\"pw@example.com\"")
    );
}
