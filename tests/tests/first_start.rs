//! The native host's first start generates the tokens and the demo staff password it needs
//! and keeps them in `<data>/secrets.json`: its output names them and says where they are,
//! and shows none of their values (a log or a terminal's scrollback is no place for a token).

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use onegrid_tests::serde_json::Value;
use onegrid_tests::{host_binary, random_hex};

#[test]
fn the_first_start_says_where_its_secrets_are_without_showing_them() {
    let data = std::env::temp_dir().join(format!("onegrid-first-start-{}", random_hex(8)));
    let mut command = Command::new(host_binary());
    command
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Nothing given: the host makes every secret itself.
    for (name, _) in std::env::vars() {
        if name.starts_with("SPIN_VARIABLE_") {
            command.env_remove(name);
        }
    }
    let mut host = command.spawn().expect("starting the host");
    // Both streams are read as they come: the host has started once it says it listens.
    let output = Arc::new(Mutex::new(String::new()));
    let readers: Vec<_> = [
        host.stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        host.stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut stream| {
        let output = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut chunk) {
                output
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        })
    })
    .collect();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120)
        && !output.lock().unwrap().contains("OneGrid listening on")
        && host.try_wait().ok().flatten().is_none()
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let secrets: Option<Value> = std::fs::read(data.join("secrets.json"))
        .ok()
        .and_then(|b| onegrid_tests::serde_json::from_slice::<Value>(&b).ok())
        .filter(|s| s["operator_token"].is_string());
    let _ = host.kill();
    let _ = host.wait();
    for reader in readers {
        let _ = reader.join();
    }
    let output = output.lock().unwrap().clone();
    let _ = std::fs::remove_dir_all(&data);
    let secrets =
        secrets.unwrap_or_else(|| panic!("no secrets.json was written; the host said:\n{output}"));
    assert!(output.contains("OneGrid listening on"), "{output}");
    assert!(
        output.contains("secrets.json"),
        "the output says where they are: {output}"
    );
    assert!(
        output.contains("operator_token"),
        "the output names them: {output}"
    );
    let values: Vec<&str> = secrets
        .as_object()
        .expect("secrets.json is an object")
        .values()
        .filter_map(Value::as_str)
        .filter(|v| v.len() >= 8)
        .collect();
    assert!(
        values.len() >= 3,
        "tokens, keys and the staff password: {secrets}"
    );
    for value in values {
        assert!(
            !output.contains(value),
            "the output shows a secret's value:\n{output}"
        );
    }
}
