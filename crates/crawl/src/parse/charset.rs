//! Bytes to UTF-8 text: byte-order mark, the zero bytes of UTF-16 and UTF-32, HTTP charset,
//! XML declaration, and the bytes themselves when a label contradicts them.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// Decodes a feed body to UTF-8 text.
///
/// A byte-order mark wins, then the pattern of zero bytes that UTF-16 and UTF-32 put around
/// the first ASCII characters (XML 1.0 Appendix F, RFC 4627 section 3), then the charset of
/// the HTTP `Content-Type`, then the XML declaration; UTF-8 otherwise. A wide encoding found
/// in the bytes is the encoding: a label inside the document (`encoding="UTF-16"`) or on it
/// (`charset=utf-16`) has nothing more to say once the text is UTF-8, and a label saying
/// UTF-16 or UTF-32 on bytes that have no such pattern is a lie we can see. Two labels are overruled by the bytes, as feedparser and
/// browsers do: a legacy label on a body that is valid UTF-8 with non-ASCII text (a server
/// or template default nobody changed), and UTF-8 (said or assumed) on a body without a
/// single valid multi-byte sequence, which is Windows-1252 that never said so. Otherwise
/// undecodable bytes become U+FFFD instead of failing.
pub fn decode(body: &[u8], content_type: Option<&str>) -> String {
    decode_borrowed(body, content_type).into_owned()
}

/// [`decode`], borrowing the body when it already is the UTF-8 it should be (the usual
/// case): the parser reads it without a copy.
pub(super) fn decode_borrowed<'b>(body: &'b [u8], content_type: Option<&str>) -> Cow<'b, str> {
    if let Some((wide, skip)) = sniff_wide(body) {
        return Cow::Owned(wide.decode(&body[skip..]));
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(body) {
        return enc.decode_without_bom_handling(&body[bom_len..]).0;
    }
    let from_header = content_type
        .and_then(|ct| {
            ct.split(';')
                .skip(1)
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
                .map(|(_, v)| v.trim().trim_matches(['"', '\'']).to_owned())
        })
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let declared = from_header
        .or_else(|| xml_declared_encoding(body).and_then(|l| Encoding::for_label(l.as_bytes())));
    // UTF-16 declared in a document that is not UTF-16 on the wire (`sniff_wide` found
    // nothing) is a lie we can see. encoding_rs knows no UTF-32 label: that lie is UTF-8 too.
    let declared = declared.map(|enc| {
        if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            encoding_rs::UTF_8
        } else {
            enc
        }
    });
    match declared {
        Some(enc) if enc != encoding_rs::UTF_8 => match std::str::from_utf8(body) {
            Ok(utf8) if !utf8.is_ascii() => Cow::Borrowed(utf8),
            _ => enc.decode_without_bom_handling(body).0,
        },
        _ => match std::str::from_utf8(body) {
            Ok(utf8) => Cow::Borrowed(utf8),
            Err(_) if mostly_not_utf8(body) => {
                encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(body)
                    .0
            }
            Err(_) => String::from_utf8_lossy(body),
        },
    }
}

/// The encodings encoding_rs calls UTF-16 (it decodes them) and UTF-32 (it does not know
/// them; WHATWG dropped them, XML and JSON did not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wide {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

