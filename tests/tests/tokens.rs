//! Service tokens expire, and rotate with an overlap: a token variable holds the current token
//! with its time and, for a while, its predecessor (`docs/api.md`, "Service tokens"). The
//! native host's `rotate-token` writes both into `secrets.json` and prints no token.

use std::process::Command;

use onegrid_tests::serde_json::Value;
use onegrid_tests::{host_binary, random_hex, spawn_app_at};

fn w3c_in(hours: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    onegrid::time::rfc3339(now + hours * 3_600_000)
}

#[test]
fn an_expired_service_token_is_refused_and_the_rotated_one_and_its_overlap_work() {
    let data = std::env::temp_dir().join(format!("onegrid-tokens-{}", random_hex(8)));
    let (new, old, gone) = (
        format!("op-new-{}", random_hex(12)),
        format!("op-old-{}", random_hex(12)),
        format!("op-gone-{}", random_hex(12)),
    );
    let value = format!(
        "{new};until={},{old};until={},{gone};until={}",
        w3c_in(24 * 90),
        w3c_in(1),
        w3c_in(-1)
    );
    let admin = format!("admin-{}", random_hex(12));
    let app = spawn_app_at(&data, &value, &admin, &[]);
    let with = |token: &str| {
        app.public().send(
            "GET",
            "/api/cases?limit=1",
            &[("authorization", &format!("Bearer {token}"))],
            Vec::new(),
        )
    };
    with(&new).expect_status(200);
    with(&old).expect_status(200);
    let expired = with(&gone);
    expired.expect_problem(401, "unauthorized");
    assert!(expired.text.contains("expired"), "{}", expired.text);
    with("op-new").expect_problem(401, "unauthorized");
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn rotate_token_writes_a_new_token_keeps_the_old_for_the_overlap_and_prints_neither() {
    let data = std::env::temp_dir().join(format!("onegrid-rotate-{}", random_hex(8)));
    std::fs::create_dir_all(&data).unwrap();
    let old = random_hex(32);
    std::fs::write(
        data.join("secrets.json"),
        format!(
            r#"{{"operator_token": "{old}", "operator_token_until": "{}"}}"#,
            w3c_in(500)
        ),
    )
    .unwrap();
    let rotate = |overlap: &str| {
        let out = Command::new(host_binary())
            .args([
                "rotate-token",
                "operator_token",
                "--overlap-hours",
                overlap,
                "--data",
            ])
            .arg(&data)
            .output()
            .expect("running rotate-token");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let said = String::from_utf8_lossy(&out.stdout).into_owned();
        let secrets: Value = onegrid_tests::serde_json::from_slice(
            &std::fs::read(data.join("secrets.json")).unwrap(),
        )
        .unwrap();
        (said, secrets)
    };
    let (said, secrets) = rotate("2");
    let new = secrets["operator_token"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(!said.contains(&new) && !said.contains(&old), "{said}");
    assert!(said.contains("secrets.json"), "{said}");
    let previous = secrets["operator_token_previous"].as_str().unwrap();
    let (token, until) = previous.split_once(";until=").unwrap();
    assert_eq!(token, old);
    // The overlap is two hours, not the old token's remaining 500.
    let until = onegrid::time::parse(until, 0).unwrap();
    let two_hours = onegrid::time::parse(&w3c_in(2), 0).unwrap();
    assert!((until - two_hours).abs() < 60_000, "{previous}");
    assert!(secrets["operator_token_until"].is_string());

    // Another rotation replaces the predecessor; a refused name changes nothing.
    let (_, again) = rotate("0");
    assert!(
        again["operator_token_previous"]
            .as_str()
            .unwrap()
            .starts_with(&new)
    );
    let refused = Command::new(host_binary())
        .args(["rotate-token", "session_keys", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let _ = std::fs::remove_dir_all(&data);
}
