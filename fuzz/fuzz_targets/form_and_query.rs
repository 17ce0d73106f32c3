#![no_main]
//! Form bodies and query strings.
use libfuzzer_sys::fuzz_target;
use onegrid::ApiRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let pairs = onegrid::http::parse_form(s);
    // Round trip: percent-encoding every byte of what we decoded gives it back.
    let enc = |t: &str| t.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    let back = onegrid::http::parse_form(&encoded.join("&"));
    assert_eq!(back, pairs);

    let req = ApiRequest::new("GET", &format!("/x?{s}"));
    let _ = req.query_pairs();
    let _ = req.query_param("lat");
    let _ = req.segments();
});
