#![no_main]
//! A callback: headers (`name: value` lines) up to the first blank line, then the body,
//! checked with a fixed secret. Must not panic; and a body signed with the secret verifies.
use libfuzzer_sys::fuzz_target;
use onegrid::http::webhook;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let (mut id, mut ts, mut sig) = (None, None, None);
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "webhook-id" => id = Some(value),
            "webhook-timestamp" => ts = Some(value),
            "webhook-signature" => sig = Some(value),
            _ => {}
        }
    }
    let _ = webhook::verify(&[SECRET, "not-base64!"], id, ts, sig, body, NOW, 300);

    // Round trip: our own signature over this body verifies.
    let id = id.unwrap_or("msg_1");
    let good = webhook::sign(SECRET, id, NOW, body).expect("the fixed secret is valid");
    let now = NOW.to_string();
    webhook::verify(&[SECRET], Some(id), Some(&now), Some(&good), body, NOW, 300)
        .expect("a body we signed verifies");
});
