#![no_main]
// Differential: wherever the sanitiser's fast path answers, it equals ammonia.
libfuzzer_sys::fuzz_target!(|html: &str| {
    let (fast, ammonia) = kith_crawl::fuzzing::sanitizer_paths(html);
    if let Some(fast) = fast {
        assert_eq!(
            fast, ammonia,
            "the fast path differs from ammonia on {html:?}"
        );
    }
});
