#![no_main]
//! An inbound event of a built-in platform (12345 hotline, digital city management, public
//! safety): JSON, read with that platform's mapping, then turned into a report and validated.
use libfuzzer_sys::fuzz_target;
use onegrid::exchange::platforms::{built_in_mapping, BUILT_IN};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let code = BUILT_IN[which as usize % BUILT_IN.len()];
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    let mapping = built_in_mapping(code).expect("a built-in mapping");
    if let Ok(inbound) = mapping.read(&payload) {
        let _ = mapping.action(inbound.status.as_deref());
        if let Ok(input) = inbound.report_input(&mapping) {
            let _ = input.validate();
        }
    }
});
