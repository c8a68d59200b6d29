//! Tags that say nothing about a post, whatever the curator's rules: numbers, dates, years,
//! weekdays, months, version numbers, hashes, URLs and blog boilerplate.

use crate::normalize::normalize;
use rustc_hash::FxHashSet;
use std::sync::LazyLock;

/// Most `-`-separated words in a tag before it reads as a sentence.
const MAX_TAG_WORDS: usize = 6;
/// Most characters in a tag.
const MAX_TAG_CHARS: usize = 60;

/// True when `tag` (raw or normal form) can never be a tag: no letters (`2024`, `12`,
/// `2024-05-01`), only date words and numbers (`monday`, `jan`, `may-2024`, `q3-2023`),
/// a version number (`v1.2`, `1.2.3-rc1`), a hash or id, a URL or e-mail address,
/// boilerplate (`uncategorized`, `read-more`) or too long to be a tag.
pub fn is_junk(tag: &str) -> bool {
    let raw = tag.trim();
    if raw.contains("://") || raw.starts_with("www.") || looks_like_email(raw) {
        return true;
    }
    let Some(normal) = normalize(raw) else {
        return true;
    };
    is_junk_normal(&normal)
}

/// [`is_junk`] for a tag already in normal form.
pub(crate) fn is_junk_normal(normal: &str) -> bool {
    if !normal.chars().any(char::is_alphabetic) {
        return true;
    }
    if normal.chars().count() > MAX_TAG_CHARS {
        return true;
    }
    let words: Vec<&str> = normal.split('-').collect();
    if words.len() > MAX_TAG_WORDS {
        return true;
    }
    if BOILERPLATE.binary_search(&normal).is_ok() {
        return true;
    }
    if matches!(words.first(), Some(&("http" | "https" | "www" | "mailto"))) {
        return true;
    }
    if words.iter().all(|w| is_date_word(w) || is_number_like(w)) {
        return true;
    }
    // `v1.2`, `1.2.3-rc1`: a version alone. `v8` (a JavaScript engine) stays: a version
    // needs a dot somewhere.
    if words.len() >= 2 && words.iter().all(|w| is_version_part(w)) {
        return true;
    }
    words.iter().any(|w| is_hash_like(w))
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, host)) => !user.is_empty() && host.contains('.') && !host.contains(' '),
        None => false,
    }
}

/// Digits with an optional ordinal or decade suffix: `12`, `1st`, `22nd`, `1990s`, `90s`.
fn is_number_like(w: &str) -> bool {
    let digits = w.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    matches!(
        &w[digits..],
        "" | "st" | "nd" | "rd" | "th" | "s" | "k" | "m"
    )
}

/// `v1`, `rc1`, `12`, `beta`: parts of a version number.
fn is_version_part(w: &str) -> bool {
    let rest = w
        .strip_prefix('v')
        .or_else(|| w.strip_prefix("rc"))
        .or_else(|| w.strip_prefix("beta"))
        .or_else(|| w.strip_prefix("alpha"))
        .unwrap_or(w);
    rest.bytes().all(|b| b.is_ascii_digit())
        && (!rest.is_empty() || matches!(w, "rc" | "beta" | "alpha"))
}

/// Seven or more hex digits with both letters and digits (`a1b2c3d`, commit ids), or a
/// long run mixing digits into letters (`x7k2p9q4z`).
fn is_hash_like(w: &str) -> bool {
    if w.len() < 7 || !w.is_ascii() {
        return false;
    }
    let digits = w.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let hex = w.bytes().all(|b| b.is_ascii_hexdigit());
    hex && digits < w.len() || digits * 3 >= w.len() && digits < w.len() && w.len() >= 10
}

/// Months, weekdays and calendar words, in English and the other languages the tagger has
/// stop words for.
pub(crate) fn is_date_word(w: &str) -> bool {
    static SET: LazyLock<FxHashSet<&'static str>> =
        LazyLock::new(|| DATE_WORDS.iter().copied().collect());
    (w.len() <= 10 && SET.contains(w))
        || matches!(w.as_bytes(), [b'q' | b'h', b'1'..=b'4'])
        || (w.len() == 6 && w.starts_with("fy") && w[2..].bytes().all(|b| b.is_ascii_digit()))
}

