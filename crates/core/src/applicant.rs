//! Nationality and date of birth (CONTRACT 2.3), and the calendar in China time.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Months, NaiveDate, Utc};

use crate::codes::Code;
use crate::countries::COUNTRIES;

/// Dates are judged on the calendar of Asia/Shanghai: UTC+8, with no daylight saving since 1991.
pub fn china_today(now: DateTime<Utc>) -> NaiveDate {
    const CHINA: i32 = 8 * 3600;
    match FixedOffset::east_opt(CHINA) {
        Some(offset) => now.with_timezone(&offset).date_naive(),
        None => now.date_naive(),
    }
}

/// Parses a `YYYY-MM-DD` date.
pub fn parse_date(input: &str) -> Option<NaiveDate> {
    let text = input.trim();
    // chrono accepts a sign and more than four year digits; a person's documents do not.
    if text.len() != 10 || !text.is_ascii() {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// An ISO 3166-1 alpha-3 country code of a foreign state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nationality {
    index: usize,
}

/// Stored as its alpha-3 code.
impl serde::Serialize for Nationality {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Nationality {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Nationality::lookup(&text)
            .ok_or_else(|| serde::de::Error::custom("a stored nationality that is not one"))
    }
}

impl Nationality {
    /// A nationality this flow accepts: China, and Hong Kong, Macao and Taiwan (whose
    /// residents verify with their Mainland Travel Permit), are refused as not foreign.
    pub fn parse(input: &str) -> Result<Nationality, Code> {
        let nationality = Nationality::lookup(input).ok_or(Code::NationalityInvalid)?;
        if !nationality.is_foreign() {
            return Err(Code::NationalityNotForeign);
        }
        Ok(nationality)
    }

    /// Any assigned alpha-3 code, as stored data may carry one accepted under older rules.
    pub fn lookup(input: &str) -> Option<Nationality> {
        let code = input.trim().to_ascii_uppercase();
        COUNTRIES
            .iter()
            .position(|c| c.0 == code)
            .map(|index| Nationality { index })
    }

    /// Whether this flow is for its holders: not China, nor its Hong Kong, Macao and Taiwan.
    pub fn is_foreign(self) -> bool {
        !matches!(self.code(), "CHN" | "HKG" | "MAC" | "TWN")
    }

    /// Hong Kong, Macao or Taiwan: their residents verify with a Mainland Travel Permit.
    pub fn needs_travel_permit(self) -> bool {
        matches!(self.code(), "HKG" | "MAC" | "TWN")
    }

    pub fn code(self) -> &'static str {
        COUNTRIES[self.index].0
    }

    /// ISO 3166-1 numeric, as the 2023 permanent residence card number carries it.
    pub fn numeric(self) -> &'static str {
        COUNTRIES[self.index].1
    }

    pub fn name_en(self) -> &'static str {
        COUNTRIES[self.index].2
    }

    pub fn name_zh(self) -> &'static str {
        COUNTRIES[self.index].3
    }

    /// Every nationality this flow accepts, for pick lists.
    pub fn all() -> impl Iterator<Item = Nationality> {
        Nationality::countries().filter(|n| n.is_foreign())
    }

    /// Every assigned country, China and its regions included.
    pub fn countries() -> impl Iterator<Item = Nationality> {
        (0..COUNTRIES.len()).map(|index| Nationality { index })
    }
}

impl fmt::Display for Nationality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Whether `alpha3` is an assigned ISO 3166-1 alpha-3 code (China included).
pub fn is_country_code(alpha3: &str) -> bool {
    COUNTRIES.iter().any(|c| c.0 == alpha3)
}

/// Whether `numeric` is an assigned ISO 3166-1 numeric code.
pub fn is_country_numeric(numeric: &str) -> bool {
    COUNTRIES.iter().any(|c| c.1 == numeric)
}

/// A date of birth that is a real date, not in the future.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateOfBirth(NaiveDate);

/// Stored as the date; it was checked not to be in the future when it was stored.
impl serde::Serialize for DateOfBirth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for DateOfBirth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        NaiveDate::deserialize(d).map(DateOfBirth)
    }
}

