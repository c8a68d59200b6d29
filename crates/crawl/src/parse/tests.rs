#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use chrono::Utc;

fn base() -> Url {
    Url::parse("https://blog.example/feed.xml").unwrap()
}

#[test]
fn rss_entries_become_posts() {
    let xml = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>My &amp; blog</title>
        <link>https://blog.example/</link><ttl>60</ttl>
        <item><title>First</title><link>/first</link><guid isPermaLink="false">g1</guid>
          <pubDate>Tue, 10 Jun 2025 04:00:00 GMT</pubDate><category>Rust</category><category>rust</category>
          <description>&lt;p&gt;Hello &lt;a href="/x"&gt;world&lt;/a&gt;&lt;script&gt;bad()&lt;/script&gt;&lt;/p&gt;</description></item>
        <item><title>No date, no guid</title><link>https://blog.example/second</link></item>
        <item><description>Only a body, no title or link</description></item>
        </channel></rss>"#;
    let now = Utc::now();
    let f = parse_feed(xml.as_bytes(), Some("application/rss+xml"), &base(), now).unwrap();
    assert_eq!(f.title.as_deref(), Some("My & blog"));
    assert_eq!(f.site_url.as_deref(), Some("https://blog.example/"));
    assert_eq!(f.ttl_minutes, Some(60));
    assert_eq!(f.entries.len(), 3);
    let a = &f.entries[0];
    assert_eq!(a.guid, "g1");
    assert_eq!(a.url.as_deref(), Some("https://blog.example/first"));
    assert_eq!(a.categories, vec!["Rust"]);
    assert_eq!(a.published.to_rfc3339(), "2025-06-10T04:00:00+00:00");
    assert!(
        a.content_html.contains("https://blog.example/x"),
        "{}",
        a.content_html
    );
    assert!(!a.content_html.contains("bad()"));
    assert_eq!(a.text, "Hello world");
    let b = &f.entries[1];
    assert_eq!(
        b.guid, "https://blog.example/second",
        "link stands in for a missing guid"
    );
    assert_eq!(b.published, now, "no date: first seen");
    let c = &f.entries[2];
    assert!(c.guid.starts_with("sha256:"), "{}", c.guid);
    assert_eq!(c.title, "Only a body, no title or link");
}

#[test]
fn future_dates_are_clamped() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
        <entry><id>e</id><title>x</title><updated>2999-01-01T00:00:00Z</updated></entry></feed>"#;
    let now = Utc::now();
    let f = parse_feed(xml.as_bytes(), None, &base(), now).unwrap();
    assert_eq!(f.entries[0].published, now);
}

#[test]
fn latin1_feed_with_a_bad_byte_still_parses() {
    let mut xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title><item><title>na\xefve \xff</title><guid>1</guid></item></channel></rss>".to_vec();
    let f = parse_feed(&xml, None, &base(), Utc::now()).unwrap();
    assert_eq!(f.title.as_deref(), Some("Café"));
    assert!(f.entries[0].title.starts_with("naïve"));
    // Declared UTF-8, and UTF-8 elsewhere, but with a stray Latin-1 byte: lossy, not lost.
    xml = "<rss version=\"2.0\"><channel><title>Caf\u{e9} X</title><item><title>ok</title><guid>1</guid></item></channel></rss>".as_bytes().to_vec();
    let at = xml.iter().position(|&b| b == b'X').unwrap();
    xml[at] = 0xff;
    let f = parse_feed(&xml, Some("text/xml; charset=utf-8"), &base(), Utc::now()).unwrap();
    assert_eq!(f.entries.len(), 1);
    assert_eq!(f.title.as_deref(), Some("Café \u{fffd}"));
}

#[test]
fn json_feed_and_language() {
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
        {"id":"1","url":"https://blog.example/1","title":"Un article","tags":["Cuisine"],
         "content_html":"<p>Ceci est un article écrit en français sur la cuisine et le pain au levain que je fais chaque semaine à la maison.</p>"}]}"#;
    let f = parse_feed(
        json.as_bytes(),
        Some("application/feed+json"),
        &base(),
        Utc::now(),
    )
    .unwrap();
    assert_eq!(f.entries[0].categories, vec!["Cuisine"]);
    assert_eq!(f.entries[0].language.as_deref(), Some("fra"));
}

#[test]
fn garbage_is_a_clear_error() {
    let err = parse_feed(b"<html><body>hi</body></html>", None, &base(), Utc::now()).unwrap_err();
    assert!(err.to_string().contains("not a readable feed"), "{err}");
    let err = parse_feed(b"{\"nope\":1}", None, &base(), Utc::now()).unwrap_err();
    assert!(!err.reason.is_empty());
}

#[test]
fn sniffing_tells_feeds_from_pages() {
    assert!(looks_like_feed(
        b"\xef\xbb\xbf<?xml version='1.0'?>\n<rss version='2.0'>"
    ));
    assert!(looks_like_feed(
        b"<feed xmlns='http://www.w3.org/2005/Atom'>"
    ));
    assert!(looks_like_feed(
        br#"{"version": "https://jsonfeed.org/version/1.1"}"#
    ));
    assert!(!looks_like_feed(
        b"<!doctype html><html><head><link rel=alternate href=/feed>"
    ));
    assert!(!looks_like_feed(b"{\"a\": 1}"));
}

