//! Identity documents (CONTRACT 2.4): the passport, the proof of stay, and the images.

use std::fmt;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

use crate::applicant::is_country_code;
use crate::codes::Code;

/// A document number: upper-case ASCII letters and digits. `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DocumentNumber(String);

impl DocumentNumber {
    /// Full-width forms folded, surrounding space removed, letters upper-cased. Returns `None`
    /// unless the result is `min..=max` ASCII letters and digits.
    fn parse(input: &str, min: usize, max: usize) -> Option<DocumentNumber> {
        let text: String = input.nfkc().collect::<String>().trim().to_ascii_uppercase();
        let ok = (min..=max).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        ok.then_some(DocumentNumber(text))
    }

    pub fn passport(input: &str) -> Option<DocumentNumber> {
        DocumentNumber::parse(input, 5, 20)
    }

    pub fn residence_permit(input: &str) -> Option<DocumentNumber> {
        DocumentNumber::parse(input, 5, 20)
    }

    /// A Foreigner's Permanent Residence ID Card number in either format.
    pub fn permanent_residence_card(input: &str) -> Option<DocumentNumber> {
        let number = DocumentNumber::parse(input, 15, 18)?;
        let valid = match number.0.len() {
            15 => valid_2017_card(&number.0),
            18 => valid_2023_card(&number.0),
            _ => false,
        };
        valid.then_some(number)
    }

    /// The plain number, for the vault and the reviewer only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The first 2 and last 2 characters (CONTRACT 8).
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 2, 2)
    }
}

/// Stored sealed, as the plain number; read back as it was checked.
impl serde::Serialize for DocumentNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DocumentNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        DocumentNumber::parse(&text, 5, 20)
            .ok_or_else(|| serde::de::Error::custom("a stored document number of the wrong shape"))
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentNumber({})", self.masked())
    }
}

/// Keeps `head` and `tail` characters and stars the rest; a value too short to keep both
/// shows only stars.
pub fn mask_middle(text: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The 15-character format of the 2004 and 2017 cards: the nationality's alpha-3 code, then
/// 12 digits. Its last digit's check algorithm rests on no official text, so it is not judged.
fn valid_2017_card(number: &str) -> bool {
    let (letters, digits) = number.split_at(3);
    is_country_code(letters) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// GB/T 2260 province-level codes: the accepting authority in digits 2–3 of the 2023 number.
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

/// The 18-character format issued since December 2023: `9`, province, numeric nationality,
/// birth date, sequence, ISO 7064 MOD 11-2 check character.
fn valid_2023_card(number: &str) -> bool {
    let bytes = number.as_bytes();
    if bytes[0] != b'9' || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let province = &number[1..3];
    let birth = &number[6..14];
    PROVINCES.contains(&province)
        && NaiveDate::parse_from_str(birth, "%Y%m%d").is_ok()
        && mod11_2_check(&bytes[..17]) == Some(bytes[17])
}

/// ISO 7064 MOD 11-2 over 17 digits, as on the Resident Identity Card.
pub fn mod11_2_check(digits: &[u8]) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if digits.len() != 17 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK.get((sum % 11) as usize).copied()
}

/// The kind of proof of stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StayPermitKind {
    /// The passport page with the PRC entry stamp; it has a date, no number.
    EntryRecord,
    /// The residence permit sticker in the passport.
    ResidencePermit,
    /// The Foreigner's Permanent Residence ID Card, which stands alone without a passport.
    PermanentResidenceCard,
}