impl DateOfBirth {
    pub fn parse(input: &str, today: NaiveDate) -> Result<DateOfBirth, Code> {
        match parse_date(input) {
            Some(date) if date <= today => Ok(DateOfBirth(date)),
            _ => Err(Code::DateOfBirthInvalid),
        }
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// The 18th birthday; a 29 February birthday falls on 28 February in other years
    /// (Civil Code art. 202).
    pub fn eighteenth_birthday(self) -> NaiveDate {
        self.0
            .checked_add_months(Months::new(18 * 12))
            .unwrap_or(NaiveDate::MAX)
    }

    /// 18 full years are reached on the day after the 18th birthday (the SPC's rule for 周岁).
    pub fn is_adult_on(self, today: NaiveDate) -> bool {
        today > self.eighteenth_birthday()
    }

    /// Within `days` days after becoming an adult: a flag for the reviewer.
    pub fn became_adult_within(self, today: NaiveDate, days: i64) -> bool {
        let adult_from = self
            .eighteenth_birthday()
            .succ_opt()
            .unwrap_or(NaiveDate::MAX);
        self.is_adult_on(today) && (today - adult_from).num_days() < days
    }

    /// `1990-**-**`: the year alone, for masked answers.
    pub fn masked(self) -> String {
        format!("{}-**-**", self.0.year())
    }
}

impl fmt::Debug for DateOfBirth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DateOfBirth({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(text: &str) -> NaiveDate {
        parse_date(text).unwrap_or(NaiveDate::MIN)
    }

    fn dob(text: &str) -> DateOfBirth {
        DateOfBirth::parse(text, day("2026-11-26")).unwrap_or(DateOfBirth(NaiveDate::MAX))
    }

    #[test]
    fn china_time_decides_the_day() {
        let evening_utc = Utc.with_ymd_and_hms(2026, 3, 14, 16, 30, 0).single();
        assert_eq!(evening_utc.map(china_today), Some(day("2026-03-15")));
        let morning_utc = Utc.with_ymd_and_hms(2026, 3, 14, 15, 59, 59).single();
        assert_eq!(morning_utc.map(china_today), Some(day("2026-03-14")));
    }

    #[test]
    fn nationality_is_a_foreign_alpha3_code() {
        assert_eq!(
            Nationality::parse("USA").map(|n| n.name_en()),
            Ok("United States")
        );
        assert_eq!(Nationality::parse(" gbr ").map(|n| n.numeric()), Ok("826"));
        assert_eq!(
            Nationality::parse("KAZ").map(|n| n.name_zh()),
            Ok("哈萨克斯坦")
        );
        for not_foreign in ["CHN", "HKG", "MAC", "twn"] {
            assert_eq!(
                Nationality::parse(not_foreign),
                Err(Code::NationalityNotForeign)
            );
        }
        assert_eq!(Nationality::lookup("HKG").map(|n| n.code()), Some("HKG"));
        for bad in ["", "US", "XXX", "UTO", "USAA", "840"] {
            assert_eq!(
                Nationality::parse(bad),
                Err(Code::NationalityInvalid),
                "{bad}"
            );
        }
        assert_eq!(Nationality::all().count(), 245);
    }

    #[test]
    fn date_of_birth_must_be_a_past_real_date() {
        let today = day("2026-11-26");
        assert!(DateOfBirth::parse("2026-11-26", today).is_ok());
        for bad in [
            "2026-11-27",
            "1990-02-30",
            "1990-2-3",
            "19900203",
            "+1990-02-03",
            "",
            "tomorrow",
        ] {
            assert_eq!(
                DateOfBirth::parse(bad, today),
                Err(Code::DateOfBirthInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn eighteen_full_years_are_reached_the_day_after_the_birthday() {
        let born = dob("2008-03-15");
        assert!(!born.is_adult_on(day("2026-03-14")));
        assert!(!born.is_adult_on(day("2026-03-15")));
        assert!(born.is_adult_on(day("2026-03-16")));
        assert!(dob("2007-12-31").is_adult_on(day("2026-01-01")));
    }

    #[test]
    fn a_29_february_birthday_falls_on_28_february() {
        let leap = dob("2008-02-29");
        assert_eq!(leap.eighteenth_birthday(), day("2026-02-28"));
        assert!(!leap.is_adult_on(day("2026-02-27")));
        assert!(!leap.is_adult_on(day("2026-02-28")));
        assert!(leap.is_adult_on(day("2026-03-01")));
        // 2028 is a leap year: no clamping for someone born on 28 February 2010.
        let born = dob("2010-02-28");
        assert!(!born.is_adult_on(day("2028-02-28")));
        assert!(born.is_adult_on(day("2028-02-29")));
    }

    #[test]
    fn recently_adult_is_flagged_for_thirty_days() {
        let born = dob("2008-03-15");
        assert!(born.became_adult_within(day("2026-03-16"), 30));
        assert!(born.became_adult_within(day("2026-04-14"), 30));
        assert!(!born.became_adult_within(day("2026-04-15"), 30));
        assert!(!born.became_adult_within(day("2026-03-15"), 30));
    }

    #[test]
    fn debug_masks_the_day() {
        assert_eq!(
            format!("{:?}", dob("1990-12-31")),
            "DateOfBirth(1990-**-**)"
        );
    }
}
