#![no_main]
//! An Open311 form post (GeoReport v2 `POST requests`): decoded, then gathered into fields and
//! attributes, then read the way the handler reads it.
use libfuzzer_sys::fuzz_target;
use onegrid::exchange::open311::{split_format, Form};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let form = Form::parse(onegrid::http::parse_form(s));
    let _ = form.get(&["service_code", "lat", "long", "device_id", "deviceid"]);
    let _ = form.all("media_url");
    for k in form.fields.keys() {
        let _ = split_format(k);
    }
});
