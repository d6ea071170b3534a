//! Names folded to what survives the ways people write them: case, accents, punctuation and
//! spacing go; Chinese characters become simplified, then their pinyin syllables; common
//! transliteration variants of Arabic, Persian and Slavic names meet in one spelling.

use pinyin::ToPinyin;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_script::{Script, UnicodeScript};

use crate::t2s::T2S;

/// A name as the matcher compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folded {
    /// Words in the order written: Latin words folded, Chinese characters as one pinyin
    /// syllable each. Titles (`dr`, `mr`…) are left out.
    pub tokens: Vec<String>,
    /// Whether any of it was written in Chinese characters.
    pub han: bool,
}

/// Folds a name (any script; scripts other than Latin and Chinese are dropped, as no
/// applicant's name is written in them).
pub fn fold(name: &str) -> Folded {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut han = false;
    let flush = |word: &mut String, tokens: &mut Vec<String>| {
        if !word.is_empty() {
            let w = std::mem::take(word);
            if !TITLES.contains(&w.as_str()) {
                tokens.push(w);
            }
        }
    };
    for c in name.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.script() == Script::Han {
            flush(&mut word, &mut tokens);
            han = true;
            let simplified = simplified(c);
            match simplified.to_pinyin() {
                Some(p) => tokens.push(p.plain().to_owned()),
                None => tokens.push(simplified.to_string()),
            }
            continue;
        }
        match c {
            // Apostrophes join: "Gama'at", "D'Souza", "N’Diaye".
            '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{02BB}' | '`' | '\u{00B4}' => {}
            c if c.is_alphabetic() && c.script() == Script::Latin => push_latin(&mut word, c),
            c if c.is_ascii_digit() => word.push(c),
            _ => flush(&mut word, &mut tokens),
        }
    }
    flush(&mut word, &mut tokens);
    Folded { tokens, han }
}

/// Lower-case Latin letters without accents, every other character a space; for names of
/// countries and such.
pub(crate) fn latin_letters(s: &str) -> String {
    let mut out = String::new();
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphabetic() && c.script() == Script::Latin {
            push_latin(&mut out, c);
        } else {
            out.push(' ');
        }
    }
    out
}

fn push_latin(word: &mut String, c: char) {
    match c {
        'ß' => word.push_str("ss"),
        'æ' | 'Æ' => word.push_str("ae"),
        'œ' | 'Œ' => word.push_str("oe"),
        'ø' | 'Ø' => word.push('o'),
        'đ' | 'Đ' | 'ð' | 'Ð' => word.push('d'),
        'ł' | 'Ł' => word.push('l'),
        'ı' => word.push('i'),
        'þ' | 'Þ' => word.push_str("th"),
        c => word.extend(c.to_lowercase()),
    }
}

fn simplified(c: char) -> char {
    match T2S.binary_search_by(|(t, _)| t.cmp(&c)) {
        Ok(i) => T2S[i].1,
        Err(_) => c,
    }
}

/// Words that are titles, not names.
const TITLES: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "sir", "haji", "hajji", "sheikh", "shaykh",
];

/// Words that join names (Arabic, Dutch, Spanish…) and say little about who someone is.
pub(crate) const PARTICLES: &[&str] = &[
    "al", "el", "bin", "ben", "ibn", "bint", "abu", "abou", "ould", "van", "von", "der", "den",
    "de", "da", "di", "del", "dos", "das", "du", "la", "le", "y", "e",
];

/// One spelling for the transliteration variants of a folded word: doubled letters single,
/// and `ph`/`f`, `ou`/`oo`/`u`, `ee`/`i`, `y`/`i`, `q`/`k`, `kh`/`k`, `w`/`v`, `j`/`dj`… alike,
/// so Mohammed, Muhammad and Mohamed, or Yusuf and Yousef, are near neighbours.
pub(crate) fn spelling(token: &str) -> String {
    let b: Vec<char> = token.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let (s, used): (&str, usize) = match (c, next) {
            ('p', Some('h')) => ("f", 2),
            ('o', Some('u')) | ('o', Some('o')) => ("u", 2),
            ('e', Some('e')) | ('i', Some('e')) => ("i", 2),
            ('k', Some('h')) | ('c', Some('k')) | ('g', Some('h')) => ("k", 2),
            ('d', Some('h')) | ('d', Some('j')) => ("d", 2),
            ('t', Some('h')) => ("t", 2),
            ('s', Some('c')) if b.get(i + 2) == Some(&'h') => ("sh", 3),
            ('q', _) => ("k", 1),
            ('y', _) => ("i", 1),
            ('w', _) => ("v", 1),
            ('h', None) if i > 0 => ("", 1),
            _ => {
                out.push(c);
                i += 1;
                continue;
            }
        };
        out.push_str(s);
        i += used;
    }
    let mut single = String::with_capacity(out.len());
    let mut last = None;
    for c in out.chars() {
        if Some(c) != last {
            single.push(c);
        }
        last = Some(c);
    }
    single
}

/// The first letter and the consonants of a spelling: what survives vowels written
/// differently (Hussein, Husain; Mohamed, Muhammad).
pub(crate) fn skeleton(spelling: &str) -> String {
    let mut out = String::new();
    for (i, c) in spelling.chars().enumerate() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u');
        // A leading vowel is kept as one mark whatever it is (Omar, Umar).
        let c = if vowel && i == 0 { '*' } else { c };
        if (i == 0 || !vowel) && !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<String> {
        fold(s).tokens
    }

    #[test]
    fn case_accents_punctuation_and_titles_fold() {
        assert_eq!(
            tokens("AL ZAWAHIRI, Dr. Ayman"),
            ["al", "zawahiri", "ayman"]
        );
        assert_eq!(
            tokens("José  Müller-Lüdenscheidt"),
            ["jose", "muller", "ludenscheidt"]
        );
        assert_eq!(tokens("ＪＯＨＮ SMITH"), ["john", "smith"]);
        assert_eq!(
            tokens("GAMA'AT Straße Łukasz"),
            ["gamaat", "strasse", "lukasz"]
        );
        assert_eq!(tokens("Ivan·Petrov"), ["ivan", "petrov"]);
        assert_eq!(tokens("Иван Petrov"), ["petrov"]);
    }

    #[test]
    fn chinese_is_simplified_then_pinyin() {
        let f = fold("張偉明");
        assert!(f.han);
        assert_eq!(f.tokens, ["zhang", "wei", "ming"]);
        assert_eq!(fold("张伟明").tokens, f.tokens);
        assert_eq!(fold("李·小龍").tokens, ["li", "xiao", "long"]);
    }

    #[test]
    fn transliterations_meet() {
        assert_eq!(spelling("mohammed"), spelling("mohamed"));
        assert_eq!(
            skeleton(&spelling("mohammed")),
            skeleton(&spelling("muhammad"))
        );
        assert_eq!(spelling("yusuf"), spelling("yousouf"));
        assert_eq!(
            skeleton(&spelling("hussein")),
            skeleton(&spelling("husain"))
        );
        assert_eq!(skeleton(&spelling("omar")), skeleton(&spelling("umar")));
        assert_eq!(spelling("abdullah"), spelling("abdulla"));
        assert_eq!(spelling("khalid"), spelling("kalid"));
        assert_eq!(spelling("wladimir"), spelling("vladimir"));
    }
}