fn parse(xml: &str) -> ParsedFeed {
    parse_feed(xml.as_bytes(), None, &base(), Utc::now()).unwrap()
}

fn titles(f: &ParsedFeed) -> Vec<&str> {
    f.entries.iter().map(|e| e.title.as_str()).collect()
}

fn urls(f: &ParsedFeed) -> Vec<Option<&str>> {
    f.entries.iter().map(|e| e.url.as_deref()).collect()
}

// Regression (corpus: miniflux utf8-incorrect-prolog.xml): a Latin-1 prolog on a UTF-8
// body read as Latin-1 made mojibake of every non-ASCII character.
#[test]
fn a_legacy_label_on_utf8_bytes_is_overruled() {
    let xml = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><feed><title>테스트 피드</title>\
        <entry><title>Café</title></entry></feed>";
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("테스트 피드"));
    assert_eq!(titles(&f), ["Café"]);
    assert_eq!(
        decode("Café".as_bytes(), Some("text/xml; charset=iso-8859-1")),
        "Café"
    );
    // Pure ASCII proves nothing: the label stands.
    assert_eq!(
        decode(b"Cafe", Some("text/xml; charset=iso-8859-1")),
        "Cafe"
    );
    assert_eq!(
        decode(b"caf\xe9", Some("text/xml; charset=iso-8859-1")),
        "café"
    );
}

// Regression (corpus: miniflux no_encoding_ISO-8859-1.xml): an undeclared Latin-1 feed
// came out full of U+FFFD; two letter triples happened to be valid UTF-8.
#[test]
fn an_undeclared_legacy_body_is_windows_1252() {
    assert_eq!(
        decode(b"tr\xe8s \xab\xa0dou\xe9\xa0\xbb \x80", None),
        "très «\u{a0}doué\u{a0}» €"
    );
    // Declared UTF-8 without one valid multi-byte sequence: the same.
    assert_eq!(decode(b"caf\xe9", Some("text/xml; charset=utf-8")), "café");
}

// Regression (corpus: every Atom 0.3 file): feed-rs does not know the Atom 0.3
// namespace, so the feed had no title and no entries.
#[test]
fn atom_03_is_read() {
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
        <feed version="0.3" xmlns="http://purl.org/atom/ns#">
          <title>dive into mark</title>
          <tagline>A lot of effort</tagline>
          <link rel="alternate" type="text/html" href="http://diveintomark.org/"/>
          <modified>2003-12-13T18:30:02Z</modified>
          <entry>
            <title>Atom 0.3 snapshot</title>
            <link rel="alternate" type="text/html" href="http://diveintomark.org/2003/12/13/atom03"/>
            <id>tag:diveintomark.org,2003:3.2397</id>
            <issued>2003-12-13T08:29:29-04:00</issued>
            <modified>2003-12-13T18:30:02Z</modified>
            <summary type="text/plain">It&apos;s a test</summary>
            <content type="text/html" mode="escaped"><![CDATA[<p>HTML content</p>]]></content>
          </entry>
          <entry>
            <title mode="base64">VGl0bGUgaW4gYmFzZTY0</title>
            <content type="text/html" mode="base64">PHA+RGVjb2RlZDwvcD4=</content>
          </entry>
        </feed>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("dive into mark"));
    assert_eq!(f.description.as_deref(), Some("A lot of effort"));
    assert_eq!(f.site_url.as_deref(), Some("http://diveintomark.org/"));
    assert_eq!(titles(&f), ["Atom 0.3 snapshot", "Title in base64"]);
    let a = &f.entries[0];
    assert_eq!(
        a.url.as_deref(),
        Some("http://diveintomark.org/2003/12/13/atom03")
    );
    assert_eq!(a.published.to_rfc3339(), "2003-12-13T12:29:29+00:00");
    assert_eq!(a.content_html, "<p>HTML content</p>");
    assert_eq!(f.entries[1].content_html, "<p>Decoded</p>");
}

// Regression (corpus: gofeed atom10_*_base64.xml, TestParseEntryWithTextSummary.xml):
// one Atom text construct of a type feed-rs does not know lost the whole feed.
#[test]
fn atom_text_of_any_type_does_not_lose_the_feed() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <title type="application/octet-stream">PHA+RmVlZCBUaXRsZTwvcD4=</title>
        <entry><id>1</id><title type="application/x-custom">test</title>
          <summary type="text/plain">AT&amp;T &lt;S&gt;</summary></entry>
        <entry><id>2</id><title type="text/html">&lt;b&gt;Bold&lt;/b&gt; move</title>
          <content type="text">a &lt;b&gt; is not bold</content></entry>
        </feed>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("Feed Title"));
    assert_eq!(titles(&f), ["test", "Bold move"]);
    assert_eq!(f.entries[0].text, "AT&T <S>");
    // type="text" content is text, not HTML.
    assert_eq!(f.entries[1].text, "a <b> is not bold");
}

