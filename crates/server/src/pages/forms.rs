//! A form's errors and warnings as its page shows them: every message of every field, each
//! next to its input and tied to it for screen readers, and a summary at the top that links
//! to each field.

use realname_app::AppError;
use realname_core::{Breach, Code};

use super::Lang;
use super::flash::Said;

/// Every error and warning of a form, in the page's language. An entry with an empty field is
/// about the whole form.
pub struct FormErrors {
    pub lang: Lang,
    pub errors: Vec<Said>,
    pub warnings: Vec<Said>,
}

/// One line of the error summary: the message and the input it links to.
pub struct SummaryLine {
    pub href: String,
    pub text: String,
}

impl FormErrors {
    pub fn new(lang: Lang, errors: Vec<Said>, warnings: Vec<Said>) -> FormErrors {
        FormErrors {
            lang,
            errors,
            warnings,
        }
    }

    pub fn any(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Every error of one input.
    pub fn of(&self, name: &str) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|s| s.field == name)
            .map(|s| s.in_lang(self.lang))
            .collect()
    }

    /// Every warning of one input.
    pub fn warnings_of(&self, name: &str) -> Vec<&str> {
        self.warnings
            .iter()
            .filter(|s| s.field == name)
            .map(|s| s.in_lang(self.lang))
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.errors.iter().any(|s| s.field == name)
    }

    /// The ids an input's `aria-describedby` names: its errors, its warnings, its hint.
    pub fn described_by(&self, name: &str, has_hint: bool) -> String {
        let mut ids = Vec::new();
        if self.has(name) {
            ids.push(format!("{name}-error"));
        }
        if self.warnings.iter().any(|s| s.field == name) {
            ids.push(format!("{name}-warning"));
        }
        if has_hint {
            ids.push(format!("{name}-hint"));
        }
        ids.join(" ")
    }

    /// The summary's lines, each linking to its input (a message for the whole form links to
    /// `fallback`, where the user can act on it).
    pub fn summary(&self, fallback: &str) -> Vec<SummaryLine> {
        self.errors
            .iter()
            .map(|s| SummaryLine {
                href: if s.field.is_empty() {
                    fallback.to_owned()
                } else {
                    format!("#{}", s.field)
                },
                text: s.in_lang(self.lang).to_owned(),
            })
            .collect()
    }
}

/// A breach, said in both languages next to the input `field`.
pub fn said(field: &str, breach: &Breach) -> Said {
    Said {
        field: field.to_owned(),
        en: breach.message_en(),
        zh: breach.message_zh(),
    }
}

/// A code's own message, next to the input `field`.
pub fn said_code(field: &str, code: Code) -> Said {
    Said {
        field: field.to_owned(),
        en: code.message_en().to_owned(),
        zh: code.message_zh().to_owned(),
    }
}

/// Every breach of an error, each next to its input as `to_input` names it; an error without
/// breaches is said for the whole form.
pub fn said_all(error: &AppError, to_input: impl Fn(&str, Code) -> String) -> Vec<Said> {
    if error.details.is_empty() {
        return vec![said_code("", error.code)];
    }
    error
        .details
        .iter()
        .map(|b| said(&to_input(&b.field, b.code), b))
        .collect()
}
