//! The two forms of a tag: the normal form people see in URLs and the match key rules and
//! counts compare.
//!
//! - [`normalize`]: Unicode NFKC, case folding, then a slug: letters, digits and combining
//!   marks (any script) in words joined by single `-`; everything else between words
//!   (white space, `_`, `.`, `/`, dashes, markup, `../`, `?#%`, `{{ }}`) is one `-`;
//!   invisible characters (controls, bidirectional controls, zero-width characters) and
//!   apostrophes (`rust's` is `rust`, `don't` is `dont`) are dropped. The names of
//!   programming languages are spelled out, as tag sites slug them: `++` or `+` ending a
//!   word is `pp` or `plus` (`c++` is `cpp`), and `#` ending a word of one or two letters is
//!   `sharp` (`c#` is `csharp`, `f#` is `fsharp`), so that a normal form never holds
//!   anything but letters, digits and single hyphens. At most [`MAX_TAG_CHARS`] characters.
//!   `Machine_Learning`, `machine learning` and `ＭＡＣＨＩＮＥ－LEARNING` are all
//!   `machine-learning`.
//! - [`match_key`]: the normal form with plurals and possessives folded, so that
//!   `containers`, `container` and `container's` are one tag. It is for comparing, not for
//!   showing: the hub shows the most common surface form.
//!
//! English plurals are irregular enough that suffix rules alone get well-known tags wrong
//! (`kubernetes`, `postgres`, `news`, `pandas`, `macos`); those are listed, the rest follows
//! the rules in [`fold_word`].

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::is_nfkc_quick;

/// Longest normal form kept, in bytes: anything longer is a sentence, not a tag.
pub const MAX_TAG_BYTES: usize = 100;
/// Longest normal form kept, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// The tag normal form: NFKC, case-folded, slugged (see the module doc). `None` when
/// nothing usable (no letter or digit) is left.
///
/// This refines [`kith_model::normalize_tag`] (which config validation uses): every tag it
/// accepts has the same normal form here when written in plain lower-case ASCII letters,
/// digits and separators.
pub fn normalize(raw: &str) -> Option<String> {
    let mut folded = String::with_capacity(raw.len());
    fold_into(raw, &mut folded);
    let chars: Vec<char> = folded
        .chars()
        .filter(|&c| c.is_whitespace() || !(c.is_control() || kith_model::is_invisible(c)))
        .collect();
    let mut out = String::with_capacity(folded.len());
    let mut pending_dash = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let after_word = out.ends_with(is_word) && !pending_dash;
        if is_word(c) {
            if pending_dash {
                out.push('-');
                pending_dash = false;
            }
            out.push(c);
        } else if is_apostrophe(c) {
            // A possessive goes whole (`rust's`, `students'`); inside a word the apostrophe
            // alone (`don't`).
            let next = chars.get(i + 1).copied();
            if after_word && next == Some('s') && chars.get(i + 2).is_none_or(|&n| !is_word(n)) {
                i += 1;
            }
        } else if c == '+' && after_word {
            // `c++`, `notepad++`: one or two, where a word ends.
            let run = chars[i..].iter().take_while(|&&p| p == '+').count();
            if run <= 2 && chars.get(i + run).is_none_or(|&n| !is_word(n)) {
                out.push_str(if run == 2 { "pp" } else { "plus" });
            } else {
                pending_dash = true;
            }
            i += run;
            continue;
        } else if c == '#'
            && after_word
            && chars.get(i + 1).is_none_or(|&n| !is_word(n))
            && out.chars().rev().take_while(|&w| is_word(w)).count() <= 2
        {
            // `c#`, `f#`: a word of one or two letters may end in one `#`.
            out.push_str("sharp");
        } else {
            // A separator, or anything else that is not part of a word.
            pending_dash = !out.is_empty();
        }
        i += 1;
    }
    // Dropping characters between combining marks can leave them out of canonical order;
    // normalising again puts them back, so a normal form is its own normal form.
    if !out.is_ascii() && is_nfkc_quick(out.chars()) != unicode_normalization::IsNormalized::Yes {
        out = out.nfkc().collect();
    }
    if out.len() > MAX_TAG_BYTES || out.chars().count() > MAX_TAG_CHARS {
        let mut cut = out
            .char_indices()
            .nth(MAX_TAG_CHARS)
            .map_or(out.len(), |(at, _)| at)
            .min(MAX_TAG_BYTES);
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.truncate(out.trim_end_matches('-').len());
    }
    out.chars().any(char::is_alphanumeric).then_some(out)
}