// Regression (corpus: gofeed atom10_feed_entry_source_logo.xml, miniflux
// TestParseEntryWithDuplicateEnclosureURL.xml): one mismatched end tag lost the feed.
#[test]
fn mismatched_and_stray_end_tags_are_repaired() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
        <entry><id>1</id><title>One</title><source><logo>http://example.org/logo.jpg</link></source></entry>
        <entry><id>2</id><title>Two</title><link href="http://example.org/2"/></content></entry>
        <entry><id>3</id><title>Three <b>unclosed</title></entry>
        </feed>"#;
    let f = parse(xml);
    assert_eq!(titles(&f), ["One", "Two", "Three unclosed"]);
    assert_eq!(f.entries[1].url.as_deref(), Some("http://example.org/2"));
    // Elements left open at the end are closed.
    let f = parse("<rss version=\"2.0\"><channel><title>Cut</title><item><title>Half");
    assert_eq!(f.title.as_deref(), Some("Cut"));
    assert_eq!(titles(&f), ["Half"]);
}

// Regression (corpus: miniflux TestParseItemTitleWithInnerHTML.xml, rss-crate
// mixed_content.xml, gofeed *_naked_markup.xml): feed-rs kept only the text before the
// first child element ("Test:").
#[test]
fn markup_inside_titles_and_descriptions_is_kept_as_html() {
    let xml = r#"<rss version="2.0"><channel>
        <title><a href="http://example.com/">link</a> Title</title>
        <item><title>Test: <b>bold</b></title><guid>1</guid>
          <description><p>Para <a href="/x" title="a &amp; &quot;b&quot;">one</a></p><p>two</p></description></item>
        </channel></rss>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("link Title"));
    assert_eq!(titles(&f), ["Test: bold"]);
    let e = &f.entries[0];
    assert_eq!(e.text, "Para one\n\ntwo");
    assert!(
        e.content_html.contains(r#"href="https://blog.example/x""#),
        "{}",
        e.content_html
    );
    assert!(
        e.content_html.contains(r#"title="a &amp; &quot;b&quot;""#),
        "{}",
        e.content_html
    );
    // Atom: naked markup in an HTML title.
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id>
        <title type="html" xml:base="http://example.com/test/">Example <a href="test.html">test</a></title></entry></feed>"#;
    assert_eq!(titles(&parse(xml)), ["Example test"]);
}

// Regression (corpus: gofeed version_rss_*.xml, rss-crate dublincore.xml): feed-rs
// reads only RSS 0.91, 0.92 and 2.0 (and "") and refused every other version.
#[test]
fn any_rss_version_is_read_and_an_empty_feed_is_a_feed() {
    for version in [
        " version=\"0.93\"",
        " version=\"0.94\"",
        " version=\"2.01\"",
        "",
    ] {
        let xml = format!(
            "<rss{version}><channel><title>T</title><item><title>I</title></item></channel></rss>"
        );
        let f = parse(&xml);
        assert_eq!(
            (f.title.as_deref(), titles(&f)),
            (Some("T"), vec!["I"]),
            "{version}"
        );
    }
    let f = parse("<?xml version=\"1.0\"?>\n<rss version=\"2.0\">\n</rss>");
    assert_eq!(
        f,
        ParsedFeed {
            title: None,
            description: None,
            site_url: None,
            ttl_minutes: None,
            entries: vec![]
        }
    );
    assert!(parse_feed(b"<note><to>x</to></note>", None, &base(), Utc::now()).is_err());
}

// Regression (corpus: rss-crate rss090.xml, miniflux rdf_UTF8.xml; gofeed rdf_item_*.xml,
// miniflux TestParseItemWithoutLink.xml): RSS 0.90 was not read at all, and RSS 1.0
// items without a link were dropped.
#[test]
fn rss_090_and_linkless_rss_10_items_are_read() {
    let xml = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
            xmlns="http://my.netscape.com/rdf/simple/0.9/">
        <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
        <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
        </rdf:RDF>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("Mozilla Dot Org"));
    assert_eq!(urls(&f), [Some("http://www.mozilla.org/status/")]);
    let xml = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
        <channel rdf:about="http://example.org/index.rdf"><title>R</title></channel>
        <item rdf:about="http://example.org/entry/1"><title>No link</title><description>Test</description></item>
        <item rdf:about="http://example.org/entry/2"><title>Empty link</title><link></link></item>
        </rdf:RDF>"#;
    let f = parse(xml);
    assert_eq!(titles(&f), ["No link", "Empty link"]);
    // rdf:about names the item: its guid, not its link (as feedparser and miniflux read it).
    assert_eq!(f.entries[0].guid, "http://example.org/entry/1");
    assert_eq!(urls(&f), [None, None]);
}

// Regression (corpus: rss2sample.xml item 2, miniflux TestParseEntryWithOnlyGuidPermalink,
// TestParseEntryWithIDAsURL; gofeed rss_channel_item_comments.xml): a permalink guid was
// not used as the link, and a comments link was taken for the post's.
#[test]
fn links_from_guids_ids_and_never_comments() {
    let xml = r#"<rss version="2.0"><channel>
        <item><title>a</title><guid>http://example.org/a</guid></item>
        <item><title>b</title><guid isPermaLink="false">http://example.org/b</guid></item>
        <item><title>c</title><guid>abc123</guid></item>
        <item><title>d</title><comments>http://example.org/d#comments</comments></item>
        <item><title>e</title><comments>http://example.org/e#comments</comments><link>http://example.org/e</link></item>
        </channel></rss>"#;
    let f = parse(xml);
    assert_eq!(
        urls(&f),
        [
            Some("http://example.org/a"),
            None,
            None,
            None,
            Some("http://example.org/e")
        ]
    );
    assert_eq!(f.entries[1].guid, "http://example.org/b");
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <entry><id>http://www.example.org/entries/1</id><title>x</title></entry>
        <entry><id>mailto:john.doe@example.org</id><title>y</title></entry></feed>"#;
    assert_eq!(
        urls(&parse(xml)),
        [Some("http://www.example.org/entries/1"), None]
    );
}

