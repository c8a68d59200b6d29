#![no_main]
// The repair pass never panics, and a repaired document repairs to itself.
libfuzzer_sys::fuzz_target!(|text: &str| {
    let once = kith_crawl::fuzzing::xml_repair(text);
    let twice = kith_crawl::fuzzing::xml_repair(&once);
    assert_eq!(once, twice, "repair is not idempotent");
});