impl StayPermitKind {
    pub fn parse(input: &str) -> Option<StayPermitKind> {
        match input.trim() {
            "entry_record" => Some(StayPermitKind::EntryRecord),
            "residence_permit" => Some(StayPermitKind::ResidencePermit),
            "permanent_residence_card" => Some(StayPermitKind::PermanentResidenceCard),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StayPermitKind::EntryRecord => "entry_record",
            StayPermitKind::ResidencePermit => "residence_permit",
            StayPermitKind::PermanentResidenceCard => "permanent_residence_card",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Passport {
    pub number: DocumentNumber,
    pub expiry_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StayPermit {
    EntryRecord {
        entry_date: NaiveDate,
    },
    ResidencePermit {
        number: DocumentNumber,
        expiry_date: NaiveDate,
    },
    PermanentResidenceCard {
        number: DocumentNumber,
        expiry_date: NaiveDate,
    },
}

impl StayPermit {
    pub fn kind(&self) -> StayPermitKind {
        match self {
            StayPermit::EntryRecord { .. } => StayPermitKind::EntryRecord,
            StayPermit::ResidencePermit { .. } => StayPermitKind::ResidencePermit,
            StayPermit::PermanentResidenceCard { .. } => StayPermitKind::PermanentResidenceCard,
        }
    }

    pub fn number(&self) -> Option<&DocumentNumber> {
        match self {
            StayPermit::EntryRecord { .. } => None,
            StayPermit::ResidencePermit { number, .. }
            | StayPermit::PermanentResidenceCard { number, .. } => Some(number),
        }
    }

    pub fn expiry_date(&self) -> Option<NaiveDate> {
        match self {
            StayPermit::EntryRecord { .. } => None,
            StayPermit::ResidencePermit { expiry_date, .. }
            | StayPermit::PermanentResidenceCard { expiry_date, .. } => Some(*expiry_date),
        }
    }
}

/// A document has expired when its expiry date is before the day in question: it is still
/// good on the day it expires.
pub fn expired_on(expiry_date: NaiveDate, today: NaiveDate) -> bool {
    expiry_date < today
}

/// The image slots of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ImageSlot {
    PassportPhotoPage,
    StayPermit,
}

impl ImageSlot {
    pub const ALL: [ImageSlot; 2] = [ImageSlot::PassportPhotoPage, ImageSlot::StayPermit];

    pub fn parse(input: &str) -> Option<ImageSlot> {
        match input {
            "passport_photo_page" => Some(ImageSlot::PassportPhotoPage),
            "stay_permit" => Some(ImageSlot::StayPermit),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageSlot::PassportPhotoPage => "passport_photo_page",
            ImageSlot::StayPermit => "stay_permit",
        }
    }

    /// Which slots a submission needs for this proof of stay.
    pub fn required_for(kind: StayPermitKind) -> &'static [ImageSlot] {
        match kind {
            StayPermitKind::PermanentResidenceCard => &[ImageSlot::StayPermit],
            _ => &ImageSlot::ALL,
        }
    }
}

pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// The most pixels an uploaded image may claim: a phone's photo is 12–50 megapixels.
pub const MAX_PIXELS: u64 = 50_000_000;

/// Whether a JPEG or PNG declares a size that a reviewer's browser may decode: its header
/// read whole by `imagesize`, as what the first bytes say it is, and at most [`MAX_PIXELS`].
/// An image whose header cannot be read is not one (CONTRACT 2.4).
fn decodable(bytes: &[u8], format: ImageFormat) -> bool {
    let declared = match imagesize::image_type(bytes) {
        Ok(imagesize::ImageType::Jpeg) => ImageFormat::Jpeg,
        Ok(imagesize::ImageType::Png) => ImageFormat::Png,
        _ => return false,
    };
    declared == format
        && imagesize::blob_size(bytes).is_ok_and(|size| {
            let (width, height) = (size.width as u64, size.height as u64);
            width > 0 && height > 0 && width.saturating_mul(height) <= MAX_PIXELS
        })
}

/// Whether a PDF names an action that runs something when it is opened: JavaScript, or a
/// launch of another program. Names may hide letters as `#xx` escapes (`/J#61vaScript`); they
/// are read unescaped. (What sits inside compressed object streams is not read: the reviewer's
/// browser gets every PDF as a download in a sandbox.)
fn pdf_acts(bytes: &[u8]) -> bool {
    const ACTIONS: &[&[u8]] = &[b"JavaScript", b"JS", b"Launch"];
    let delimiter = |b: u8| b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b);
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|b| *b == b'/') {
        let mut name = Vec::new();
        let mut i = at + offset + 1;
        while i < bytes.len() && !delimiter(bytes[i]) && name.len() <= 16 {
            let hex = |b: u8| char::from(b).to_digit(16);
            match (
                bytes[i],
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                (b'#', Some(hi), Some(lo)) => {
                    name.push((hi * 16 + lo) as u8);
                    i += 3;
                }
                (b, _, _) => {
                    name.push(b);
                    i += 1;
                }
            }
        }
        if ACTIONS.contains(&name.as_slice()) {
            return true;
        }
        at = i.max(at + offset + 1);
    }
    false
}

/// Whether a file also reads as a web page or an SVG (a polyglot): browsers that sniff would
/// run it.
fn reads_as_markup(bytes: &[u8]) -> bool {
    const TAGS: &[&[u8]] = &[b"<script", b"<html", b"<svg", b"<!doctype html"];
    bytes.iter().enumerate().any(|(i, b)| {
        *b == b'<'
            && TAGS.iter().any(|tag| {
                bytes
                    .get(i..i + tag.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(tag))
            })
    })
}