// Regression (corpus: miniflux TestParseEntryWithAtomLink.xml,
// TestParseEntryWithDCTitleOnly.xml, gofeed issue_217_enclosure_children.xml,
// feed_fallbacks_-_rss_channel_dc.xml, feed_item_published_-_*_atom.xml): what feed-rs
// does not read in RSS items was lost.
#[test]
fn rss_items_borrow_from_atom_dublin_core_and_media_rss() {
    let xml = r#"<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
            xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
        <channel><dc:title>DC Title</dc:title>
        <item><title>Test</title><atom:link rel="payment" href="https://example.org/a"/>
          <atom:link rel="alternate" href="https://example.org/b"/>
          <atom:published>2019-01-02T15:04:05Z</atom:published></item>
        <item><dc:title>Entry Title</dc:title></item>
        <item><enclosure url="http://example.org/e.jpg" type="image/jpeg">
          <media:title><![CDATA[ <p>Enclosure title</p> ]]></media:title></enclosure></item>
        </channel></rss>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("DC Title"));
    assert_eq!(titles(&f), ["Test", "Entry Title", "Enclosure title"]);
    assert_eq!(f.entries[0].url.as_deref(), Some("https://example.org/b"));
    assert_eq!(
        f.entries[0].published.to_rfc3339(),
        "2019-01-02T15:04:05+00:00"
    );
}

// Regression (corpus: gofeed version_json_10.json, json10_simple.json, miniflux
// TestParseItemWithAuthorsObject.json, TestParseFeedWithoutTitle.json): feed-rs refused
// the whole feed for a "1.0" version, a missing title or an `authors` object.
#[test]
fn json_feed_is_read_leniently() {
    let json = r#"{"version": "1.0", "items": [{"content_text": "Only <text>", "id": 42}]}"#;
    let f = parse(json);
    assert_eq!(f.title, None);
    assert_eq!(f.entries[0].guid, "42");
    assert_eq!(f.entries[0].text, "Only <text>");
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "Example",
        "home_page_url": "https://example.org/", "items": [
        {"id": "1", "title": "</example>", "url": "/item", "date_published": "2020-01-02T03:04:05Z",
         "authors": {"name": "Example Author"}, "tags": "solo"},
        {"id": "2", "title": "Caf\u00e9 \ud83d\ude00", "content_html": "<p>x</p>", "tags": ["a", 1, "b",]},
        ]}"#;
    let f = parse(json);
    assert_eq!(f.title.as_deref(), Some("Example"));
    assert_eq!(f.site_url.as_deref(), Some("https://example.org/"));
    assert_eq!(titles(&f), ["</example>", "Café 😀"]);
    let a = &f.entries[0];
    assert_eq!(a.url.as_deref(), Some("https://blog.example/item"));
    assert_eq!(a.author.as_deref(), Some("Example Author"));
    assert_eq!(a.categories, ["solo"]);
    assert_eq!(a.published.to_rfc3339(), "2020-01-02T03:04:05+00:00");
    assert_eq!(f.entries[1].categories, ["a", "b"]);
    // Hostile nesting is refused, not recursed into.
    let deep = format!(
        "{{\"items\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(parse_feed(deep.as_bytes(), None, &base(), Utc::now()).is_err());
}

// Regression (corpus: miniflux TestParseItemTitleWithDoubleEncodedEntities.xml,
// TestParseItemTitleWithHTMLEntity.xml, gofeed *_xhtml_escaped_markup.xml): "&#39;" was
// shown as is, "</example>" vanished as a tag, and XHTML titles kept "&lt;p>".
#[test]
fn titles_read_as_people_mean_them() {
    let xml = r#"<rss version="2.0"><channel>
        <item><title>&amp;#39;Text&amp;#39;</title></item>
        <item><title>&lt;/example&gt;</title></item>
        <item><title>1 &lt; 2 &amp;&amp; 3 &gt; 2</title></item>
        <item><title>caf&eacute;&nbsp;cr&egrave;me</title></item>
        </channel></rss>"#;
    assert_eq!(
        titles(&parse(xml)),
        ["'Text'", "</example>", "1 < 2 && 3 > 2", "café crème"]
    );
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title type="xhtml">
        <div xmlns="http://www.w3.org/1999/xhtml">&lt;p&gt;Entry Title&lt;/p&gt;</div></title></entry></feed>"#;
    assert_eq!(titles(&parse(xml)), ["<p>Entry Title</p>"]);
}

