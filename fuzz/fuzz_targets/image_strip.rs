#![no_main]
//! The photo stripper, as every photo of a report or a department's result meets it: the
//! image's kind by its magic bytes, its declared size, then its metadata stripped. None of it
//! may panic; what comes out is the same kind, and stripping it again changes nothing (the
//! allow-list keeps nothing it would drop on a second pass).
use libfuzzer_sys::fuzz_target;
use onegrid::case::evidence::{check_dimensions, sniff, strip_metadata};

fuzz_target!(|data: &[u8]| {
    let _ = check_dimensions(data);
    let Some(kind) = sniff(data) else { return };
    if let Ok(clean) = strip_metadata(kind, data) {
        assert_eq!(sniff(&clean), Some(kind), "stripping keeps the image's kind");
        let again = strip_metadata(kind, &clean).expect("a stripped image strips again");
        assert_eq!(again, clean, "a second strip changes nothing");
    }
});
