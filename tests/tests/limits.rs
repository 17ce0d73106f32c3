//! The public routes' rate limits, over HTTP against a host with its limits on (the default):
//! a concurrent burst from one client gets no more than the limit through, the heavy public
//! reads (Open311's list, a district's GeoJSON, the sheet of QR signs, the workers of a cell)
//! answer 429 past theirs, and the reads of one tracking code are counted per client, not per
//! code. Every client of these tests is 127.0.0.1, so that one client cannot spend another's
//! budget is shown with two addresses in the unit tests (`api::staff_tests`).

use std::sync::Barrier;
use std::time::{SystemTime, UNIX_EPOCH};

use onegrid_tests::{Reply, TestApp, point_inside_a_cell, report_body, spawn_app};

const CATEGORY: &str = "landscape.greenway_sign";

/// Sleeps into the next minute when fewer than 20 s of this one are left, so that the requests
/// a test counts fall into one window of the limits.
fn room_in_this_minute() {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        % 60_000;
    if ms > 40_000 {
        std::thread::sleep(std::time::Duration::from_millis(60_000 - ms as u64 + 200));
    }
}

/// `n` GETs of `path` one after another: their statuses.
fn statuses(app: &TestApp, path: &str, n: usize) -> Vec<u16> {
    (0..n).map(|_| app.get(path).status).collect()
}

/// The first `limit` passed and the next one is a 429 with `Retry-After`.
fn limited_at(app: &TestApp, path: &str, limit: usize, passed: u16) {
    room_in_this_minute();
    let got = statuses(app, path, limit);
    assert!(
        got.iter().all(|s| *s == passed),
        "{path}: the first {limit} pass: {got:?}"
    );
    let refused: Reply = app.get(path);
    assert_eq!(refused.status, 429, "{path}: request {} refused", limit + 1);
    assert!(
        refused.header("retry-after").is_some(),
        "{path}: Retry-After"
    );
}

#[test]
fn a_concurrent_burst_from_one_client_gets_at_most_the_limit_through() {
    const LIMIT: usize = 20; // access::limits::REPORTS_PER_CLIENT
    const THREADS: usize = 40;
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    let body = report_body(CATEGORY, lat, lng);
    room_in_this_minute();
    let start = Barrier::new(THREADS);
    let got: Vec<u16> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (app, body, start) = (&app, &body, &start);
                scope.spawn(move || {
                    start.wait();
                    app.post_json("/api/reports", body).status
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a client"))
            .collect()
    });
    let through = got.iter().filter(|s| **s == 201).count();
    let refused = got.iter().filter(|s| **s == 429).count();
    eprintln!("burst of {THREADS} at a limit of {LIMIT}: {through} through, {refused} refused");
    assert_eq!(through + refused, THREADS, "only 201 or 429: {got:?}");
    assert_eq!(through, LIMIT, "exactly the limit through: {got:?}");
}

#[test]
fn the_open311_list_answers_429_past_its_limit() {
    let app = spawn_app();
    limited_at(&app, "/open311/v2/requests.json", 20, 200);
}

#[test]
fn a_districts_geojson_answers_429_past_its_limit() {
    let app = spawn_app();
    let (_, _, cell) = point_inside_a_cell();
    let district = &cell[..6];
    limited_at(&app, &format!("/api/grids/{district}.geojson"), 30, 200);
}

#[test]
fn the_sheet_of_signs_and_the_workers_of_a_cell_answer_429_past_their_limits() {
    let app = spawn_app();
    let (_, _, cell) = point_inside_a_cell();
    let community = &cell[..12];
    limited_at(
        &app,
        &format!("/api/assets/sheet.svg?area={community}"),
        5,
        200,
    );
    limited_at(&app, &format!("/api/grids/{cell}/workers"), 60, 200);
}

#[test]
fn one_client_reads_a_code_within_its_own_limit_whatever_the_code_was_read_before() {
    // A limit per code let 60 reads of a code (from anyone) lock its reporter out for the
    // minute; now a code's reads are the reading client's: 120 a minute, per client.
    const PER_CLIENT: usize = 120; // access::limits::TRACK_PER_CLIENT
    let app = spawn_app();
    let (lat, lng, _) = point_inside_a_cell();
    room_in_this_minute();
    let filed = app.post_json("/api/reports", &report_body(CATEGORY, lat, lng));
    filed.expect_status(201);
    let code = filed.body["tracking_code"]
        .as_str()
        .expect("a code")
        .to_owned();
    limited_at(&app, &format!("/api/reports/{code}"), PER_CLIENT, 200);
}
