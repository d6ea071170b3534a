//! Test data the suites and the benchmark share.

/// A Luhn-valid 19-digit ICBC savings card number (BIN 622202) unique to `n`, ending in
/// `suffix` (four digits; `0002` and `0010` are cards the sandbox bank returns).
pub fn icbc_card(n: usize, suffix: &str) -> String {
    (0..10u32)
        .map(|fix| format!("622202{fix}{n:08}{suffix}"))
        .find(|number| {
            let sum: u32 = number
                .chars()
                .rev()
                .enumerate()
                .map(|(k, c)| {
                    let v = c.to_digit(10).unwrap_or(0);
                    if k % 2 == 1 {
                        if v * 2 > 9 { v * 2 - 9 } else { v * 2 }
                    } else {
                        v
                    }
                })
                .sum();
            sum % 10 == 0
        })
        .unwrap_or_default()
}

/// A document expiry no test's clock reaches: fixed, so that no test reads the real date,
/// and far enough that no real date of this service's life passes it either.
pub const FAR_EXPIRY: &str = "2099-12-31";

/// A JPEG whose header reads (a 1 600 × 1 200 frame after its APP0 segment), padded with
/// `note` and then with 7s to `bytes` long: what the service takes as a document photo.
pub fn document_jpeg(note: &[u8], bytes: usize) -> Vec<u8> {
    let mut jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
    ];
    jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08]);
    jpeg.extend(1_200u16.to_be_bytes());
    jpeg.extend(1_600u16.to_be_bytes());
    jpeg.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    jpeg.extend(note);
    if jpeg.len() < bytes {
        jpeg.resize(bytes, 7);
    }
    jpeg
}

#[cfg(test)]
mod tests {
    #[test]
    fn cards_are_unique_valid_and_keep_their_suffix() {
        let a = super::icbc_card(1, "1111");
        let b = super::icbc_card(2, "0002");
        assert_ne!(a, b);
        assert!(b.ends_with("0002") && a.len() == 19 && a.starts_with("622202"));
    }
}