// Bare `&` and `<`, control characters, invalid character references and entities
// declared in the DOCTYPE: each made quick-xml give up on the whole document.
#[test]
fn malformed_text_is_repaired() {
    let xml = "<!DOCTYPE rss [<!ENTITY who \"Ann &amp; Bob\">]><rss version=\"2.0\"><channel>\
        <title>Q&A by &who;</title>\
        <item><title>a < b \u{8}bell</title><link>http://example.org/?a=1&b=2</link>\
          <description>&#0;ok &#x1F600;</description></item></channel></rss>";
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("Q&A by Ann & Bob"));
    assert_eq!(titles(&f), ["a < b bell"]);
    assert_eq!(
        f.entries[0].url.as_deref(),
        Some("http://example.org/?a=1&b=2")
    );
    assert_eq!(f.entries[0].text, "ok 😀");
}

// Hostile documents: the repair pass stays linear and its output bounded.
#[test]
fn hostile_xml_stays_bounded() {
    let laughs = format!(
        "<!DOCTYPE rss [<!ENTITY lol \"{}\">]><rss version=\"2.0\"><channel><title>{}</title></channel></rss>",
        "lol".repeat(3_000),
        "&lol;".repeat(10_000)
    );
    let (out, _) = xml_repair::repair(&laughs);
    assert!(out.len() < 2 * (1 << 20) + laughs.len(), "{}", out.len());
    let many_attributes = (0..5_000)
        .map(|i| format!("a{i}=\"v\""))
        .collect::<Vec<_>>()
        .join(" ");
    let deep = format!(
        "<rss version=\"2.0\"><channel>{}{}<a {many_attributes}/></channel></rss>",
        "<x>".repeat(50_000),
        "</y>".repeat(50_000),
    );
    let (out, _) = xml_repair::repair(&deep);
    assert!(out.len() < deep.len(), "{}", out.len());
    assert!(parse_feed(deep.as_bytes(), None, &base(), Utc::now()).is_ok());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]

    // Whatever arrives, the repair pass and the JSON reader return, they do not panic
    // (every slice they take is on a character boundary, every loop advances).
    #[test]
    fn any_input_is_read_or_refused_without_panicking(
        xml in r#"(<\?xml version="1.0" encoding="(utf-8|latin1|bogus)"\?>|<!DOCTYPE x \[<!ENTITY e "v&amp;">\]>|<(rss|feed|rdf:RDF|channel|item|entry|title|link|guid|description|content|summary|div|b|p|br|dc:title|atom:link|media:title)( (version|type|mode|href|rel|isPermaLink|xmlns|xmlns:atom|xml:base|rdf:about)=("|')?(2.0|0.3|html|xhtml|base64|escaped|text/plain|application/octet-stream|http://www.w3.org/2005/Atom|http://purl.org/atom/ns#|false|x y|é)?("|')?)*(/)?>|</(rss|feed|rdf:RDF|channel|item|entry|title|link|div|b|p|x)>|<!\[CDATA\[|\]\]>|<!--|-->|&(amp|lt|eacute|nbsp|e|#0|#x1F600|#xD800|bogus)?;?|[a-zé€ \n<>&"'=/]|\u{0}|\u{8}|PHA+dGV4dDwvcD4=){0,40}"#,
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        json in r#"(\{|\}|\[|\]|,|:|"(version|items|title|id|url|authors|name|tags|content_html|date_published)"|"https://jsonfeed.org/version/1.1"|"\\u(d83d|de00|00e9|zz)"|"\\|[0-9.e-]{1,5}|true|null| ){0,40}"#,
    ) {
        let now = Utc::now();
        let _ = parse_feed(xml.as_bytes(), None, &base(), now);
        let _ = parse_feed(&bytes, Some("text/xml; charset=utf-8"), &base(), now);
        let _ = parse_feed(json.as_bytes(), Some("application/feed+json"), &base(), now);
        let mut garbled = xml.into_bytes();
        garbled.extend_from_slice(&bytes);
        let _ = parse_feed(&garbled, None, &base(), now);
    }
}

/// Every post body of the shared corpus (`KITH_CORPUS`: `feeds/` and the blogosphere), as
/// the parser hands it to the sanitiser, with the base it is sanitised against.
fn corpus_bodies() -> Option<Vec<(String, Url)>> {
    let given = std::path::PathBuf::from(std::env::var_os("KITH_CORPUS")?);
    let root = [
        given.clone(),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&given),
    ]
    .into_iter()
    .find(|r| r.join("feeds/manifest.jsonl").exists())?;
    let mut files = Vec::new();
    let manifest = std::fs::read_to_string(root.join("feeds/manifest.jsonl")).ok()?;
    for line in manifest.lines() {
        let entry: serde_json::Value = serde_json::from_str(line).ok()?;
        if entry["role"] == "feed" {
            files.push(root.join("feeds").join(entry["path"].as_str()?));
        }
    }
    for site in std::fs::read_dir(root.join("blogosphere/sites")).ok()? {
        let site = site.ok()?.path();
        for name in ["feed.xml", "atom.xml", "feed.json"] {
            if site.join(name).exists() {
                files.push(site.join(name));
            }
        }
    }
    let mut bodies = Vec::new();
    for path in files {
        let Ok(body) = std::fs::read(&path) else {
            continue;
        };
        let feed_url = Url::parse(&format!("http://corpus.test/{}", path.display())).ok()?;
        let text = charset::decode_borrowed(&body, None);
        let raw = if text
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('{')
        {
            json_feed::read(&text)
        } else {
            read_xml(&text, &feed_url)
        };
        let Ok(raw) = raw else { continue };
        for item in raw.items {
            let base = item
                .base
                .as_deref()
                .and_then(|b| feed_url.join(b).ok())
                .unwrap_or_else(|| feed_url.clone());
            bodies.push((item.body.unwrap_or_default(), base));
        }
    }
    Some(bodies)
}

