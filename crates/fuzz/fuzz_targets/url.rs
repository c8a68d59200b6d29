#![no_main]
// URL normalisation never panics and is idempotent.
libfuzzer_sys::fuzz_target!(|s: &str| {
    if let Ok(once) = kith_model::normalize_url(s) {
        let twice = kith_model::normalize_url(once.as_str()).expect("a normal URL normalises");
        assert_eq!(once, twice, "not idempotent");
    }
});
