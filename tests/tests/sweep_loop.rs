//! The sweep's scheduler beside a deployment with no scheduler of its own (`spin up`):
//! scripts/sweep-loop, as README gives it, retries a webhook the department first refused,
//! on whatever runtime this suite runs on.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use onegrid_tests::{
    FakeDepartment, category_for, dispatch_to, file_report, new_department, spawn_app,
    workspace_dir,
};

/// The first retry waits 30–60 s (`exchange::outbox`'s backoff): the loop must bring it.
const RETRY_WITHIN: Duration = Duration::from_secs(90);

#[test]
fn the_sweep_loop_retries_a_refused_webhook() {
    let app = spawn_app();
    let fake = FakeDepartment::start(503);
    let (department, _secret) = new_department(&app, &fake);
    let case = file_report(&app, &category_for(&department));
    let id = case["id"].as_str().expect("an id");
    let dispatch = dispatch_to(&app, id, &department);
    dispatch.expect_status(200);
    assert_eq!(
        dispatch.body["delivery"]["status"], "pending",
        "{}",
        dispatch.text
    );
    fake.respond_with(200);

    // A wrong token: one call, refused, and the script says so by its exit status.
    let refused = Command::new(workspace_dir().join("scripts/sweep-loop"))
        .args(["--once", "--base", app.base_url()])
        .env("ONEGRID_OPERATOR_TOKEN", "not-the-token")
        .output()
        .expect("running scripts/sweep-loop");
    assert!(!refused.status.success(), "a 401 is a failed call");
    assert!(
        String::from_utf8_lossy(&refused.stdout).contains(" 401 "),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );

    let mut looping = Command::new(workspace_dir().join("scripts/sweep-loop"))
        .args(["--every", "2", "--base", app.base_url()])
        .env("ONEGRID_OPERATOR_TOKEN", app.operator_token())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting scripts/sweep-loop");
    let (tx, lines) = mpsc::channel::<String>();
    let stdout = looping.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut seen = Vec::new();
    while fake.received().len() < 2 && started.elapsed() < RETRY_WITHIN {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
            seen.push(line);
        }
    }
    let _ = looping.kill();
    let _ = looping.wait();
    seen.extend(lines.try_iter());

    let received = fake.received();
    assert_eq!(
        received.len(),
        2,
        "the refused webhook and its one retry within {RETRY_WITHIN:?}; the loop printed {seen:?}"
    );
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id"),
        "the retry is the same message"
    );
    assert!(
        seen.iter().any(|line| line.contains(" 200 {")),
        "the loop prints each call's status and summary: {seen:?}"
    );
}
