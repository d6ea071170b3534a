//! The pages' own static files, served under names that carry a hash of their content, so a
//! browser keeps each for a year and a new build is fetched at once.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    /// `app.1a2b3c4d5e.css`
    name: String,
    path: String,
    content_type: &'static str,
    body: &'static str,
}

impl Asset {
    fn new(stem: &str, extension: &str, content_type: &'static str, body: &'static str) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
        let name = format!("{stem}.{hash}.{extension}");
        Asset {
            path: format!("/static/{name}"),
            name,
            content_type,
            body,
        }
    }
}

static STYLESHEET: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "app",
        "css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    )
});

static REFRESH: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "refresh",
        "js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/refresh.js"),
    )
});

pub fn stylesheet_path() -> &'static str {
    &STYLESHEET.path
}

pub fn refresh_script_path() -> &'static str {
    &REFRESH.path
}

pub async fn serve(Path(name): Path<String>) -> Response {
    let assets = [&*STYLESHEET, &*REFRESH];
    if let Some(asset) = assets.iter().find(|a| a.name == name) {
        return (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            asset.body,
        )
            .into_response();
    }
    // The unhashed name of a page cached before a deploy: served, briefly cached.
    if name == "app.css" {
        return (
            [
                (header::CONTENT_TYPE, STYLESHEET.content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            STYLESHEET.body,
        )
            .into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}