/// The sanitiser's fast path gives ammonia's bytes (and the text of them) on every post of
/// the corpus it takes, and takes most of them.
#[test]
fn sanitiser_fast_path_agrees_with_ammonia_on_the_corpus() {
    use crate::sanitize::{Sanitizer, html_to_text, text_of_clean};
    let Some(bodies) = corpus_bodies() else {
        eprintln!("skipped: KITH_CORPUS does not hold the corpus");
        return;
    };
    let (mut fast, mut fast_bytes, mut total_bytes) = (0usize, 0usize, 0usize);
    for (html, base) in &bodies {
        let sanitizer = Sanitizer::new(Some(base));
        let slow = sanitizer.clean_with_ammonia(html);
        total_bytes += html.len();
        if let Some((clean, text)) = sanitizer.clean_fast(html) {
            assert_eq!(clean, slow, "fast path differs from ammonia on {html:?}");
            assert_eq!(text, html_to_text(&slow), "text differs on {html:?}");
            fast += 1;
            fast_bytes += html.len();
        } else if std::env::var_os("KITH_FAST_DEBUG").is_some() {
            let at = sanitizer.fast_refusal(html).unwrap_or(0);
            let at = (0..=at)
                .rev()
                .find(|i| html.is_char_boundary(*i))
                .unwrap_or(0);
            let ctx: String = html[at..].chars().take(100).collect();
            eprintln!("REFUSED {} bytes at {at}: {ctx:?}", html.len());
        }
        // What the parser uses, whichever way it goes.
        let (clean, text) = sanitizer.clean_with_text(html);
        assert_eq!(clean, slow);
        assert_eq!(text, text_of_clean(&slow));
    }
    eprintln!(
        "fast path: {fast} of {} bodies, {fast_bytes} of {total_bytes} bytes",
        bodies.len()
    );
    assert!(
        bodies.len() > 500,
        "only {} bodies in the corpus",
        bodies.len()
    );
    assert!(
        fast_bytes * 2 > total_bytes,
        "the fast path took only {fast_bytes} of {total_bytes} bytes"
    );
}

