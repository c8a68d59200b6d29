//! Bytes to UTF-8 text: byte-order mark, HTTP charset, XML declaration, and the bytes
//! themselves when a label contradicts them.

use encoding_rs::Encoding;
use std::borrow::Cow;

/// Decodes a feed body to UTF-8 text.
///
/// A byte-order mark wins, then the charset of the HTTP `Content-Type`, then the XML
/// declaration; UTF-8 otherwise. Two labels are overruled by the bytes, as feedparser and
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
    // UTF-16 declared in a document that is not UTF-16 on the wire is a lie we can see.
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