impl Wide {
    /// Decodes `body` (without its byte-order mark). Invalid sequences (an unpaired
    /// surrogate, a code point above U+10FFFF, a truncated last unit) become U+FFFD.
    fn decode(self, body: &[u8]) -> String {
        match self {
            Wide::Utf16Le => encoding_rs::UTF_16LE
                .decode_without_bom_handling(body)
                .0
                .into_owned(),
            Wide::Utf16Be => encoding_rs::UTF_16BE
                .decode_without_bom_handling(body)
                .0
                .into_owned(),
            Wide::Utf32Le | Wide::Utf32Be => {
                let mut out = String::with_capacity(body.len() / 4);
                let mut units = body.chunks_exact(4);
                for unit in &mut units {
                    let bytes = [unit[0], unit[1], unit[2], unit[3]];
                    let code = if self == Wide::Utf32Le {
                        u32::from_le_bytes(bytes)
                    } else {
                        u32::from_be_bytes(bytes)
                    };
                    out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                if !units.remainder().is_empty() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
                out
            }
        }
    }
}

/// UTF-16 or UTF-32 found in the first bytes, and how many bytes of byte-order mark to skip.
///
/// A byte-order mark says it outright (UTF-32's are checked first: `FF FE 00 00` is not
/// UTF-16 followed by U+0000, which neither XML nor JSON allows). Without one, XML and JSON
/// both start with an ASCII character (`<`, `{`, white space), and the zero bytes around it
/// give the encoding away: `3C 00 00 00` is UTF-32LE, `00 3C 00 3F` UTF-16BE, and so on.
/// ASCII-compatible text never has a zero byte there.
fn sniff_wide(body: &[u8]) -> Option<(Wide, usize)> {
    let ascii = |x: u8| x != 0 && x.is_ascii();
    Some(match *body {
        [0x00, 0x00, 0xfe, 0xff, ..] => (Wide::Utf32Be, 4),
        [0xff, 0xfe, 0x00, 0x00, ..] => (Wide::Utf32Le, 4),
        [0xfe, 0xff, ..] => (Wide::Utf16Be, 2),
        [0xff, 0xfe, ..] => (Wide::Utf16Le, 2),
        [0x00, 0x00, 0x00, x, ..] if ascii(x) => (Wide::Utf32Be, 0),
        [x, 0x00, 0x00, 0x00, ..] if ascii(x) => (Wide::Utf32Le, 0),
        [0x00, x, 0x00, y, ..] if ascii(x) && ascii(y) => (Wide::Utf16Be, 0),
        [x, 0x00, y, 0x00, ..] if ascii(x) && ascii(y) => (Wide::Utf16Le, 0),
        _ => return None,
    })
}

/// Whether invalid UTF-8 sequences outnumber valid multi-byte ones: Latin-1 text, where a
/// few letter pairs happen to form UTF-8 (`é` + no-break space + `»` does), rather than
/// UTF-8 with a stray byte.
fn mostly_not_utf8(body: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in body.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    invalid > valid
}

/// The `encoding="..."` of an XML declaration at the start of the body.
fn xml_declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(512)];
    let head = std::str::from_utf8(head).ok().or_else(|| {
        // Non-ASCII bytes later in the window: the declaration itself is ASCII.
        let end = head.iter().position(|&b| b == b'>')?;
        std::str::from_utf8(&head[..=end]).ok()
    })?;
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    // XML 1.0 Appendix F: the first four bytes of a document in each encoding.
    #[test]
    fn wide_encodings_are_told_by_their_first_bytes() {
        for (head, want) in [
            (&[0x00, 0x00, 0xfe, 0xff][..], Some((Wide::Utf32Be, 4))),
            (&[0xff, 0xfe, 0x00, 0x00], Some((Wide::Utf32Le, 4))),
            (&[0xfe, 0xff, 0x00, 0x3c], Some((Wide::Utf16Be, 2))),
            (&[0xff, 0xfe, 0x3c, 0x00], Some((Wide::Utf16Le, 2))),
            (&[0xfe, 0xff], Some((Wide::Utf16Be, 2))),
            (&[0x00, 0x00, 0x00, 0x3c], Some((Wide::Utf32Be, 0))),
            (&[0x3c, 0x00, 0x00, 0x00], Some((Wide::Utf32Le, 0))),
            (&[0x00, 0x3c, 0x00, 0x3f], Some((Wide::Utf16Be, 0))),
            (&[0x3c, 0x00, 0x3f, 0x00], Some((Wide::Utf16Le, 0))),
            // JSON (RFC 4627 section 3): white space or `{` first.
            (&[0x00, 0x7b, 0x00, 0x22], Some((Wide::Utf16Be, 0))),
            (&[0x20, 0x00, 0x00, 0x00], Some((Wide::Utf32Le, 0))),
            // ASCII-compatible: UTF-8 (with or without its mark), Latin-1, EBCDIC.
            (&[0xef, 0xbb, 0xbf, 0x3c], None),
            (b"<?xm", None),
            (&[0x4c, 0x6f, 0xa7, 0x94], None),
            (&[0x3c, 0x00], None),
            (&[], None),
        ] {
            assert_eq!(sniff_wide(head), want, "{head:02x?}");
        }
    }

    #[test]
    fn utf32_is_decoded_by_hand() {
        let le: Vec<u8> = [0x3c_u32, 0xe9, 0x1_f600, 0xdfff, 0xffff_ffff]
            .iter()
            .flat_map(|c| c.to_le_bytes())
            .collect();
        assert_eq!(Wide::Utf32Le.decode(&le), "<é😀\u{fffd}\u{fffd}");
        let be: Vec<u8> = [0x3c_u32, 0x1_f600]
            .iter()
            .flat_map(|c| c.to_be_bytes())
            .collect();
        assert_eq!(Wide::Utf32Be.decode(&be), "<😀");
        assert_eq!(Wide::Utf32Be.decode(&be[..7]), "<\u{fffd}");
        // A lone surrogate in UTF-16 too.
        assert_eq!(Wide::Utf16Le.decode(&[0x3c, 0x00, 0x00, 0xd8]), "<\u{fffd}");
    }
}
