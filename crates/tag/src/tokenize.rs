//! Words of a post, with what the extractor needs to know about each one: where it is,
//! whether punctuation separates it from the previous word, whether it starts a sentence,
//! how it is capitalised, and whether it sits in a block of code.
//!
//! One pass over the text, no regular expressions and no allocation per word: a token is a
//! byte range into the text it came from.

/// Punctuation or a paragraph break lies between this token and the previous one.
pub(crate) const BREAK: u8 = 1;
/// First word of a sentence (its capital letter says nothing).
pub(crate) const SENTENCE_START: u8 = 2;
/// Starts with an upper-case letter.
pub(crate) const CAPITALISED: u8 = 4;
/// Two or more letters, all upper case (`GSOC` is, `GSoC` is not).
pub(crate) const ALL_CAPS: u8 = 8;
/// Looks like code: `snake_case`, `fmt.Println`, `getElementById`, or in a code block.
pub(crate) const CODE: u8 = 16;
/// Has no letter.
pub(crate) const NUMBER: u8 = 32;
/// Has an upper-case letter after a lower-case one (`GSoC`, `GitHub`, `macOS`).
pub(crate) const INNER_CAPS: u8 = 64;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub start: u32,
    pub end: u32,
    pub flags: u8,
    /// Index of the sentence the token is in, counted over the whole input.
    pub sentence: u32,
}

impl Token {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.start as usize..self.end as usize)
            .unwrap_or("")
    }
}

/// Characters that join two runs of letters or digits into one word when they sit between
/// them: `turn-up`, `don't`, `node.js`, `snake_case`.
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '\'' | '’' | '.' | '_' | '\u{2010}' | '\u{2011}')
}

/// Characters counted as code when a paragraph has many of them.
fn is_code_char(c: char) -> bool {
    matches!(
        c,
        '{' | '}' | '(' | ')' | '[' | ']' | ';' | '=' | '<' | '>' | '$' | '\\' | '|' | '&' | '*'
    )
}

/// Tokenises `src`, appending to `out`. Sentence numbers continue from `first_sentence`;
/// returns the next free sentence number.
pub(crate) fn tokenize(src: &str, first_sentence: u32, out: &mut Vec<Token>) -> u32 {
    let bytes = src.as_bytes();
    let mut sentence = first_sentence;
    let mut pending_break = true;
    let mut sentence_start = true;
    let mut newlines = 0u32;
    // Code detection per paragraph: tokens of the paragraph start at `para_first`.
    let mut para_first = out.len();
    let mut para_code_chars = 0usize;

    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            let start = i;
            let mut end = i + c.len_utf8();
            let mut upper = usize::from(c.is_uppercase());
            let mut lower = usize::from(c.is_lowercase());
            let mut letters = usize::from(c.is_alphabetic());
            let mut inner_caps = false;
            let mut prev_lower = c.is_lowercase();
            let mut code = false;
            let mut dots = 0usize;
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() {
                    if d.is_uppercase() {
                        upper += 1;
                        if prev_lower {
                            inner_caps = true;
                        }
                    }
                    if d.is_lowercase() {
                        lower += 1;
                    }
                    letters += usize::from(d.is_alphabetic());
                    prev_lower = d.is_lowercase();
                    end = j + d.len_utf8();
                    chars.next();
                } else if is_joiner(d) {
                    // A joiner counts only when a letter or digit follows it (a letter
                    // after an apostrophe: `don't`, but `GSoC'21` is two words).
                    let after = src[j + d.len_utf8()..].chars().next();
                    let joins = if matches!(d, '\'' | '’') {
                        after.is_some_and(char::is_alphabetic)
                    } else {
                        after.is_some_and(char::is_alphanumeric)
                    };
                    if joins {
                        if d == '_' {
                            code = true;
                        }
                        if d == '.' {
                            dots += 1;
                        }
                        chars.next();
                        prev_lower = false;
                    } else {
                        break;
                    }
                } else {
                    break;
                }
            }
            // `c++`, `c#`, `f#`: a short word may end in `+`s or one `#`.
            if end - start <= 2 && letters == end - start {
                let rest = &bytes[end..];
                let plus = rest.iter().take_while(|&&b| b == b'+').count();
                if plus > 0 && plus <= 2 {
                    end += plus;
                    while chars.peek().is_some_and(|&(j, _)| j < end) {
                        chars.next();
                    }
                } else if rest.first() == Some(&b'#') {
                    end += 1;
                    chars.next();
                }
            }
            let word = &src[start..end];
            if dots > 0 && !is_dotted_name(word) {
                code = true;
            }
            let first_upper = c.is_uppercase();
            if inner_caps && !first_upper && (upper >= 2 && lower >= 2 && !is_short_brand(word)) {
                // `getElementById`, `setTimeout`: identifiers, not names (`macOS`, `iPhone`
                // are short and stay words).
                code = true;
            }
            let mut flags = 0u8;
            if pending_break {
                flags |= BREAK;
            }
            if sentence_start {
                flags |= SENTENCE_START;
            }
            if first_upper {
                flags |= CAPITALISED;
            }
            if upper >= 2 && lower == 0 {
                flags |= ALL_CAPS;
            }
            if inner_caps {
                flags |= INNER_CAPS;
            }
            if code {
                flags |= CODE;
            }
            if letters == 0 {
                flags |= NUMBER;
            }
            out.push(Token {
                start: start as u32,
                end: end as u32,
                flags,
                sentence,
            });
            pending_break = false;
            sentence_start = false;
            newlines = 0;
        } else if c.is_whitespace() {
            if c == '\n' {
                newlines += 1;
                if newlines == 2 {
                    // A paragraph: a new sentence, and a chance to judge the last one.
                    mark_code_paragraph(&mut out[para_first..], para_code_chars);
                    para_first = out.len();
                    para_code_chars = 0;
                    pending_break = true;
                    if !sentence_start {
                        sentence += 1;
                    }
                    sentence_start = true;
                }
            }
        } else {
            newlines = 0;
            pending_break = true;
            if is_code_char(c) {
                para_code_chars += 1;
            }
            if matches!(c, '.' | '!' | '?' | '…' | '。')
                && chars.peek().is_none_or(|&(_, d)| d.is_whitespace())
                && !sentence_start
            {
                sentence += 1;
                sentence_start = true;
            }
        }
    }
    mark_code_paragraph(&mut out[para_first..], para_code_chars);
    if sentence_start {
        sentence
    } else {
        sentence + 1
    }
}