/// Sorted.
const DATE_WORDS: &[&str] = &[
    "abril",
    "agosto",
    "am",
    "août",
    "apr",
    "april",
    "aprile",
    "aug",
    "august",
    "augustus",
    "avril",
    "day",
    "days",
    "dec",
    "december",
    "decembre",
    "dezember",
    "dicembre",
    "diciembre",
    "dienstag",
    "dimanche",
    "domenica",
    "domingo",
    "donnerstag",
    "décembre",
    "enero",
    "feb",
    "febbraio",
    "febrero",
    "februar",
    "february",
    "fevereiro",
    "fri",
    "friday",
    "frühling",
    "février",
    "gennaio",
    "giovedì",
    "giugno",
    "herbst",
    "jan",
    "januar",
    "january",
    "janvier",
    "jeudi",
    "jueves",
    "juillet",
    "juin",
    "jul",
    "juli",
    "julio",
    "july",
    "jun",
    "june",
    "juni",
    "junio",
    "luglio",
    "lundi",
    "lunedì",
    "lunes",
    "maart",
    "maggio",
    "mai",
    "maio",
    "mar",
    "march",
    "mardi",
    "mars",
    "martedì",
    "martes",
    "marzo",
    "may",
    "mayo",
    "mercoledì",
    "mercredi",
    "mittwoch",
    "miércoles",
    "mon",
    "monday",
    "montag",
    "month",
    "months",
    "märz",
    "nov",
    "november",
    "novembre",
    "noviembre",
    "oct",
    "october",
    "octobre",
    "oktober",
    "ottobre",
    "outubro",
    "pm",
    "sabato",
    "samedi",
    "samstag",
    "sat",
    "saturday",
    "sep",
    "sept",
    "september",
    "septembre",
    "septiembre",
    "settembre",
    "sommer",
    "sonntag",
    "sun",
    "sunday",
    "thu",
    "thur",
    "thurs",
    "thursday",
    "today",
    "tomorrow",
    "tue",
    "tues",
    "tuesday",
    "vendredi",
    "venerdì",
    "viernes",
    "wed",
    "wednesday",
    "week",
    "weekend",
    "weeks",
    "winter",
    "year",
    "years",
    "yesterday",
];

/// Boilerplate tags of blog engines and feeds. Sorted.
const BOILERPLATE: &[&str] = &[
    "article",
    "articles",
    "blog-post",
    "click-here",
    "comment",
    "comments",
    "continue-reading",
    "default",
    "draft",
    "featured",
    "hello-world",
    "home",
    "homepage",
    "link",
    "links",
    "more",
    "n-a",
    "nan",
    "no-category",
    "none",
    "null",
    "page",
    "permalink",
    "read-more",
    "share",
    "sticky",
    "tbd",
    "test-post",
    "uncategorised",
    "uncategorized",
    "undefined",
    "untagged",
    "via",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_dates_and_versions_are_junk() {
        for t in [
            "2024",
            "12",
            "monday",
            "Monday",
            "jan",
            "January",
            "2024-05-01",
            "05/01/2024",
            "v1.2",
            "1.2.3",
            "v2.0.1-rc1",
            "May 2024",
            "q3-2023",
            "1990s",
            "3rd",
            "juin",
            "Mittwoch",
            "a1b2c3d4",
            "https://example.com/x",
            "www.example.com",
            "me@example.com",
            "Uncategorized",
            "read more",
            "---",
            "",
            "one two three four five six seven",
        ] {
            assert!(is_junk(t), "{t:?} should be junk");
        }
    }

    #[test]
    fn real_tags_are_not_junk() {
        for t in [
            "rust",
            "v8",
            "2fa",
            "go2",
            "web3",
            "ipv6",
            "x86-64",
            "utf-8",
            "cpp",
            "h264",
            "python3",
            "k8s",
            "go",
            "r",
            "machine learning",
            "gsoc",
            "may-day-parade",
        ] {
            assert!(!is_junk(t), "{t:?} should not be junk");
        }
    }

    #[test]
    fn tables_are_sorted() {
        for t in [DATE_WORDS, BOILERPLATE] {
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        }
    }
}
