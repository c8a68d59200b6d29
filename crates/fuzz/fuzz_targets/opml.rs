#![no_main]
// OPML import never panics.
libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = kith::opml::parse(text);
});
