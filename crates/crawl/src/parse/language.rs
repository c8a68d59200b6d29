//! The language of a post, guessed from its title and a bounded sample of its text.

/// Most characters of text used to guess a post's language; more adds time, not accuracy.
/// (Most of whatlang's cost does not depend on the sample: it looks up every trigram of
/// every candidate language's profile, however short the text.)
const LANGUAGE_SAMPLE: usize = 2_000;
/// Fewer letters than this (title and text together) say nothing reliable about the
/// language (whatlang is never confident below about 30), and asking costs as much as
/// parsing a small feed.
const LANGUAGE_MIN_LETTERS: usize = 20;

/// ISO 639-3 code of the post's language, when the text says so with confidence.
pub fn detect_language(title: &str, text: &str) -> Option<String> {
    let letters = title
        .chars()
        .chain(text.chars().take(LANGUAGE_SAMPLE))
        .filter(|c| c.is_alphabetic())
        .take(LANGUAGE_MIN_LETTERS)
        .count();
    if letters < LANGUAGE_MIN_LETTERS {
        return None;
    }
    let mut sample = String::with_capacity(LANGUAGE_SAMPLE + title.len() + 1);
    sample.push_str(title);
    sample.push('\n');
    sample.extend(text.chars().take(LANGUAGE_SAMPLE));
    let info = whatlang::detect(&sample)?;
    (info.is_reliable() || info.confidence() > 0.5).then(|| info.lang().code().to_owned())
}
