//! The contact phone number (CONTRACT 2.2).

use std::fmt;

use phonenumber::{PhoneNumber, Type, metadata::DATABASE};
use unicode_normalization::UnicodeNormalization;

use crate::codes::Code;

pub const MAX_PHONE_DIGITS: usize = 20;
const MAINLAND: u16 = 86;
const RECOMMENDED_MAINLAND_PREFIXES: [&str; 4] = ["13", "14", "15", "18"];

/// A contact phone number that can exist, kept in E.164 form (`+8613800138000`).
/// `Debug` masks it, so it cannot leak through a log line.
/// Stored sealed with what validation found, so that reading it back does not run the
/// metadata's regexes again (that was the largest single cost of a read).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Phone {
    e164: String,
    country_code: u16,
    national: String,
    mainland_mobile: bool,
}

/// A phone that passed, with the advice that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPhone {
    pub phone: Phone,
    /// `phone_not_recommended` when the number is not a mainland mobile on 13/14/15/18.
    pub warning: Option<Code>,
}

impl Phone {
    pub fn parse(input: &str) -> Result<ParsedPhone, Vec<Code>> {
        let text = normalised(input);
        let text = text.trim();
        if text.is_empty() {
            return Err(vec![Code::FieldRequired]);
        }
        let mut codes = Vec::new();
        let well_formed = text
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || c == '-' || (c == '+' && i == 0));
        if !well_formed {
            codes.push(Code::PhoneInvalidCharacters);
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() > MAX_PHONE_DIGITS {
            codes.push(Code::PhoneTooLong);
        }
        if !codes.is_empty() {
            return Err(codes);
        }
        let international = text.starts_with('+');
        if !international && !looks_mainland(&digits) {
            return Err(vec![Code::PhoneNeedsCountryCode]);
        }
        let full = if international {
            format!("+{digits}")
        } else {
            format!("+86{digits}")
        };
        let number = phonenumber::parse(None, &full).map_err(|_| vec![Code::PhoneInvalid])?;
        if !number.is_valid() {
            return Err(vec![Code::PhoneInvalid]);
        }
        let phone = Phone::from_number(&number);
        // Without a country code the number claims to be a mainland mobile; it must be one.
        if !international && !phone.mainland_mobile {
            return Err(vec![Code::PhoneInvalid]);
        }
        let recommended = phone.mainland_mobile
            && RECOMMENDED_MAINLAND_PREFIXES
                .iter()
                .any(|p| phone.national.starts_with(p));
        let warning = (!recommended).then_some(Code::PhoneNotRecommended);
        Ok(ParsedPhone { phone, warning })
    }

    fn from_number(number: &PhoneNumber) -> Phone {
        let country_code = number.code().value();
        let national = number.national().value().to_string();
        let mainland_mobile =
            country_code == MAINLAND && number.number_type(&DATABASE) == Type::Mobile;
        Phone {
            e164: format!("+{country_code}{national}"),
            country_code,
            national,
            mainland_mobile,
        }
    }

    /// The E.164 form, for storage (encrypted) and for the reviewer.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    pub fn is_mainland_mobile(&self) -> bool {
        self.mainland_mobile
    }

    /// `+86 138****8000`: the country code, the first three and the last four digits.
    pub fn masked(&self) -> String {
        masked(self.country_code, &self.national)
    }

    /// The mask of a number that was validated when it was stored, without validating it
    /// again: full validation (metadata regexes) was the largest single cost of answering a
    /// read. `None` when no country code can be told apart.
    pub fn mask_stored(input: &str) -> Option<String> {
        let text = normalised(input);
        let text = text.trim();
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if !text.starts_with('+') {
            return looks_mainland(&digits).then(|| masked(MAINLAND, &digits));
        }
        // Country calling codes are prefix-free: the first known prefix is the code.
        (1..=3.min(digits.len())).find_map(|len| {
            let code: u16 = digits[..len].parse().ok()?;
            DATABASE.by_code(&code)?;
            Some(masked(code, &digits[len..]))
        })
    }
}

/// Full-width digits and plus signs are what a Chinese keyboard types.
fn normalised(input: &str) -> String {
    input.nfkc().collect()
}

/// Without a country code, only a mainland mobile's shape is accepted.
fn looks_mainland(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with('1')
}