/// NFKC and case folding of `raw`, appended to `out`. Plain ASCII (the common case) skips the
/// Unicode tables.
pub(crate) fn fold_into(raw: &str, out: &mut String) {
    if raw.is_ascii() {
        let start = out.len();
        out.push_str(raw);
        // Safe slicing: `start` is the old end of `out`, a char boundary.
        if let Some(tail) = out.get_mut(start..) {
            tail.make_ascii_lowercase();
        }
        return;
    }
    let push = |out: &mut String, c: char| {
        for l in c.to_lowercase() {
            match l {
                // Full case folding where it differs from lower-casing in practice.
                'ß' | 'ẞ' => out.push_str("ss"),
                'ς' => out.push('σ'),
                'ſ' => out.push('s'),
                // Typographic apostrophes are apostrophes.
                '’' | 'ʼ' | '‘' => out.push('\''),
                other => out.push(other),
            }
        }
    };
    if is_nfkc_quick(raw.chars()) == unicode_normalization::IsNormalized::Yes {
        for c in raw.chars() {
            push(out, c);
        }
    } else {
        for c in raw.nfkc() {
            push(out, c);
        }
    }
}

/// Letters, digits and combining marks, in any script: what words of a tag are made of.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && unicode_normalization::char::is_combining_mark(c))
}

fn is_apostrophe(c: char) -> bool {
    // `fold_into` has made typographic apostrophes straight.
    matches!(c, '\'' | '\u{2019}')
}

/// The inflection-folded key of a normal-form tag: each `-`-separated word loses its
/// possessive and its plural ending. Equal keys are the same tag.
///
/// `match_key(&normalize(x)?)` is what rules and counts compare; `match_key` of a key is
/// the key itself.
pub fn match_key(normal: &str) -> String {
    let mut out = String::with_capacity(normal.len());
    for (i, word) in normal.split('-').enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(&fold_word(word));
    }
    out
}

/// One word of a match key.
///
/// Rules, in order, for words of four letters or more that end in `s` (and only letters):
/// irregular plurals (`indices`) and listed non-plurals (`kubernetes`, `news`, `physics`)
/// first; then `ss`, `us`, `is` and `as` endings stay (`class`, `status`, `analysis`,
/// `saas`) except listed plurals (`apis`, `gpus`, `schemas`); `ies` becomes `y`
/// (`libraries`) except `-ie` nouns (`cookies`); `sses`, `xes`, `ches`, `shes`, `zzes` lose
/// `es` (`classes`, `boxes`, `patches`) except `-che` nouns (`caches`); anything else loses
/// the `s` (`containers`, `types`, `videos`).
pub fn fold_word(word: &str) -> Cow<'_, str> {
    let w = strip_possessive(word);
    let n = w.len();
    if n < 4 || !w.ends_with('s') || !w.chars().all(char::is_alphabetic) {
        return Cow::Borrowed(w);
    }
    if let Some(singular) = lookup_irregular(w) {
        return Cow::Borrowed(singular);
    }
    if NON_PLURALS.binary_search(&w).is_ok() {
        return Cow::Borrowed(w);
    }
    let ends = |s: &str| w.ends_with(s);
    if ends("ss") || ends("us") || ends("is") || ends("as") {
        return Cow::Borrowed(if SUFFIX_PLURALS.binary_search(&w).is_ok() {
            &w[..n - 1]
        } else {
            w
        });
    }
    if ends("ies") && n >= 5 {
        if IE_WORDS.binary_search(&&w[..n - 1]).is_ok() {
            return Cow::Borrowed(&w[..n - 1]);
        }
        let mut s = String::with_capacity(n - 2);
        s.push_str(&w[..n - 3]);
        s.push('y');
        return Cow::Owned(s);
    }
    if ends("sses") || ends("xes") || ends("shes") || ends("zzes") {
        return Cow::Borrowed(&w[..n - 2]);
    }
    if ends("ches") {
        return Cow::Borrowed(if CHE_WORDS.binary_search(&&w[..n - 1]).is_ok() {
            &w[..n - 1]
        } else {
            &w[..n - 2]
        });
    }
    Cow::Borrowed(&w[..n - 1])
}

fn strip_possessive(word: &str) -> &str {
    let w = word.strip_suffix("'s").unwrap_or(word);
    w.strip_suffix('\'').unwrap_or(w)
}

