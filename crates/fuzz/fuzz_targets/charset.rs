#![no_main]
// Decoding never panics, with or without a Content-Type.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (ct, body) = match data.split_first() {
        Some((&b, rest)) if b % 3 == 0 => (Some("text/xml; charset=utf-16"), rest),
        Some((&b, rest)) if b % 3 == 1 => (Some("application/rss+xml; charset=iso-8859-1"), rest),
        _ => (None, data),
    };
    let _ = kith_crawl::fuzzing::charset(body, ct);
});
