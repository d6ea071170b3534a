//! Bank card numbers and the card's declared type and account type (CONTRACT 2.5).

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// 16–19 digits. Whether the Luhn check applies is the bank policy's call, so a `CardNumber`
/// only promises its shape; see [`luhn_valid`]. `Debug` shows the last 4 digits only.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CardNumber(String);

impl CardNumber {
    /// Spaces are allowed and ignored; full-width digits are folded.
    pub fn parse(input: &str) -> Option<CardNumber> {
        let digits: String = input.nfkc().filter(|c| !c.is_whitespace()).collect();
        let ok = (16..=19).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
        ok.then_some(CardNumber(digits))
    }

    /// The plain number, for the vault and the payout rail only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last4(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    pub fn luhn_valid(&self) -> bool {
        luhn_valid(&self.0)
    }

    pub fn masked(&self) -> String {
        format!("**** {}", self.last4())
    }
}

/// Stored sealed, as the plain digits.
impl serde::Serialize for CardNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CardNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        CardNumber::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("a stored card number of the wrong shape"))
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

/// The Luhn (mod 10) check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// What the user says the card is. Only `savings` can be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CardType {
    Savings,
    Passbook,
    Credit,
}

impl CardType {
    pub fn parse(input: &str) -> Option<CardType> {
        match input.trim() {
            "savings" => Some(CardType::Savings),
            "passbook" => Some(CardType::Passbook),
            "credit" => Some(CardType::Credit),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Savings => "savings",
            CardType::Passbook => "passbook",
            CardType::Credit => "credit",
        }
    }
}

/// The kind of deposit account behind a savings card: current (活期) or fixed-term (定期).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AccountType {
    Current,
    Fixed,
}

impl AccountType {
    pub fn parse(input: &str) -> Option<AccountType> {
        match input.trim() {
            "current" => Some(AccountType::Current),
            "fixed" => Some(AccountType::Fixed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Current => "current",
            AccountType::Fixed => "fixed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn card_numbers_are_16_to_19_digits_with_spaces_ignored() {
        let card = CardNumber::parse("6222 0200 0000 0000 018");
        assert_eq!(
            card.as_ref().map(CardNumber::expose),
            Some("6222020000000000018")
        );
        assert!(CardNumber::parse("６２２５８８００００００００１９").is_some());
        assert!(CardNumber::parse("622202000000001").is_none()); // 15
        assert!(CardNumber::parse("62220200000000000180").is_none()); // 20
        assert!(CardNumber::parse("6222-0200-0000-0000-018").is_none());
        assert!(CardNumber::parse("").is_none());
    }

    #[test]
    fn luhn_vectors() {
        for ok in [
            "6222020000000000018",
            "6225880000000019",
            "60142800000000014",
            "4111111111111111",
        ] {
            assert!(luhn_valid(ok), "{ok}");
        }
        for bad in ["6222020000000000019", "6222021234567890123", "", "12a4"] {
            assert!(!luhn_valid(bad), "{bad}");
        }
    }

    #[test]
    fn debug_and_mask_show_only_the_last_four() {
        let card = CardNumber::parse("6222020000000000018");
        assert_eq!(
            card.as_ref().map(CardNumber::masked).as_deref(),
            Some("**** 0018")
        );
        let debug = format!("{card:?}");
        assert!(debug.contains("**** 0018") && !debug.contains("622202"));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(input in "\\PC{0,40}") {
            if let Some(card) = CardNumber::parse(&input) {
                let _ = (card.luhn_valid(), card.masked());
            }
        }
    }
}