fn masked(country_code: u16, national: &str) -> String {
    let len = national.len();
    if len <= 7 {
        let shown = len.saturating_sub(4).min(len);
        return format!(
            "+{country_code} {}{}",
            "*".repeat(shown),
            &national[shown..]
        );
    }
    format!(
        "+{country_code} {}{}{}",
        &national[..3],
        "*".repeat(len - 7),
        &national[len - 4..]
    )
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(input: &str) -> ParsedPhone {
        match Phone::parse(input) {
            Ok(p) => p,
            Err(codes) => panic!("{input} refused: {codes:?}"),
        }
    }

    #[test]
    fn mainland_mobiles_without_country_code() {
        let p = ok("13800138000");
        assert_eq!(p.phone.e164(), "+8613800138000");
        assert!(p.phone.is_mainland_mobile());
        assert_eq!(p.warning, None);
        assert_eq!(ok("138-0013-8000").phone.e164(), "+8613800138000");
        assert_eq!(ok("１３８００１３８０００").phone.e164(), "+8613800138000");
        for n in ["14512345678", "15012345678", "18912345678"] {
            assert_eq!(ok(n).warning, None, "{n}");
        }
    }

    #[test]
    fn plus_86_numbers_are_mainland_numbers() {
        let p = ok("+86-138-0013-8000");
        assert!(p.phone.is_mainland_mobile());
        assert_eq!(p.warning, None);
    }

    #[test]
    fn newer_mainland_prefixes_are_accepted_with_advice() {
        for n in [
            "16612345678",
            "17312345678",
            "19912345678",
            "+8619212345678",
        ] {
            let p = ok(n);
            assert!(p.phone.is_mainland_mobile(), "{n}");
            assert_eq!(p.warning, Some(Code::PhoneNotRecommended), "{n}");
        }
    }

    #[test]
    fn overseas_numbers_need_their_code_and_are_advised_against() {
        assert_eq!(
            Phone::parse("91234567"),
            Err(vec![Code::PhoneNeedsCountryCode])
        );
        assert_eq!(
            Phone::parse("0085291234567"),
            Err(vec![Code::PhoneNeedsCountryCode])
        );
        assert_eq!(
            Phone::parse("1380013800"),
            Err(vec![Code::PhoneNeedsCountryCode])
        );
        let hk = ok("+852-9123-4567");
        assert_eq!(hk.phone.e164(), "+85291234567");
        assert!(!hk.phone.is_mainland_mobile());
        assert_eq!(hk.warning, Some(Code::PhoneNotRecommended));
        assert_eq!(
            ok("+1-202-555-0143").warning,
            Some(Code::PhoneNotRecommended)
        );
        // A mainland landline is real but not a mobile.
        assert_eq!(
            ok("+86-10-6552-9988").warning,
            Some(Code::PhoneNotRecommended)
        );
    }

    #[test]
    fn characters_and_length() {
        for bad in [
            "138 0013 8000",
            "(138)00138000",
            "1380013800a",
            "86+13800138000",
            "++8613800138000",
        ] {
            assert_eq!(
                Phone::parse(bad),
                Err(vec![Code::PhoneInvalidCharacters]),
                "{bad}"
            );
        }
        assert_eq!(
            Phone::parse(&format!("+{}", "1".repeat(21))),
            Err(vec![Code::PhoneTooLong])
        );
        assert_eq!(
            Phone::parse(&format!("+a{}", "1".repeat(21))),
            Err(vec![Code::PhoneInvalidCharacters, Code::PhoneTooLong])
        );
        assert_eq!(Phone::parse("  "), Err(vec![Code::FieldRequired]));
    }

    #[test]
    fn numbers_that_cannot_exist() {
        for bad in [
            "12345678901",
            "10012345678",
            "+8614612345678",
            "+8617406123456",
            "+999123456",
            "+852123",
        ] {
            assert_eq!(Phone::parse(bad), Err(vec![Code::PhoneInvalid]), "{bad}");
        }
    }

    #[test]
    fn stored_numbers_of_many_countries_mask_as_parsed() {
        for input in [
            "13800138000",
            "+86-138-0013-8000",
            "+44-7911-123456",
            "+1-415-555-2671",
            "+852-5123-4567",
            "+81-90-1234-5678",
            "＋４９１５１２３４５６７８９",
        ] {
            let parsed = Phone::parse(input).unwrap().phone;
            assert_eq!(Phone::mask_stored(input), Some(parsed.masked()), "{input}");
        }
        assert_eq!(Phone::mask_stored("12345"), None);
    }

    #[test]
    fn masked_and_debug_hide_the_middle() {
        let p = ok("13800138000").phone;
        assert_eq!(p.masked(), "+86 138****8000");
        assert_eq!(format!("{p:?}"), "Phone(+86 138****8000)");
        assert!(!format!("{p:?}").contains("13800138000"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "\\PC{0,30}") {
            let _ = Phone::parse(&input);
        }

        #[test]
        fn digit_strings_never_panic(input in "\\+?[0-9-]{0,24}") {
            let _ = Phone::mask_stored(&input);
            if let Ok(p) = Phone::parse(&input) {
                let _ = p.phone.masked();
            }
        }

        /// The quick mask of a stored number is the validated number's own mask.
        #[test]
        fn stored_numbers_mask_as_parsed(
            input in "(\\+(1|44|49|81|82|852|86|7|65|971)-?)?1[3-9][0-9]{9}",
        ) {
            if let Ok(p) = Phone::parse(&input) {
                prop_assert_eq!(Phone::mask_stored(&input), Some(p.phone.masked()));
            }
        }
    }
}