fn lookup_irregular(w: &str) -> Option<&'static str> {
    IRREGULAR
        .binary_search_by(|(plural, _)| plural.cmp(&w))
        .ok()
        .map(|i| IRREGULAR[i].1)
}

/// Irregular plurals -> singular. Sorted by plural.
const IRREGULAR: &[(&str, &str)] = &[
    ("analyses", "analysis"),
    ("appendices", "appendix"),
    ("crises", "crisis"),
    ("diagnoses", "diagnosis"),
    ("hypotheses", "hypothesis"),
    ("indices", "index"),
    ("leaves", "leaf"),
    ("matrices", "matrix"),
    ("theses", "thesis"),
    ("vertices", "vertex"),
];

/// Words ending in `s` that are not plurals (or whose plural reading would merge two
/// different tags). Sorted.
const NON_PLURALS: &[&str] = &[
    "acoustics",
    "aesthetics",
    "afterwards",
    "always",
    "analytics",
    "asbestos",
    "athletics",
    "besides",
    "bioinformatics",
    "centos",
    "chaos",
    "chromeos",
    "cosmos",
    "dataops",
    "ddos",
    "devops",
    "devsecops",
    "diabetes",
    "dynamics",
    "economics",
    "electronics",
    "ergonomics",
    "ethics",
    "ethos",
    "finops",
    "genomics",
    "gitops",
    "graphics",
    "hermes",
    "https",
    "informatics",
    "ipados",
    "jenkins",
    "kubernetes",
    "linguistics",
    "llmops",
    "logistics",
    "macos",
    "mathematics",
    "means",
    "mechanics",
    "mlops",
    "news",
    "optics",
    "pathos",
    "perhaps",
    "physics",
    "politics",
    "postgres",
    "rails",
    "robotics",
    "secops",
    "semantics",
    "series",
    "sometimes",
    "species",
    "statistics",
    "thanos",
    "towards",
    "tvos",
    "visionos",
    "watchos",
    "whereas",
];

/// Plurals among words whose ending (`ss`, `us`, `is`, `as`) is otherwise kept. Sorted.
const SUFFIX_PLURALS: &[&str] = &[
    "agendas", "apis", "areas", "cameras", "clis", "cpus", "deltas", "emojis", "eras", "extras",
    "formulas", "gpus", "guis", "gurus", "ideas", "kpis", "lambdas", "menus", "personas", "quotas",
    "replicas", "schemas", "taxis", "tpus", "uris", "wikis",
];

/// Nouns ending in `ie` whose plural is `-ies`. Sorted.
const IE_WORDS: &[&str] = &[
    "auntie", "birdie", "bookie", "brownie", "calorie", "cookie", "cutie", "foodie", "freebie",
    "genie", "goalie", "goodie", "groupie", "hippie", "hoodie", "indie", "junkie", "movie",
    "newbie", "pixie", "prairie", "rookie", "selfie", "smoothie", "sweetie", "techie", "veggie",
    "zombie",
];