/// `s` in UTF-16 (little- or big-endian), with or without a byte-order mark.
fn utf16(s: &str, little: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for unit in bom.then_some(0xfeff).into_iter().chain(s.encode_utf16()) {
        let bytes = if little {
            unit.to_le_bytes()
        } else {
            unit.to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// `s` in UTF-32 (little- or big-endian), with or without a byte-order mark.
fn utf32(s: &str, little: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in bom.then_some('\u{feff}').into_iter().chain(s.chars()) {
        let bytes = if little {
            u32::from(c).to_le_bytes()
        } else {
            u32::from(c).to_be_bytes()
        };
        out.extend_from_slice(&bytes);
    }
    out
}

/// Every way of writing `text` in UTF-16 and UTF-32, named.
fn wide_encodings(text: &str) -> Vec<(String, Vec<u8>)> {
    let mut all = Vec::new();
    for little in [true, false] {
        for bom in [true, false] {
            let end = if little { "LE" } else { "BE" };
            let mark = if bom { "with BOM" } else { "without BOM" };
            all.push((format!("UTF-16{end} {mark}"), utf16(text, little, bom)));
            all.push((format!("UTF-32{end} {mark}"), utf32(text, little, bom)));
        }
    }
    all
}

// Issue 15 item 4: UTF-16 and UTF-32 feeds were refused as "no RSS, Atom or JSON Feed
// root element" (and without a byte-order mark not even taken for feeds).
#[test]
fn utf16_and_utf32_feeds_are_read_with_or_without_a_byte_order_mark() {
    let rss = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<rss version=\"2.0\"><channel>\
        <title>Café 😀</title><item><title>Ünïcode “quoted” 𝄞</title><guid>1</guid>\
        <category>Rust</category><description>&lt;p&gt;Body &amp;amp; text&lt;/p&gt;</description>\
        </item></channel></rss>";
    let atom = "<?xml version='1.0' encoding='utf-32'?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
        <title>Ατομ</title><entry><id>a</id><title type=\"html\">&lt;b&gt;日本語&lt;/b&gt;</title>\
        </entry></feed>";
    for (name, body) in wide_encodings(rss) {
        assert!(looks_like_feed(&body), "{name}: not taken for a feed");
        // Without a label, with the right one, and with a wrong one: the bytes decide, and
        // the declaration inside (`encoding="UTF-16"`) does not decode the text again.
        for content_type in [
            None,
            Some("application/rss+xml; charset=utf-16"),
            Some("application/rss+xml; charset=iso-8859-1"),
        ] {
            let f = parse_feed(&body, content_type, &base(), Utc::now())
                .unwrap_or_else(|e| panic!("{name} {content_type:?}: {e}"));
            assert_eq!(
                f.title.as_deref(),
                Some("Café 😀"),
                "{name} {content_type:?}"
            );
            assert_eq!(
                titles(&f),
                ["Ünïcode “quoted” 𝄞"],
                "{name} {content_type:?}"
            );
            assert_eq!(f.entries[0].text, "Body & text", "{name}");
            assert_eq!(f.entries[0].categories, ["Rust"], "{name}");
        }
    }
    for (name, body) in wide_encodings(atom) {
        let f =
            parse_feed(&body, None, &base(), Utc::now()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(f.title.as_deref(), Some("Ατομ"), "{name}");
        assert_eq!(titles(&f), ["日本語"], "{name}");
    }
}

#[test]
fn a_json_feed_in_utf16_or_utf32_is_read() {
    let json = r#"  {"version": "https://jsonfeed.org/version/1.1", "title": "Jeść 😀",
        "items": [{"id": "1", "title": "Zürich", "content_text": "x", "tags": ["Ελληνικά"]}]}"#;
    for (name, body) in wide_encodings(json) {
        assert!(looks_like_feed(&body), "{name}: not taken for a feed");
        let f = parse_feed(&body, Some("application/feed+json"), &base(), Utc::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(f.title.as_deref(), Some("Jeść 😀"), "{name}");
        assert_eq!(titles(&f), ["Zürich"], "{name}");
        assert_eq!(f.entries[0].categories, ["Ελληνικά"], "{name}");
    }
}

#[test]
fn invalid_utf32_becomes_replacement_characters_not_a_lost_feed() {
    let (head, tail) = (
        "<rss version=\"2.0\"><channel><item><guid>1</guid><title>a",
        "b</title></item></channel></rss>",
    );
    for little in [true, false] {
        let mut body = utf32(head, little, false);
        // A surrogate and a code point past U+10FFFF: neither is a character.
        for bad in [0xd800u32, 0x0011_0000] {
            body.extend_from_slice(&if little {
                bad.to_le_bytes()
            } else {
                bad.to_be_bytes()
            });
        }
        body.extend(utf32(tail, little, false));
        // A unit cut short at the end.
        body.extend_from_slice(&[0, 0]);
        let f = parse_feed(&body, None, &base(), Utc::now()).unwrap();
        assert_eq!(
            titles(&f),
            ["a\u{fffd}\u{fffd}b"],
            "little endian: {little}"
        );
        assert!(decode(&body, None).ends_with("</rss>\u{fffd}"));
    }
}

// A label saying UTF-16 on bytes that are not (no zero bytes where UTF-16 has them) is
// not believed, inside the document or on it.
#[test]
fn a_utf16_label_on_utf8_bytes_is_overruled() {
    let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel>\
        <title>Café</title></channel></rss>";
    for content_type in [
        None,
        Some("text/xml; charset=utf-16"),
        Some("text/xml; charset=UTF-32"),
    ] {
        let f = parse_feed(xml.as_bytes(), content_type, &base(), Utc::now()).unwrap();
        assert_eq!(f.title.as_deref(), Some("Café"), "{content_type:?}");
    }
}

// Issue 15 item 2: plain-text fields are decoded once, as the format declares them, and
// come out as text.
#[test]
fn rss_titles_are_decoded_once_and_never_become_markup() {
    let xml = r#"<rss version="2.0"><channel>
        <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; feed</title>
        <item><guid>1</guid><title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;</title></item>
        <item><guid>2</guid><title>&lt;script&gt;alert(1)&lt;/script&gt;Hello</title></item>
        <item><guid>3</guid><title>&lt;x onmouseover="alert(1)"&gt;Hover&lt;/x&gt; me</title></item>
        <item><guid>4</guid><title><![CDATA[<b>Bold</b> &amp;lt;i&amp;gt;]]></title></item>
        <item><guid>5</guid><title>&lt;img src=x onerror=alert(1)&gt;Picture &amp;amp; more</title></item>
        <item><guid>6</guid><title>Don&amp;#39;t &amp;amp; won&amp;#x27;t</title></item>
        </channel></rss>"#;
    let f = parse(xml);
    assert_eq!(
        f.title.as_deref(),
        Some("&lt;script&gt;alert(1)&lt;/script&gt; feed")
    );
    assert_eq!(
        titles(&f),
        [
            // Escaped twice: one decode leaves the text `&lt;script&gt;`.
            "&lt;script&gt;alert(1)&lt;/script&gt;",
            // Escaped once: HTML, reduced to its text.
            "Hello",
            "Hover me",
            "Bold &lt;i&gt;",
            "Picture & more",
            // Left over from escaping twice: characters, but never `&` again.
            "Don't &amp; won't",
        ]
    );
    for e in &f.entries {
        assert!(!e.title.contains('<'), "{:?}", e.title);
    }
}

#[test]
fn atom_titles_follow_their_declared_type() {
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <title type="text">&lt;b&gt;Feed&lt;/b&gt;</title>
        <entry><id>1</id><title type="html">&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;Safe&lt;/b&gt; title</title></entry>
        <entry><id>2</id><title type="text">&lt;b&gt; is bold</title></entry>
        <entry><id>3</id><title>Default &lt;b&gt; and &amp;#39; stay</title></entry>
        <entry><id>4</id><title type="html">&amp;amp;lt;script&amp;amp;gt; twice</title></entry>
        <entry><id>5</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script><i>X</i>html</div></title></entry>
        </feed>"#;
    let f = parse(xml);
    assert_eq!(f.title.as_deref(), Some("<b>Feed</b>"));
    assert_eq!(
        titles(&f),
        [
            "Safe title",
            // Text is text: `<b>` is three characters, not an element.
            "<b> is bold",
            "Default <b> and &#39; stay",
            // The HTML `&amp;lt;script&amp;gt;` (escaped twice) is the text `&lt;script&gt;`.
            "&lt;script&gt; twice",
            "Xhtml",
        ]
    );
}

#[test]
fn json_feed_titles_are_plain_text() {
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "<i>J</i> &amp; co",
        "items": [{"id": "1", "title": "<b>Bold</b> &amp; &lt;plain&gt;", "content_text": "x"}]}"#;
    let f = parse(json);
    assert_eq!(f.title.as_deref(), Some("<i>J</i> &amp; co"));
    assert_eq!(titles(&f), ["<b>Bold</b> &amp; &lt;plain&gt;"]);
}

#[test]
fn authors_never_hold_markup() {
    let xml = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
        <item><guid>1</guid><title>a</title><dc:creator>&lt;img src=x onerror=alert(1)&gt;Ann &lt;script&gt;steal()&lt;/script&gt;Lee</dc:creator></item>
        <item><guid>2</guid><title>b</title><dc:creator>&lt;script&gt;alert(1)&lt;/script&gt;</dc:creator></item>
        <item><guid>3</guid><title>c</title><dc:creator>Zoë &amp;amp; Co</dc:creator></item>
        </channel></rss>"#;
    let f = parse(xml);
    let authors: Vec<Option<&str>> = f.entries.iter().map(|e| e.author.as_deref()).collect();
    assert_eq!(authors, [Some("Ann Lee"), None, Some("Zoë &amp; Co")]);
    let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom">
        <author><name>&lt;b onclick="x()"&gt;Feed&lt;/b&gt; Author</name></author>
        <entry><id>1</id><title>a</title><author><name>&lt;img src=x onerror=alert(1)&gt;Bob</name></author></entry>
        <entry><id>2</id><title>b</title></entry></feed>"#;
    let f = parse(xml);
    let authors: Vec<Option<&str>> = f.entries.iter().map(|e| e.author.as_deref()).collect();
    assert_eq!(authors, [Some("Bob"), Some("Feed Author")]);
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": "1", "content_text": "x", "authors": [{"name": "<script>alert(1)</script>Cy"}]}]}"#;
    assert_eq!(parse(json).entries[0].author.as_deref(), Some("Cy"));
}

#[test]
fn categories_are_tags_not_markup_paths_or_templates() {
    let xml = "<rss version=\"2.0\"><channel><item><guid>1</guid><title>a</title>\
        <category>&lt;script&gt;alert(1)&lt;/script&gt;</category>\
        <category>&lt;b&gt;Rust&lt;/b&gt;</category>\
        <category>&amp;lt;script&amp;gt;</category>\
        <category>../../etc/passwd</category>\
        <category>{{ 7*7 }}</category>\
        <category>javascript:alert(1)</category>\
        <category>\u{202e}gnp.exe\u{202c}</category>\
        <category>100%</category><category>What's new?#</category>\
        <category>   </category>\
        <category>C++</category><category>C#</category><category>Node.js</category>\
        <category>Systems  Programming</category><category>#hashtag</category>\
        </item></channel></rss>";
    let f = parse(xml);
    assert_eq!(
        f.entries[0].categories,
        [
            "Rust",
            "etc/passwd",
            "gnp.exe",
            "What's new",
            "C++",
            "C#",
            "Node.js",
            "Systems Programming",
            "hashtag"
        ]
    );
    let atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><title>a</title>\
        <category term=\"&lt;img src=x onerror=alert(1)&gt;\"/><category term=\"x\u{2066}y\"/>\
        <category term=\"hindi\" label=\"Hindi\"/><category term=\"हिन्दी\"/></entry></feed>";
    assert_eq!(parse(atom).entries[0].categories, ["xy", "hindi", "हिन्दी"]);
    let json = r#"{"version": "https://jsonfeed.org/version/1.1", "items": [{"id": "1",
        "content_text": "x", "tags": ["<i>go</i>", "{% raw %}", "a/../b", "-lead-", "C++"]}]}"#;
    assert_eq!(
        parse(json).entries[0].categories,
        ["go", "a b", "lead", "C++"]
    );
}

// Found by the `feed` fuzz target: feed-rs 3.0.0 panics on an author with a non-ASCII
// letter right before the address (it slices inside the character). The feed's error,
// said plainly; the caller goes on.
#[test]
fn a_panic_in_feed_rs_is_the_feeds_error() {
    let xml = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>T</title>\
               <link>http://example.com/</link><author>au\u{a3}thor@example.com</author>\
               </item></channel></rss>";
    match parse_feed(xml.as_bytes(), None, &base(), Utc::now()) {
        Ok(f) => assert_eq!(f.entries.len(), 1),
        Err(e) => assert!(e.reason.contains("feed-rs"), "{}", e.reason),
    }
}
