//! Staff sign in with a second factor (CONTRACT 4): a code of real time, each used once per
//! account on every node, replaced by `realname staff totp`, ended by `realname staff disable`.

use realname_app::second_factor::Authenticator;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn sign_in(app: &TestApp, base: &str, body: Value) -> (StatusCode, Value) {
    let res = app
        .client
        .post(format!("{base}/v1/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    read(res).await
}

fn with_code(code: &str) -> Value {
    json!({"login": "rita", "password": PASSWORD, "totp": code})
}

#[tokio::test]
async fn staff_need_a_fresh_code_of_real_time_and_a_new_factor_ends_the_old_one() {
    let app = spawn_app().await;
    app.staff("rita", "reviewer").await;

    let (status, body) = sign_in(
        &app,
        &app.base,
        json!({"login": "rita", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no code: {body}");
    assert_eq!(body["error"]["code"], "invalid_credentials");
    let code = app.totp("rita").await;
    let wrong: String = code
        .chars()
        .map(|c| char::from(b'0' + (c as u8 - b'0' + 5) % 10))
        .collect();
    let (status, _) = sign_in(&app, &app.base, with_code(&wrong)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong code");
    let (status, body) = sign_in(&app, &app.base, with_code(&code)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = sign_in(&app, &app.base, with_code(&code)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a code opens one session");

    // A new second factor: the old one's codes stop at once, the new one's open.
    let old = app.totp("rita").await;
    let config = config(app.dir.path(), &[]);
    let uri = realname_server::staff::new_second_factor(&config, "rita")
        .await
        .expect("new factor");
    assert!(
        uri.starts_with("otpauth://totp/realname:rita?secret=")
            && uri.ends_with("&issuer=realname"),
        "{uri}"
    );
    let (status, _) = sign_in(&app, &app.base, with_code(&old)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the replaced factor");
    let mut new = Authenticator::from_uri(&uri).expect("uri");
    let (status, body) = sign_in(&app, &app.base, with_code(&new.code().await)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Ten days on the sandbox clock: the codes still follow real time.
    app.advance(10 * 86_400).await;
    let (status, body) = sign_in(&app, &app.base, with_code(&new.code().await)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let (status, _) = app.get("/v1/review/cases", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);

    // Disabled: its sessions end at once and it cannot sign in again.
    realname_server::staff::disable(&config, "rita")
        .await
        .expect("disable");
    let (status, _) = app.get("/v1/review/cases", Some(&token)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a disabled account's session"
    );
    let (status, _) = sign_in(&app, &app.base, with_code(&new.code().await)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a disabled account");
}

#[tokio::test]
async fn missing_codes_count_as_failures_and_a_code_sent_to_two_nodes_opens_one_session() {
    let app = spawn_app().await;
    app.staff("rita", "reviewer").await;
    let (other_base, stop) = second_node(&app, &[]).await;

    let code = app.totp("rita").await;
    let (first, second) = tokio::join!(
        sign_in(&app, &app.base, with_code(&code)),
        sign_in(&app, &other_base, with_code(&code)),
    );
    let mut statuses = [first.0, second.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::UNAUTHORIZED],
        "{first:?} {second:?}"
    );

    // The code sent twice was a failed sign-in on the node that lost, and so is the right
    // password without a code: the fifth failure locks.
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, _) = sign_in(
            &app,
            &app.base,
            json!({"login": "rita", "password": PASSWORD}),
        )
        .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    let _ = stop.send(());
}