/// What a document image really is, judged by its first bytes and never by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Pdf,
}

impl ImageFormat {
    /// Needs at most the first 8 bytes.
    pub fn sniff(head: &[u8]) -> Option<ImageFormat> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if head.starts_with(b"%PDF-") {
            Some(ImageFormat::Pdf)
        } else {
            None
        }
    }

    /// Judges an upload (CONTRACT 2.4): its size, what its first bytes say it is, and what a
    /// reviewer's browser would do with it. Images that claim more than [`MAX_PIXELS`] (a
    /// decompression bomb), PDFs with JavaScript or launch actions, and files that also read
    /// as HTML or SVG are `document_image_unsupported`.
    pub fn check_upload(bytes: &[u8], size: u64) -> Result<ImageFormat, Code> {
        if size > MAX_IMAGE_BYTES {
            return Err(Code::DocumentImageTooLarge);
        }
        let format = ImageFormat::sniff(bytes).ok_or(Code::DocumentImageUnsupported)?;
        let sound = match format {
            ImageFormat::Jpeg | ImageFormat::Png => decodable(bytes, format),
            ImageFormat::Pdf => !pdf_acts(bytes),
        };
        if !sound || reads_as_markup(bytes) {
            return Err(Code::DocumentImageUnsupported);
        }
        Ok(format)
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Pdf => "application/pdf",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn uploads_that_would_harm_a_reviewer_are_refused() {
        let ok = |bytes: &[u8]| ImageFormat::check_upload(bytes, bytes.len() as u64);
        let refused = Err(Code::DocumentImageUnsupported);
        // A PNG's header names its size: 65 500 × 65 500 is a bomb, 4000 × 3000 a photo.
        let png = |w: u32, h: u32| {
            let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
            b.extend(w.to_be_bytes());
            b.extend(h.to_be_bytes());
            b.extend([8, 2, 0, 0, 0]);
            b
        };
        assert_eq!(ok(&png(4000, 3000)), Ok(ImageFormat::Png));
        assert_eq!(ok(&png(65_500, 65_500)), refused);
        // A JPEG's frame header, after an APP0 segment.
        let jpeg = |w: u16, h: u16| {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46];
            b.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
            b.extend(h.to_be_bytes());
            b.extend(w.to_be_bytes());
            b.extend([3, 1, 0x22, 0]);
            b
        };
        assert_eq!(ok(&jpeg(4000, 3000)), Ok(ImageFormat::Jpeg));
        assert_eq!(ok(&jpeg(65_500, 65_500)), refused);
        // The security probe: 634 bytes declaring 12 000 × 12 000 with a stray byte before
        // the frame header, which the hand-written scanner gave up on and let through.
        let mut stray = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0x00];
        stray.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
        stray.extend(12_000u16.to_be_bytes());
        stray.extend(12_000u16.to_be_bytes());
        stray.extend([3, 1, 0x22, 0]);
        stray.resize(634, 0);
        assert_eq!(ok(&stray), refused);
        // A JPEG signature with no header behind it is no image.
        assert_eq!(ok(b"\xFF\xD8\xFF\xE0JFIF test image"), refused);
        assert_eq!(ok(b"\x89PNG\r\n\x1a\n"), refused);
        // PDFs that run something when opened, however the name is spelt.
        assert_eq!(
            ok(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj"),
            Ok(ImageFormat::Pdf)
        );
        for acts in [
            &b"%PDF-1.7\n<< /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"[..],
            b"%PDF-1.7\n<< /OpenAction << /S /J#61vaScript >> >>",
            b"%PDF-1.7\n<< /AA << /O << /S /Launch /F (cmd.exe) >> >> >>",
        ] {
            assert_eq!(ok(acts), refused, "{}", String::from_utf8_lossy(acts));
        }
        // Polyglots: an image head with a page or an SVG behind it.
        let mut polyglot = jpeg(100, 100);
        polyglot.extend(b"<html><SCRIPT>alert(1)</SCRIPT>");
        assert_eq!(ok(&polyglot), refused);
        let mut svg = b"%PDF-1.4\n".to_vec();
        svg.extend(b"<svg onload=alert(1)>");
        assert_eq!(ok(&svg), refused);
    }

    #[test]
    fn passport_numbers_are_5_to_20_letters_and_digits() {
        assert_eq!(
            DocumentNumber::passport("e1234567").map(|n| n.0),
            Some("E1234567".into())
        );
        assert_eq!(
            DocumentNumber::passport("Ｅ１２３４５").map(|n| n.0),
            Some("E12345".into())
        );
        assert!(DocumentNumber::passport(&"A".repeat(20)).is_some());
        for bad in [
            "",
            "A123",
            &"A".repeat(21),
            "E123 4567",
            "E123-4567",
            "É12345",
        ] {
            assert!(DocumentNumber::passport(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn permanent_residence_cards_of_2023() {
        for ok in [
            "911398199012310021",
            "931840198506150015",
            "93184019850615004X",
            "93184019850615004x",
            "944392200002290026",
            "931826197001011237",
        ] {
            assert!(
                DocumentNumber::permanent_residence_card(ok).is_some(),
                "{ok}"
            );
        }
        for bad in [
            "911398199012310022", // check digit
            "931840198502300012", // 30 February
            "999840198506150013", // no province 99
            "111398199012310022", // a citizen's number, not a foreigner's
            "91139819901231002",
            "9113981990123100211",
        ] {
            assert!(
                DocumentNumber::permanent_residence_card(bad).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn mod11_2_gives_x_for_ten() {
        assert_eq!(mod11_2_check(b"11010519491231002"), Some(b'X'));
        assert_eq!(mod11_2_check(b"93184019850615004"), Some(b'X'));
        assert_eq!(mod11_2_check(b"91139819901231002"), Some(b'1'));
        assert_eq!(mod11_2_check(b"9113981990123100"), None);
    }

    #[test]
    fn permanent_residence_cards_of_2017() {
        for ok in ["KAZ110090123105", "USA310085061514", "gbr440370010120"] {
            assert!(
                DocumentNumber::permanent_residence_card(ok).is_some(),
                "{ok}"
            );
        }
        for bad in [
            "KAA110090123105",
            "USA3100850615A1",
            "US1310085061514",
            "USA31008506151",
        ] {
            assert!(
                DocumentNumber::permanent_residence_card(bad).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn numbers_mask_all_but_two_at_each_end() {
        let n = DocumentNumber::passport("E12345678").map(|n| n.masked());
        assert_eq!(n.as_deref(), Some("E1*****78"));
        assert_eq!(mask_middle("ABCD", 2, 2), "****");
        let debug = format!("{:?}", DocumentNumber::passport("E12345678"));
        assert!(!debug.contains("E12345678") && debug.contains("E1*****78"));
    }

    #[test]
    fn expiry_is_inclusive_of_the_last_day() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or(NaiveDate::MIN);
        assert!(!expired_on(d("2026-11-26"), d("2026-11-26")));
        assert!(expired_on(d("2026-11-25"), d("2026-11-26")));
    }

    #[test]
    fn images_are_known_by_content() {
        assert_eq!(
            ImageFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageFormat::Png)
        );
        assert_eq!(ImageFormat::sniff(b"%PDF-1.7"), Some(ImageFormat::Pdf));
        assert_eq!(ImageFormat::sniff(b"GIF89a"), None);
        assert_eq!(ImageFormat::sniff(b"<html>"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
        assert_eq!(
            ImageFormat::check_upload(b"%PDF-1.4", MAX_IMAGE_BYTES),
            Ok(ImageFormat::Pdf)
        );
        assert_eq!(
            ImageFormat::check_upload(b"%PDF-1.4", MAX_IMAGE_BYTES + 1),
            Err(Code::DocumentImageTooLarge)
        );
        assert_eq!(
            ImageFormat::check_upload(b"MZ\x90\x00", 1000),
            Err(Code::DocumentImageUnsupported)
        );
        assert_eq!(
            ImageSlot::required_for(StayPermitKind::PermanentResidenceCard).len(),
            1
        );
        assert_eq!(
            ImageSlot::required_for(StayPermitKind::EntryRecord).len(),
            2
        );
    }

    proptest! {
        #[test]
        fn document_parsers_never_panic(input in "\\PC{0,30}") {
            let _ = DocumentNumber::passport(&input);
            let _ = DocumentNumber::permanent_residence_card(&input);
        }

        #[test]
        fn card_shaped_input_never_panics(input in "9[0-9]{16}[0-9Xx]|[A-Z]{3}[0-9]{12}") {
            let _ = DocumentNumber::permanent_residence_card(&input);
        }
    }
}
