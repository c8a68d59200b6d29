#![no_main]
// The JSON Feed reader never panics.
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = kith_crawl::fuzzing::json_feed(text);
});
