//! The applicant's real name (CONTRACT 2.1): its stored form, its comparison key, and the
//! properties banks care about (dots, Latin letters, length).

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_script::{Script, UnicodeScript};

use crate::codes::Code;

pub const MIN_NAME_CHARS: usize = 2;
pub const MAX_NAME_CHARS: usize = 64;

/// Every character that counts as a name dot. U+00B7 is the national standard separator and
/// the one the comparison key uses for all of them.
const DOTS: [char; 6] = [
    '\u{00B7}', '\u{30FB}', '\u{2022}', '\u{FF0E}', '\u{2027}', '.',
];
const KEY_DOT: char = '\u{00B7}';
const HYPHENS: [char; 4] = ['-', '\u{FF0D}', '\u{2010}', '\u{2011}'];

/// A real name that satisfies every rule of CONTRACT 2.1. Its `Display` is the normalised
/// form that is stored and shown (a name is not masked: the user and the bank both see it).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RealName {
    text: String,
}

/// Stored as the normalised form, and read back through the same rules.
impl serde::Serialize for RealName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for RealName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        RealName::parse(&text)
            .map_err(|_| serde::de::Error::custom("a stored name that breaks the rules"))
    }
}

impl RealName {
    /// Normalises `input` and checks it, reporting every broken rule.
    pub fn parse(input: &str) -> Result<RealName, Vec<Code>> {
        let text = normalise(input);
        let mut codes = Vec::new();
        if !valid_characters(&text) {
            codes.push(Code::NameInvalidCharacters);
        }
        let len = text.chars().count();
        if len < MIN_NAME_CHARS {
            codes.push(Code::NameTooShort);
        }
        if len > MAX_NAME_CHARS {
            codes.push(Code::NameTooLong);
        }
        if codes.is_empty() {
            Ok(RealName { text })
        } else {
            Err(codes)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key under which two spellings of one name are the same name.
    pub fn key(&self) -> String {
        comparison_key(&self.text)
    }

    pub fn same_as(&self, other: &RealName) -> bool {
        self.key() == other.key()
    }

    /// Length in Unicode characters of the normalised name, spaces and dots included.
    pub fn char_count(&self) -> usize {
        self.text.chars().count()
    }

    pub fn has_dot(&self) -> bool {
        self.text.chars().any(|c| DOTS.contains(&c))
    }

    pub fn has_latin_letter(&self) -> bool {
        self.text.chars().any(|c| c.script() == Script::Latin)
    }
}

impl fmt::Display for RealName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for RealName {
    // A name alone identifies nobody well, but logs have no need of it either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RealName({} chars)", self.char_count())
    }
}

/// The stored form: NFC, trimmed, every run of white space folded to one space.
pub fn normalise(input: &str) -> String {
    let nfc: String = input.nfc().collect();
    fold_whitespace(&nfc)
}

fn fold_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The comparison key of CONTRACT 2.1: NFKC, every dot form to U+00B7, every hyphen form to
/// `-`, white space folded, Latin letters upper-cased.
pub fn comparison_key(input: &str) -> String {
    let mapped: String = input
        .nfkc()
        .map(|c| {
            if DOTS.contains(&c) {
                KEY_DOT
            } else if HYPHENS.contains(&c) {
                '-'
            } else {
                c
            }
        })
        .collect();
    let mut key = String::with_capacity(mapped.len());
    for c in fold_whitespace(&mapped).chars() {
        if c.script() == Script::Latin {
            key.extend(c.to_uppercase());
        } else {
            key.push(c);
        }
    }
    key
}

/// Han characters, Latin letters (a combining mark may follow a letter: a diacritic without a
/// precomposed form), spaces, dots and hyphens.
fn valid_characters(text: &str) -> bool {
    let mut after_letter = false;
    for c in text.chars() {
        if is_combining_mark(c) {
            if after_letter {
                continue;
            }
            return false;
        }
        let script = c.script();
        let ok = match script {
            Script::Han => true,
            Script::Latin => c.is_alphabetic(),
            _ => c == ' ' || DOTS.contains(&c) || HYPHENS.contains(&c),
        };
        if !ok {
            return false;
        }
        after_letter = script == Script::Latin;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn name(text: &str) -> RealName {
        match RealName::parse(text) {
            Ok(n) => n,
            Err(codes) => panic!("{text:?} refused with {codes:?}"),
        }
    }

    #[test]
    fn stored_form_is_nfc_trimmed_and_folded() {
        assert_eq!(name("  John \t  Smith ").as_str(), "John Smith");
        // e + combining acute composes to é.
        assert_eq!(name("Jose\u{301} Li").as_str(), "Jos\u{e9} Li");
        // An ideographic space is white space too.
        assert_eq!(name("伊万\u{3000}彼得罗夫").as_str(), "伊万 彼得罗夫");
    }

    #[test]
    fn accepts_han_latin_diacritics_spaces_dots_and_hyphens() {
        for ok in [
            "张伟",
            "John Smith",
            "Zoë Ångström-Øvergård",
            "Marie-Thérèse O Neill",
            "伊万·彼得罗夫",
            "伊万・彼得罗夫",
            "伊万•彼得罗夫",
            "伊万．彼得罗夫",
            "伊万‧彼得罗夫",
            "J. R. Tolkien",
            "ＪＯＨＮ　ＳＭＩＴＨ",
            "Nguyễn Văn A",
            "Anna‐Lena",
            "〇一",
            "Ş\u{30C}ahin",
        ] {
            name(ok);
        }
    }

    #[test]
    fn refuses_other_characters() {
        for bad in [
            "JOHN_SMITH",
            "JOHN@SMITH",
            "约翰 史密斯 3",
            "Иван Петров",
            "O'Connor",
            "田中さん",
            "John\u{200B}Smith",
            "\u{301}ab",
            "Jo\u{200D}hn",
        ] {
            assert_eq!(
                RealName::parse(bad),
                Err(vec![Code::NameInvalidCharacters]),
                "{bad}"
            );
        }
    }

    #[test]
    fn length_bounds_count_characters_of_the_normalised_name() {
        assert_eq!(RealName::parse("A"), Err(vec![Code::NameTooShort]));
        assert_eq!(RealName::parse("   张  "), Err(vec![Code::NameTooShort]));
        assert_eq!(RealName::parse(""), Err(vec![Code::NameTooShort]));
        name("A B");
        name("王五");
        let sixty_four = "A".repeat(64);
        assert_eq!(name(&sixty_four).char_count(), 64);
        assert_eq!(
            RealName::parse(&"A".repeat(65)),
            Err(vec![Code::NameTooLong])
        );
        // Multi-byte characters count once each.
        name(&"张".repeat(64));
        assert_eq!(
            RealName::parse(&"张".repeat(65)),
            Err(vec![Code::NameTooLong])
        );
        // Both breaches at once.
        assert_eq!(
            RealName::parse("@"),
            Err(vec![Code::NameInvalidCharacters, Code::NameTooShort])
        );
    }

    #[test]
    fn every_dot_form_compares_equal() {
        let standard = name("伊万·彼得罗夫");
        for other in [
            "伊万・彼得罗夫",
            "伊万•彼得罗夫",
            "伊万．彼得罗夫",
            "伊万‧彼得罗夫",
            "伊万.彼得罗夫",
        ] {
            assert!(standard.same_as(&name(other)), "{other}");
        }
        assert!(!standard.same_as(&name("伊万彼得罗夫")));
    }

    #[test]
    fn full_width_case_hyphens_and_spaces_compare_equal() {
        assert!(name("ＪＯＨＮ　ＳＭＩＴＨ").same_as(&name("John  Smith")));
        assert!(name("anna-lena").same_as(&name("ANNA‐LENA")));
        assert!(name("anna－lena").same_as(&name("Anna‑Lena")));
        assert!(name("zoë").same_as(&name("ZOË")));
        assert!(!name("John Smith").same_as(&name("JohnSmith")));
        assert!(!name("Muller").same_as(&name("Müller")));
    }

    #[test]
    fn dots_and_latin_letters_are_seen() {
        assert!(name("伊万・彼得罗夫").has_dot());
        assert!(!name("张伟").has_dot());
        assert!(name("张Wei").has_latin_letter());
        assert!(name("ＪＯＨＮ").has_latin_letter());
        assert!(!name("张伟").has_latin_letter());
    }

    #[test]
    fn debug_does_not_print_the_name() {
        assert_eq!(format!("{:?}", name("张伟")), "RealName(2 chars)");
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "\\PC*") {
            let _ = RealName::parse(&input);
            let _ = comparison_key(&input);
        }

        #[test]
        fn normalisation_is_idempotent(input in "\\PC*") {
            let once = normalise(&input);
            prop_assert_eq!(normalise(&once), once.clone());
            let key = comparison_key(&input);
            prop_assert_eq!(comparison_key(&key), key);
        }

        #[test]
        fn a_valid_name_parses_to_itself(input in "[a-zA-Zé张王·・ .-]{0,70}") {
            if let Ok(n) = RealName::parse(&input) {
                prop_assert_eq!(RealName::parse(n.as_str()), Ok(n.clone()));
            }
        }
    }
}
