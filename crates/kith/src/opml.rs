//! OPML 2.0 in and out: the blogroll format every feed reader speaks.

use quick_xml::XmlVersion;
use quick_xml::events::Event;

/// One feed from an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    pub xml_url: String,
    pub html_url: Option<String>,
    pub title: Option<String>,
}

/// Why an OPML file was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum OpmlError {
    #[error("not OPML: malformed XML at byte {position}: {message}")]
    Xml { position: u64, message: String },
    #[error("not OPML: the root element is <{0}>, expected <opml>")]
    NotOpml(String),
}

/// Every `<outline>` with an `xmlUrl`, at any depth (folders are flattened).
pub fn parse(text: &str) -> Result<Vec<Outline>, OpmlError> {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut out = Vec::new();
    let mut saw_root = false;
    loop {
        let event = reader.read_event().map_err(|e| OpmlError::Xml {
            position: reader.buffer_position(),
            message: e.to_string(),
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if !saw_root {
                    if name != "opml" {
                        return Err(OpmlError::NotOpml(name));
                    }
                    saw_root = true;
                    continue;
                }
                if name != "outline" {
                    continue;
                }
                let mut xml_url = None;
                let mut html_url = None;
                let mut title = None;
                let mut text_attr = None;
                for attr in e.attributes().with_checks(false).flatten() {
                    let key = attr.key.local_name().as_ref().to_ascii_lowercase();
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map(|v| v.trim().to_owned())
                        .unwrap_or_default();
                    if value.is_empty() {
                        continue;
                    }
                    match key.as_str() {
                        "xmlurl" => xml_url = Some(value),
                        "htmlurl" => html_url = Some(value),
                        "title" => title = Some(value),
                        "text" => text_attr = Some(value),
                        _ => {}
                    }
                }
                if let Some(xml_url) = xml_url {
                    out.push(Outline {
                        xml_url,
                        html_url,
                        title: title.or(text_attr),
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(OpmlError::NotOpml("nothing".into()));
    }
    Ok(out)
}

/// An OPML 2.0 document listing `outlines`.
pub fn write(title: &str, outlines: &[Outline], now: chrono::DateTime<chrono::Utc>) -> String {
    use quick_xml::escape::escape;
    let mut s = String::with_capacity(256 + outlines.len() * 160);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    s.push_str(&format!("    <title>{}</title>\n", escape(title)));
    s.push_str(&format!(
        "    <dateCreated>{}</dateCreated>\n",
        now.to_rfc2822()
    ));
    s.push_str("    <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n");
    for o in outlines {
        let t = o.title.as_deref().unwrap_or(&o.xml_url);
        s.push_str(&format!(
            "    <outline type=\"rss\" text=\"{t}\" title=\"{t}\" xmlUrl=\"{x}\"",
            t = escape(t),
            x = escape(&o.xml_url)
        ));
        if let Some(h) = &o.html_url {
            s.push_str(&format!(" htmlUrl=\"{}\"", escape(h)));
        }
        s.push_str("/>\n");
    }
    s.push_str("  </body>\n</opml>\n");
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nested_outlines_round_trip() {
        let text = r#"<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>
            <outline text="Tech"><outline text="A &amp; B" type="rss" xmlUrl="https://a.example/feed" htmlUrl="https://a.example/"/></outline>
            <outline title="No feed" htmlUrl="https://c.example/"/>
            <outline text="B" xmlUrl=" https://b.example/rss "/></body></opml>"#;
        let got = parse(text).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].title.as_deref(), Some("A & B"));
        assert_eq!(got[1].xml_url, "https://b.example/rss");
        let again = parse(&write("t", &got, chrono::Utc::now())).unwrap();
        assert_eq!(again, got);
    }

    #[test]
    fn non_opml_is_refused() {
        assert!(matches!(parse("<rss></rss>"), Err(OpmlError::NotOpml(_))));
        assert!(matches!(
            parse("<opml><body><outline"),
            Err(OpmlError::Xml { .. })
        ));
        assert!(parse("").is_err());
    }
}
