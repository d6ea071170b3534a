//! What a form post hands to the page it redirects to (Post/Redirect/Get): the values typed,
//! every error and warning in both languages, and a notice. It rides in a short-lived cookie,
//! sealed under the data key, so Back and Reload only ever repeat a GET, any node can show it,
//! and the service stores nothing. A flash belongs to one page and is spent when that page
//! shows it.

use axum::http::HeaderValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::{Lang, set_cookie};
use crate::state::AppState;

pub const FLASH_COOKIE: &str = "rn_flash";
/// Long enough to log in again after a session ended mid-step, short enough not to linger.
const FLASH_SECONDS: i64 = 15 * 60;
/// Browsers keep cookies of up to about 4 KB; a flash that would not fit drops its values.
const MOST_COOKIE_BYTES: usize = 3800;

/// A message in both languages, so that switching language keeps it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Said {
    /// The form input it belongs to; empty for the whole form.
    pub field: String,
    pub en: String,
    pub zh: String,
}

impl Said {
    pub fn in_lang(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// Something to tell the user on the page they land on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// The step's form was sent after the application had been submitted.
    AlreadySubmitted,
    Cancelled,
    /// A later step was opened before an earlier one was done.
    DocumentsFirst,
    CardFirst,
    AlreadyVerified,
    Blocked,
    /// The identity was saved, with a warning worth reading.
    SavedWithWarning,
    Claimed,
    Decided,
    LoggedOut,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Flash {
    /// The path of the page this flash is for.
    pub path: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Said>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Said>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<Notice>,
}

impl Flash {
    pub fn to(path: impl Into<String>) -> Flash {
        Flash {
            path: path.into(),
            ..Flash::default()
        }
    }

    pub fn with_values(mut self, values: Vec<(String, String)>) -> Flash {
        self.values = values;
        self
    }

    pub fn with_errors(mut self, errors: Vec<Said>) -> Flash {
        self.errors = errors;
        self
    }

    pub fn with_warnings(mut self, warnings: Vec<Said>) -> Flash {
        self.warnings = warnings;
        self
    }

    pub fn with_notice(mut self, notice: Notice) -> Flash {
        self.notice = Some(notice);
        self
    }

    /// What was typed into the field `name`, as a flash (if any) handed it back.
    pub fn typed(flash: Option<&Flash>, name: &str) -> String {
        flash
            .and_then(|f| f.values.iter().find(|(k, _)| k == name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The cookie that carries it, sealed; a flash too large for a cookie keeps its messages
    /// and drops what was typed.
    pub fn cookie(&self, state: &AppState) -> Option<HeaderValue> {
        let sealed = |flash: &Flash| {
            let json = serde_json::to_vec(flash).ok()?;
            let sealed = state.app.seal_flash(&json).ok()?;
            Some(URL_SAFE_NO_PAD.encode(sealed))
        };
        let mut value = sealed(self)?;
        if value.len() > MOST_COOKIE_BYTES {
            let lean = Flash {
                values: Vec::new(),
                ..self.clone()
            };
            value = sealed(&lean)?;
        }
        Some(set_cookie(FLASH_COOKIE, &value, Some(FLASH_SECONDS), "Lax"))
    }

    /// The flash a cookie carries, if this deployment sealed it.
    pub fn open(state: &AppState, cookie: &str) -> Option<Flash> {
        let sealed = URL_SAFE_NO_PAD.decode(cookie).ok()?;
        let json = state.app.open_flash(&sealed)?;
        serde_json::from_slice(&json).ok()
    }

    pub fn spent() -> HeaderValue {
        set_cookie(FLASH_COOKIE, "", Some(0), "Lax")
    }
}

/// A form's fields as pairs, to hand back to its page (the CSRF token is not handed on).
pub fn pairs_of<T: Serialize>(form: &T) -> Vec<(String, String)> {
    serde_urlencoded::to_string(form)
        .ok()
        .and_then(|text| serde_urlencoded::from_str::<Vec<(String, String)>>(&text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "csrf")
        .collect()
}

/// The form a flash handed back, read as the page's own form type.
pub fn restore<T: serde::de::DeserializeOwned>(flash: &Flash) -> Option<T> {
    if flash.values.is_empty() {
        return None;
    }
    let text = serde_urlencoded::to_string(&flash.values).ok()?;
    serde_urlencoded::from_str(&text).ok()
}

/// A path of this site to go to next: local, never another origin (`//host` or `/\host`).
pub fn local_path(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path("/verifications/1/bank_card"),
            Some("/verifications/1/bank_card")
        );
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "",
            "x",
            "/a\nb",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }
}
