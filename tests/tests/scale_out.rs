//! Two instances of one deployment at once, as replicas run it: two `spin up` processes on one
//! SQLite file and one key-value store (on `ONEGRID_RUNTIME=spin-redis`, one Redis), requests
//! spread over both. Nothing acknowledged may be lost, no webhook may leave twice when both send
//! at once, and a rate limit counts the requests of both. The native host is one process by
//! design, so this test runs on Spin only (CI runs it there) and says so elsewhere.

use std::collections::HashMap;
use std::sync::Barrier;
use std::time::{SystemTime, UNIX_EPOCH};

use onegrid_tests::serde_json::json;
use onegrid_tests::{
    FakeDepartment, Runtime, category_for, dispatch_to, new_department, nth_plain_cell, spawn_app,
};

const THREADS: usize = 4;
const REPORTS_PER_THREAD: usize = 4;
/// `access::limits::TRACK_PER_CLIENT`: tracking reads of one client a minute.
const TRACK_PER_CLIENT: usize = 120;

#[test]
fn two_instances_on_one_store_lose_nothing_send_each_webhook_once_and_share_the_limits() {
    if !Runtime::from_env().is_spin() {
        eprintln!("skipped: two instances need ONEGRID_RUNTIME=spin or spin-redis");
        return;
    }
    let a = spawn_app();
    let b = a
        .second_instance()
        .expect("a Spin deployment of this test's own");
    let fake = FakeDepartment::start(200);
    let category = category_for(&new_department(&a, &fake).0);

    // Reports from a few threads at once, each alternating the instances.
    let filed: Vec<(String, String, String)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (a, b, category) = (&a, &b, &category);
                scope.spawn(move || {
                    let (lat, lng, _) = nth_plain_cell(t);
                    (0..REPORTS_PER_THREAD)
                        .map(|n| {
                            let app = if (t + n) % 2 == 0 { a } else { b };
                            let description =
                                format!("Scale-out report {} of writer {}", word(n), word(t));
                            let reply = app.post_json(
                                "/api/reports",
                                &json!({"category": category, "description": description,
                                        "lat": lat, "lng": lng, "crs": "wgs84", "channel": "web"}),
                            );
                            reply.expect_status(201);
                            (
                                reply.body["tracking_code"]
                                    .as_str()
                                    .expect("a code")
                                    .to_owned(),
                                reply.body["id"].as_str().expect("an id").to_owned(),
                                description,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("a writer"))
            .collect()
    });
    assert_eq!(filed.len(), THREADS * REPORTS_PER_THREAD);
    for (code, _, description) in &filed {
        for app in [&a, &b] {
            let reply = app.get(&format!("/api/reports/{code}"));
            reply.expect_status(200);
            assert_eq!(reply.body["description"], description.as_str(), "{code}");
        }
    }
    let listed = a.operator().get(&format!(
        "/api/cases?category={category}&limit={}",
        filed.len() + 10
    ));
    listed.expect_status(200);
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(filed.len()),
        "every report once in the case list: {}",
        listed.text
    );

    // Webhooks that died (each department said 410 Gone, which also disables its endpoint)
    // are sent again, once the departments are back, by a resend on one instance while both
    // instances sweep at the same moment: each must arrive once, not twice.
    fake.respond_with(410);
    let departments: Vec<(String, String)> = (0..4).map(|_| new_department(&a, &fake)).collect();
    for (n, (code, _)) in departments.iter().enumerate() {
        let app = if n % 2 == 0 { &a } else { &b };
        dispatch_to(app, &filed[n].1, code).expect_status(200);
    }
    let dead = a.operator().get("/api/outbox?status=dead&limit=100");
    dead.expect_status(200);
    let dead_ids: Vec<String> = dead.body["items"]
        .as_array()
        .expect("the dead letters")
        .iter()
        .filter(|m| {
            departments
                .iter()
                .any(|(code, _)| m["department"] == code.as_str())
        })
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(dead_ids.len(), departments.len(), "{}", dead.text);
    for (code, secret) in &departments {
        a.admin()
            .put_json(
                &format!("/api/admin/departments/{code}"),
                &json!({"name": format!("Test department {code}"), "webhook_url": fake.url(), "secret": secret}),
            )
            .expect_status(200);
    }
    fake.respond_with(200);
    let before = fake.received().len();
    let start = Barrier::new(3);
    std::thread::scope(|scope| {
        let (start, dead_ids) = (&start, &dead_ids);
        let a = &a;
        let resender = scope.spawn(move || {
            start.wait();
            for id in dead_ids {
                a.operator()
                    .post_raw(&format!("/api/outbox/{id}/resend"), &[], Vec::new())
                    .expect_status(200);
            }
        });
        let sweepers: Vec<_> = [a, &b]
            .into_iter()
            .map(|app| {
                scope.spawn(move || {
                    start.wait();
                    for _ in 0..3 {
                        app.operator()
                            .post_raw("/api/sweep", &[], Vec::new())
                            .expect_status(200);
                    }
                })
            })
            .collect();
        resender.join().expect("the resender");
        for sweeper in sweepers {
            sweeper.join().expect("a sweeper");
        }
    });
    // Every message leaves once: the resent ones, and any other the sweeps found due (the
    // reports' pile-up in one cell raised early-warning alerts, `alert.raised` to the department).
    let mut sent: HashMap<String, usize> = HashMap::new();
    for delivery in &fake.received()[before..] {
        let id = delivery.header("webhook-id").unwrap_or_default().to_owned();
        *sent.entry(id).or_default() += 1;
    }
    assert!(
        sent.values().all(|&n| n == 1),
        "a webhook left twice: {sent:?}"
    );
    let resent = dead_ids.iter().filter(|id| sent.contains_key(*id)).count();
    assert_eq!(
        resent,
        dead_ids.len(),
        "one webhook a resent message: {sent:?}"
    );
    let delivered = a.operator().get("/api/outbox?status=delivered&limit=100");
    let delivered_ids: Vec<&str> = delivered.body["items"]
        .as_array()
        .expect("the delivered messages")
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    for id in &dead_ids {
        assert!(delivered_ids.contains(&id.as_str()), "{id} delivered");
    }

    // A rate limit counts both instances' requests: the tracking reads of one client a minute,
    // from a fresh minute (the reads above were this client's too).
    wait_for_a_new_minute();
    let (code, _, _) = &filed[filed.len() - 1];
    let mut answered = Vec::new();
    for n in 0..TRACK_PER_CLIENT + 10 {
        let app = if n % 2 == 0 { &a } else { &b };
        answered.push(app.get(&format!("/api/reports/{code}")).status);
    }
    let passed = answered.iter().filter(|&&s| s == 200).count();
    assert_eq!(
        passed, TRACK_PER_CLIENT,
        "the per-client limit over both instances: {answered:?}"
    );
    assert!(
        answered[passed..].iter().all(|&s| s == 429),
        "after the limit only 429: {answered:?}"
    );
    let served_by_both = |status: u16| {
        answered
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == status)
            .map(|(n, _)| n % 2)
            .collect::<std::collections::HashSet<_>>()
            .len()
            == 2
    };
    assert!(
        served_by_both(200) && served_by_both(429),
        "both instances answered and both refused: {answered:?}"
    );
    drop(b);
    drop(a);
}

/// A short word for `n` (free text masks digit groups, so descriptions carry no numbers).
fn word(n: usize) -> &'static str {
    [
        "one", "two", "three", "four", "five", "six", "seven", "eight",
    ][n % 8]
}

/// Sleeps until a new minute has begun, so that a count of requests starts from nothing and
/// stays inside one window of the limits.
fn wait_for_a_new_minute() {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        % 60_000;
    std::thread::sleep(std::time::Duration::from_millis(60_000 - ms as u64 + 200));
}
