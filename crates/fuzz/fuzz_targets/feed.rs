#![no_main]
// A whole body parsed, sanitised and bounded: no panic, and what comes out is bounded
// and plain where it must be.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(feed) = kith_crawl::fuzzing::feed(data, None) else {
        return;
    };
    for p in &feed.entries {
        assert!(p.title.chars().count() <= 500, "title not bounded");
        assert!(p.categories.len() <= 50, "categories not bounded");
        assert!(
            !p.content_html.to_ascii_lowercase().contains("<script"),
            "script kept"
        );
        assert!(
            p.url.as_deref().is_none_or(|u| u.starts_with("http")),
            "odd url {:?}",
            p.url
        );
    }
});
