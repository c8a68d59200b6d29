#![no_main]
// A tag's normal form is letters, digits and single hyphens, at most 64 characters, and
// normalising it again changes nothing.
libfuzzer_sys::fuzz_target!(|s: &str| {
    for f in [kith_tag::normalize::normalize, kith_model::normalize_tag] {
        if let Some(t) = f(s) {
            assert!(t.chars().count() <= 64, "{t:?} too long");
            assert!(
                !t.starts_with('-') && !t.ends_with('-') && !t.contains("--"),
                "{t:?}"
            );
            assert!(
                t.chars()
                    .all(|c| c == '-' || c.is_alphanumeric() || !c.is_ascii()),
                "{t:?}"
            );
            assert!(!t.chars().any(kith_model::is_invisible), "{t:?}");
            assert_eq!(f(&t).as_deref(), Some(t.as_str()), "not idempotent");
        }
    }
});
