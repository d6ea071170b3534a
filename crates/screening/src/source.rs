use std::fmt;

/// A list source: one list that is imported, versioned and replaced on its own, so loading
/// one never delists another's entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// The UN Security Council Consolidated List, as published in XML.
    Un,
    /// OFAC's SDN data set: the primary list, aliases and addresses as CSV.
    Ofac,
    /// A list in realname's JSON Lines format, named by the operator (`national:mps`).
    National(String),
}

/// What a potential match of a source does to its subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Stops the subject until a reviewer decides (binding lists).
    Hold,
    /// Informs the reviewer and the risk grade; stops nothing.
    Flag,
}

impl Action {
    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "hold" => Some(Action::Hold),
            "flag" => Some(Action::Flag),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Hold => "hold",
            Action::Flag => "flag",
        }
    }
}

impl Source {
    /// `un`, `ofac` or `national:NAME` (NAME of 1–32 lower-case letters, digits, `_`, `-`).
    pub fn parse(s: &str) -> Option<Source> {
        match s {
            "un" => Some(Source::Un),
            "ofac" => Some(Source::Ofac),
            _ => {
                let name = s.strip_prefix("national:")?;
                let fine = (1..=32).contains(&name.len())
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                    });
                fine.then(|| Source::National(name.to_owned()))
            }
        }
    }

    /// What its hits do unless configured otherwise: the UN's and China's own lists bind a
    /// payment institution in China and hold; OFAC's is a unilateral foreign list that is not
    /// binding there (the Anti-Foreign Sanctions Law, art. 12), so it informs and never stops
    /// service by itself.
    pub fn default_action(&self) -> Action {
        match self {
            Source::Un | Source::National(_) => Action::Hold,
            Source::Ofac => Action::Flag,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Un => f.write_str("un"),
            Source::Ofac => f.write_str("ofac"),
            Source::National(name) => write!(f, "national:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_by_name() {
        assert_eq!(Source::parse("un"), Some(Source::Un));
        assert_eq!(
            Source::parse("national:mps"),
            Some(Source::National("mps".into()))
        );
        assert_eq!(Source::parse("national:"), None);
        assert_eq!(Source::parse("national:MPS"), None);
        assert_eq!(Source::parse("eu"), None);
        assert_eq!(Source::National("pboc".into()).to_string(), "national:pboc");
        assert_eq!(Source::Ofac.default_action(), Action::Flag);
        assert_eq!(
            Source::parse("national:x").map(|s| s.default_action()),
            Some(Action::Hold)
        );
    }
}
