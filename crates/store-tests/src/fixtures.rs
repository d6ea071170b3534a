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