/// A paragraph with many code characters per word is code: its words are identifiers and
/// keywords, not what the post is about.
fn mark_code_paragraph(tokens: &mut [Token], code_chars: usize) {
    if code_chars >= 4 && code_chars * 5 >= tokens.len() {
        for t in tokens {
            t.flags |= CODE;
        }
    }
}

/// `node.js`, `asp.net`, `socket.io`: a name with a dot, not `fmt.Println` or `main.go`.
fn is_dotted_name(word: &str) -> bool {
    match word.rsplit_once('.') {
        Some((head, tail)) => {
            !head.contains('.')
                && matches!(
                    tail.to_ascii_lowercase().as_str(),
                    "js" | "net" | "io" | "ai" | "rs" | "jl" | "py"
                )
        }
        None => true,
    }
}

/// Lower-case-first names with capitals inside that are products, not identifiers.
fn is_short_brand(word: &str) -> bool {
    word.len() <= 7
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<(String, u8)> {
        let mut v = Vec::new();
        tokenize(s, 0, &mut v);
        v.iter().map(|t| (t.text(s).to_owned(), t.flags)).collect()
    }

    #[test]
    fn joins_and_splits() {
        let w = words("Turn-up time, don't: node.js and C++ or C# (fmt.Println) snake_case.");
        let texts: Vec<&str> = w.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Turn-up",
                "time",
                "don't",
                "node.js",
                "and",
                "C++",
                "or",
                "C#",
                "fmt.Println",
                "snake_case"
            ]
        );
        assert!(w[0].1 & SENTENCE_START != 0 && w[0].1 & CAPITALISED != 0);
        assert!(w[2].1 & BREAK != 0);
        assert!(w[3].1 & CODE == 0);
        assert!(w[8].1 & CODE != 0);
        assert!(w[9].1 & CODE != 0);
    }

    #[test]
    fn sentences_and_paragraphs() {
        let mut v = Vec::new();
        let s = "One two. Three\nfour\n\nFive six";
        let next = tokenize(s, 0, &mut v);
        let sent: Vec<u32> = v.iter().map(|t| t.sentence).collect();
        assert_eq!(sent, [0, 0, 1, 1, 2, 2]);
        assert_eq!(next, 3);
        assert!(v[3].flags & BREAK == 0, "a single newline wraps a line");
        assert!(v[4].flags & BREAK != 0 && v[4].flags & SENTENCE_START != 0);
    }

    #[test]
    fn code_paragraphs_are_marked() {
        let mut v = Vec::new();
        let s = "Prose about things.\n\nfunc main() { x := f(a, b); if err != nil { return } }";
        tokenize(s, 0, &mut v);
        assert!(v[0].flags & CODE == 0);
        assert!(v[3..].iter().all(|t| t.flags & CODE != 0));
    }
}