/// Nouns ending in `che` (their plural is `-ches` but they keep the `e`). Sorted.
const CHE_WORDS: &[&str] = &[
    "ache",
    "apache",
    "avalanche",
    "cache",
    "cliche",
    "creche",
    "headache",
    "moustache",
    "niche",
    "psyche",
    "quiche",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Option<String> {
        normalize(s)
    }

    #[test]
    fn nfkc_casefold_and_separators() {
        assert_eq!(n("Machine Learning").as_deref(), Some("machine-learning"));
        assert_eq!(n("machine_learning").as_deref(), Some("machine-learning"));
        assert_eq!(
            n("ＭＡＣＨＩＮＥ－Learning").as_deref(),
            Some("machine-learning")
        );
        assert_eq!(n("node.js").as_deref(), Some("node-js"));
        assert_eq!(n("CI/CD").as_deref(), Some("ci-cd"));
        assert_eq!(n("  a__b//c ").as_deref(), Some("a-b-c"));
        assert_eq!(n("Straße").as_deref(), Some("strasse"));
        assert_eq!(n("ﬁle").as_deref(), Some("file"), "ligatures decompose");
        assert_eq!(n("Ünïcode").as_deref(), Some("ünïcode"));
        assert_eq!(n("e\u{301}cole").as_deref(), Some("école"), "composed");
        assert_eq!(n("#rust").as_deref(), Some("rust"));
        assert_eq!(n(",#a").as_deref(), Some("a"));
        assert_eq!(n("\"Go\"").as_deref(), Some("go"));
        assert_eq!(n("(rust) ").as_deref(), Some("rust"));
        assert_eq!(n("C++").as_deref(), Some("cpp"));
        assert_eq!(n("C#").as_deref(), Some("csharp"));
        assert_eq!(n("zero\u{200b}width").as_deref(), Some("zerowidth"));
        assert_eq!(n(" - _ "), None);
        assert_eq!(n("!!!"), None);
        assert_eq!(n(""), None);
    }

    // Found by the `tag` fuzz target: controls between combining marks, dropped after
    // NFKC, left the marks out of canonical order, so normalising again changed them.
    #[test]
    fn a_normal_form_is_its_own_normal_form() {
        let raw = "\0\0\x30\u{485}\0\u{485}\u{5a5}\r\r\r\r\r\0\0\0\0\r";
        let once = n(raw).unwrap();
        assert_eq!(n(&once).as_deref(), Some(once.as_str()));
    }

    // Issue 15 item 2: a normal form is letters, digits and single hyphens, whatever the
    // author wrote.
    #[test]
    fn markup_paths_templates_and_bidi_are_slugged() {
        assert_eq!(
            n("<script>alert(1)</script>").as_deref(),
            Some("script-alert-1-script")
        );
        assert_eq!(
            n("<img src=x onerror=alert(1)>").as_deref(),
            Some("img-src-x-onerror-alert-1")
        );
        assert_eq!(n("../../etc/passwd").as_deref(), Some("etc-passwd"));
        assert_eq!(n("..\\..\\boot.ini").as_deref(), Some("boot-ini"));
        assert_eq!(n("a?b#c%d").as_deref(), Some("a-b-c-d"));
        assert_eq!(n("{{ tag }}").as_deref(), Some("tag"));
        assert_eq!(n("${jndi:ldap}").as_deref(), Some("jndi-ldap"));
        assert_eq!(
            n("javascript:alert(1)").as_deref(),
            Some("javascript-alert-1")
        );
        assert_eq!(n("\u{202e}gnp.exe\u{202c}").as_deref(), Some("gnp-exe"));
        assert_eq!(n("a\u{2066}b\u{2069}\u{061c}").as_deref(), Some("ab"));
        assert_eq!(n("rust 🦀").as_deref(), Some("rust"));
        assert_eq!(n("rust's").as_deref(), Some("rust"));
        assert_eq!(n("students'").as_deref(), Some("students"));
        assert_eq!(n("don’t panic").as_deref(), Some("dont-panic"));
        assert_eq!(n("Notepad++").as_deref(), Some("notepadpp"));
        assert_eq!(n("Google+").as_deref(), Some("googleplus"));
        assert_eq!(n("a+b").as_deref(), Some("a-b"));
        assert_eq!(n("c+++").as_deref(), Some("c"));
        assert_eq!(n("F#").as_deref(), Some("fsharp"));
        assert_eq!(n("rust#").as_deref(), Some("rust"));
        assert_eq!(n("c# c++").as_deref(), Some("csharp-cpp"));
        assert_eq!(
            n("हिन्दी").as_deref(),
            Some("हिन्दी"),
            "the virama is part of the word"
        );
        assert_eq!(n("<>{}"), None);
        assert_eq!(n("\u{202e}\u{202c}"), None);
    }

    #[test]
    fn agrees_with_the_model_floor_on_plain_tags() {
        for raw in [
            "Rust",
            "Machine Learning",
            "node.js",
            "a__b//c",
            "-lead-",
            "CI/CD",
            "GSoC",
        ] {
            assert_eq!(normalize(raw), kith_model::normalize_tag(raw), "{raw}");
        }
    }

    #[test]
    fn long_tags_are_cut_on_a_char_boundary() {
        let long = "é".repeat(80);
        let t = n(&long).unwrap();
        assert!(t.len() <= MAX_TAG_BYTES && t.chars().all(|c| c == 'é'));
        let t = n(&"a".repeat(80)).unwrap();
        assert_eq!(t.chars().count(), MAX_TAG_CHARS);
        assert_eq!(n(&format!("{}-b", "a".repeat(63))).unwrap(), "a".repeat(63));
    }

    #[test]
    fn plurals_fold() {
        for (a, b) in [
            ("containers", "container"),
            ("libraries", "library"),
            ("dependencies", "dependency"),
            ("classes", "class"),
            ("boxes", "box"),
            ("patches", "patch"),
            ("caches", "cache"),
            ("databases", "database"),
            ("videos", "video"),
            ("apis", "api"),
            ("gpus", "gpu"),
            ("llms", "llm"),
            ("cookies", "cookie"),
            ("indices", "index"),
            ("analyses", "analysis"),
            ("unit-tests", "unit-test"),
            ("rust's", "rust"),
            ("schemas", "schema"),
        ] {
            assert_eq!(match_key(a), match_key(b), "{a} vs {b}");
        }
    }

    #[test]
    fn words_ending_in_s_that_are_not_plurals() {
        for w in [
            "kubernetes",
            "css",
            "postgres",
            "news",
            "redis",
            "status",
            "analysis",
            "pandas",
            "macos",
            "ios",
            "aws",
            "devops",
            "physics",
            "series",
            "jenkins",
            "less",
            "sass",
            "https",
            "saas",
            "canvas",
            "atlas",
            "chaos",
            "ethos",
            "corpus",
            "prometheus",
            "js",
        ] {
            assert_eq!(match_key(w), w, "{w}");
        }
        assert_ne!(match_key("news"), match_key("new"));
    }

    #[test]
    fn keys_are_idempotent_and_keep_separators() {
        for w in [
            "containers",
            "libraries",
            "data-structures",
            "c++",
            "node-js",
            "go's",
        ] {
            let k = match_key(w);
            assert_eq!(match_key(&k), k, "{w}");
        }
        assert_eq!(match_key("data-structures"), "data-structure");
    }

    #[test]
    fn tables_are_sorted() {
        for t in [NON_PLURALS, SUFFIX_PLURALS, IE_WORDS, CHE_WORDS] {
            assert!(t.windows(2).all(|w| w[0] < w[1]), "{:?}", t);
        }
        assert!(IRREGULAR.windows(2).all(|w| w[0].0 < w[1].0));
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    /// Letters, digits and marks in words joined by single hyphens; `+` and `#` only at the
    /// end of a word (`c++`, `c#`).
    fn in_grammar(t: &str) -> bool {
        !t.starts_with('-')
            && !t.ends_with('-')
            && !t.contains("--")
            && t.char_indices().all(|(i, c)| {
                let ends_word = t[i..]
                    .trim_start_matches(['+', '#'])
                    .chars()
                    .next()
                    .is_none_or(|n| n == '-');
                let after_word = t[..i].chars().next_back().is_some_and(is_word);
                is_word(c)
                    || c == '-'
                    || (matches!(c, '+' | '#')
                        && ends_word
                        && (after_word || t[..i].ends_with('+')))
            })
    }

    proptest! {
        /// The normal form is a fixed point, has no edge or doubled dashes and no upper case.
        #[test]
        fn normal_form_is_stable(raw in "\\PC{0,40}") {
            if let Some(once) = normalize(&raw) {
                prop_assert_eq!(normalize(&once), Some(once.clone()));
                prop_assert!(!once.starts_with('-') && !once.ends_with('-'));
                prop_assert!(!once.contains("--"));
                prop_assert!(once.chars().any(char::is_alphanumeric));
                prop_assert!(once.len() <= MAX_TAG_BYTES);
                prop_assert!(once.chars().count() <= MAX_TAG_CHARS);
                prop_assert!(in_grammar(&once), "{:?}", once);
            }
        }

        /// Punctuation that markup, paths, templates and bidirectional tricks are made of
        /// never survives.
        #[test]
        fn hostile_characters_are_slugged(raw in "[a-cC<>{}()/.\\\\#+?%=;:'\"&$\u{202a}-\u{202e}\u{2066}-\u{2069} -]{0,30}") {
            if let Some(once) = normalize(&raw) {
                prop_assert!(in_grammar(&once), "{:?} from {:?}", once, raw);
                prop_assert_eq!(normalize(&once), Some(once.clone()));
            }
        }

        /// Keys are idempotent, and a plural of a tag has the same key as a tag.
        #[test]
        fn keys_are_stable(word in "[a-z]{1,12}(-[a-z]{1,8}){0,2}") {
            let k = match_key(&word);
            prop_assert_eq!(match_key(&k), k.clone());
            prop_assert_eq!(k.split('-').count(), word.split('-').count());
        }

        /// Case and separator style never change a tag.
        #[test]
        fn style_does_not_matter(words in prop::collection::vec("[a-z][a-z0-9]{0,8}", 1..4), sep in "[ _./]") {
            let lower = words.join("-");
            let styled: String = words.iter().map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
            }).collect::<Vec<_>>().join(&sep);
            prop_assert_eq!(normalize(&styled), normalize(&lower));
        }
    }
}
