#![no_main]
//! Report JSON, as the intake endpoint reads it: parse, then validate. Neither may panic.
use libfuzzer_sys::fuzz_target;
use onegrid::case::report::ReportInput;

fuzz_target!(|data: &[u8]| {
    if let Ok(input) = serde_json::from_slice::<ReportInput>(data) {
        let _ = input.validate();
        // Round trip: what we parsed serialises and parses back.
        let again = serde_json::to_vec(&input).expect("a parsed report serialises");
        serde_json::from_slice::<ReportInput>(&again).expect("a serialised report parses");
    }
});
