//! The indicators against a small data set checked by hand: seven cases driven through
//! `app::cases::create_with` and `app::cases::apply_move` on real SQLite, every figure asserted exactly; then
//! the month/day split, the backfill, scoping, and the HTTP route (JSON and CSV).

use futures::executor::block_on;
use serde_json::{Value as Json, json};

use super::*;
use crate::ApiRequest;
use crate::access::auth::{Principal, StaffRole};
use crate::case::Role;
use crate::case::report::{Channel, ReportInput};
use crate::case::store::{self, Actor, Reporter};
use crate::db::in_transaction;
use crate::directory::{self, CategoryInput, DepartmentInput};
use crate::grid::code::Level;
use crate::grid::{CellMatch, GridRef, MatchKind};
use crate::native::testenv::{OPERATOR_TOKEN, TestEnv};

const HOUR: i64 = 3_600_000;
const A: &str = "350203001001001"; // district 350203, street 350203001
const B: &str = "350203002001001"; // district 350203, street 350203002
const C: &str = "350211001001001"; // district 350211, street 350211001

/// A moment in city time (UTC+8): a date and hours after its midnight.
fn at(date: &str, hours: f64) -> i64 {
    parse_date(date).unwrap() * DAY_MS - CITY_UTC_OFFSET_MS + (hours * HOUR as f64) as i64
}

fn env() -> TestEnv {
    let env = TestEnv::new();
    block_on(async {
        crate::app::schema::migrate(&env).await.unwrap();
        for code in ["municipal", "urban"] {
            // Through serde, as the admin route reads it: the fields default as they do there.
            let input: DepartmentInput =
                serde_json::from_value(json!({"name": format!("{code} dept")})).unwrap();
            directory::upsert_department(&env, code, &input, 0)
                .await
                .unwrap();
        }
        // Pothole: 2 h to sign for, 24 h to handle, 12 h to verify; litter: 1 h, 8 h, 12 h.
        for (code, dept, hours) in [
            ("roads.pothole", "municipal", [2.0, 24.0, 12.0]),
            ("environment.litter", "urban", [1.0, 8.0, 12.0]),
        ] {
            let input = CategoryInput {
                sign_for_hours: hours[0],
                handle_hours: hours[1],
                verify_hours: hours[2],
                ..CategoryInput::new(code, code, "event", dept)
            };
            directory::upsert_category(&env, code, &input)
                .await
                .unwrap();
        }
    });
    env
}

fn report(env: &TestEnv, category: &str, cell: &str, when: i64, reporter: Reporter) -> String {
    env.now.set(when);
    let input = ReportInput {
        category: Some(category.into()),
        description: Some("Something to fix here".into()),
        // Far apart, so that no case is a probable duplicate of another.
        lat: Some(24.45 + (when % 1000) as f64 * 0.001),
        lng: Some(118.08),
        ..Default::default()
    };
    let report = input.validate().unwrap();
    let cell = CellMatch {
        cell: GridRef {
            code: cell.into(),
            name: cell.into(),
            level: Level::Cell,
        },
        chain: vec![],
        kind: MatchKind::Inside,
        distance_m: 0.0,
    };
    block_on(async {
        let category = directory::category(env, category).await.unwrap().unwrap();
        crate::app::cases::create_with(
            env,
            &report,
            &category,
            &cell,
            &reporter,
            when,
            async |_| Ok(()),
        )
        .await
        .unwrap()
        .0
        .id
    })
}

fn citizen(env: &TestEnv, category: &str, cell: &str, when: i64) -> String {
    report(env, category, cell, when, Reporter::citizen())
}

/// One move, in its own transaction, as the handlers make them.
fn step(env: &TestEnv, id: &str, mv: Move, when: i64, input: MoveInput, details: Json) {
    env.now.set(when);
    let role = match mv {
        Move::SignFor | Move::Return | Move::Start | Move::RequestExtension | Move::Handle => {
            Role::Department
        }
        Move::SelfHandle => Role::GridWorker,
        Move::Evaluate => Role::Citizen,
        _ => Role::Operator,
    };
    let actor = Actor {
        role,
        id: "test".into(),
        channel: Channel::Console,
    };
    block_on(async {
        let case = store::by_id(env, id).await.unwrap().unwrap();
        in_transaction(env, async {
            crate::app::cases::apply_move(env, &case, mv, &actor, &input, details, when).await
        })
        .await
        .unwrap_or_else(|e| panic!("{mv:?} on {id}: {e:?}"));
    });
}

fn plain(env: &TestEnv, id: &str, mv: Move, when: i64) {
    step(env, id, mv, when, MoveInput::default(), json!({}));
}

fn dispatch(env: &TestEnv, id: &str, department: &str, when: i64) {
    let input = MoveInput {
        department: Some(department.into()),
        ..Default::default()
    };
    step(env, id, Move::Dispatch, when, input, json!({}));
}

fn with_note(env: &TestEnv, id: &str, mv: Move, when: i64) {
    let input = MoveInput {
        note: Some("done".into()),
        reason: Some("because".into()),
        hours: Some(4.0),
        ..Default::default()
    };
    step(env, id, mv, when, input, json!({}));
}

fn rate(env: &TestEnv, id: &str, rating: &str, when: i64) {
    step(
        env,
        id,
        Move::Evaluate,
        when,
        MoveInput {
            rating: Some(crate::case::Rating {
                rating: crate::case::Satisfaction::parse(rating).unwrap(),
                comment: None,
            }),
            ..MoveInput::default()
        },
        json!({"rating": rating}),
    );
}

/// The seven cases, their moves at known times (city time), and what each one counts:
///
/// 1. pothole, A, 03-02 09:00. Dispatched to municipal 09:30, signed for 10:30 (on time),
///    handled 15:30 (on time; 6 h after dispatch), verified, closed (no step late), satisfied.
/// 2. pothole, A, 03-02 10:00. Dispatched 10:10, signed for 13:10 (late: due 12:10), handled
///    03-03 12:10 (on time; 26 h), verification fails 03-03 18:00 (rework: due 03-04 18:00),
///    handled again 03-04 20:10 (late; 58 h after dispatch), verified, closed (two late steps:
///    not on time), basically satisfied.
/// 3. litter, B, 03-02 11:00. Dispatched to urban 11:00, returned 11:30, dispatched to
///    municipal 12:00, signed for 12:30 (handling due 20:30), extension of 4 h asked and
///    approved, handled 23:00 (on time by the extension; 11 h after the second dispatch).
/// 4. litter, B, 03-02 12:00. A grid worker handles it on the spot 12:30; the citizen is unsatisfied.
/// 5. pothole, C, 03-03 08:00. Rejected.
/// 6. pothole, C, 03-03 09:00. Accepted, then merged into case 1.
/// 7. pothole, C, 03-03 10:00. Dispatched to municipal 10:30, signed for 11:00, still open.
fn seven_cases() -> (TestEnv, Vec<String>) {
    let env = env();
    let d2 = "2026-03-02";
    let d3 = "2026-03-03";
    let d4 = "2026-03-04";

    let c1 = citizen(&env, "roads.pothole", A, at(d2, 9.0));
    plain(&env, &c1, Move::Accept, at(d2, 9.0 + 10.0 / 60.0));
    dispatch(&env, &c1, "municipal", at(d2, 9.5));
    plain(&env, &c1, Move::SignFor, at(d2, 10.5));
    with_note(&env, &c1, Move::Handle, at(d2, 15.5));
    plain(&env, &c1, Move::VerifyPass, at(d2, 20.0));
    plain(&env, &c1, Move::Close, at(d2, 20.0 + 10.0 / 60.0));
    rate(&env, &c1, "satisfied", at(d3, 9.0));

    let c2 = citizen(&env, "roads.pothole", A, at(d2, 10.0));
    plain(&env, &c2, Move::Accept, at(d2, 10.0 + 5.0 / 60.0));
    dispatch(&env, &c2, "municipal", at(d2, 10.0 + 10.0 / 60.0));
    plain(&env, &c2, Move::SignFor, at(d2, 13.0 + 10.0 / 60.0));
    with_note(&env, &c2, Move::Handle, at(d3, 12.0 + 10.0 / 60.0));
    with_note(&env, &c2, Move::VerifyFail, at(d3, 18.0));
    with_note(&env, &c2, Move::Handle, at(d4, 20.0 + 10.0 / 60.0));
    plain(&env, &c2, Move::VerifyPass, at(d4, 21.0));
    plain(&env, &c2, Move::Close, at(d4, 21.5));
    rate(&env, &c2, "basically_satisfied", at(d4, 22.0));

    let c3 = citizen(&env, "environment.litter", B, at(d2, 11.0));
    plain(&env, &c3, Move::Accept, at(d2, 11.0));
    dispatch(&env, &c3, "urban", at(d2, 11.0));
    with_note(&env, &c3, Move::Return, at(d2, 11.5));
    dispatch(&env, &c3, "municipal", at(d2, 12.0));
    plain(&env, &c3, Move::SignFor, at(d2, 12.5));
    plain(&env, &c3, Move::Start, at(d2, 13.0));
    with_note(&env, &c3, Move::RequestExtension, at(d2, 14.0));
    plain(&env, &c3, Move::ApproveExtension, at(d2, 14.5));
    with_note(&env, &c3, Move::Handle, at(d2, 23.0));

    let c4 = report(
        &env,
        "environment.litter",
        B,
        at(d2, 12.0),
        Reporter {
            kind: crate::case::store::ReporterKind::GridWorker,
            id: Some("gw1".into()),
        },
    );
    with_note(&env, &c4, Move::SelfHandle, at(d2, 12.5));
    rate(&env, &c4, "unsatisfied", at(d3, 8.0));

    let c5 = citizen(&env, "roads.pothole", C, at(d3, 8.0));
    with_note(&env, &c5, Move::Reject, at(d3, 8.5));

    let c6 = citizen(&env, "roads.pothole", C, at(d3, 9.0));
    plain(&env, &c6, Move::Accept, at(d3, 9.0 + 10.0 / 60.0));
    let merge = MoveInput {
        parent: Some(c1.clone()),
        ..Default::default()
    };
    step(&env, &c6, Move::Merge, at(d3, 9.5), merge, json!({}));

    let c7 = citizen(&env, "roads.pothole", C, at(d3, 10.0));
    plain(&env, &c7, Move::Accept, at(d3, 10.0 + 5.0 / 60.0));
    dispatch(&env, &c7, "municipal", at(d3, 10.5));
    plain(&env, &c7, Move::SignFor, at(d3, 11.0));

    (env, vec![c1, c2, c3, c4, c5, c6, c7])
}

fn query(group_by: GroupBy, from: &str, to: &str) -> Query {
    Query {
        group_by,
        from: parse_date(from).unwrap(),
        to: parse_date(to).unwrap(),
        department: None,
        area: None,
        category: None,
    }
}

fn figures(env: &TestEnv, q: &Query) -> BTreeMap<String, Figures> {
    block_on(totals(env, q))
        .unwrap()
        .iter()
        .map(|(k, c)| (k.clone(), Figures::of(c)))
        .collect()
}

fn total(env: &TestEnv, q: &Query) -> Figures {
    let mut all = Counts::default();
    block_on(totals(env, q))
        .unwrap()
        .values()
        .for_each(|c| all.merge(c));
    Figures::of(&all)
}

/// Figures with every count zero and every ratio absent, to be filled in per test.
fn zero() -> Figures {
    Figures::of(&Counts::default())
}

#[test]
fn every_figure_of_the_hand_checked_cases_by_department() {
    let (env, _) = seven_cases();
    let got = figures(
        &env,
        &query(GroupBy::Department, "2026-03-02", "2026-03-03"),
    );
    assert_eq!(got.keys().collect::<Vec<_>>(), ["", "municipal", "urban"]);

    // The centre: every receipt and acceptance, the rejection, the merge, and the grid
    // worker's self-handled case (registered and closed here, rated unsatisfied).
    let centre = Figures {
        received: 7,
        accepted: 5,
        rejected: 1,
        merged: 1,
        registered: 1,
        self_handled: 1,
        closed: 1,
        closed_on_time: 1,
        rated: 1,
        closure_rate: Some(1.0),
        on_time_closure_rate: Some(1.0),
        satisfaction_rate: Some(0.0),
        ..zero()
    };
    assert_eq!(got[""], centre);

    // Urban: one dispatch, returned; it holds nothing.
    let urban = Figures {
        dispatched: 1,
        returned: 1,
        return_rate: Some(1.0),
        ..zero()
    };
    assert_eq!(got["urban"], urban);

    // Municipal: cases 1, 2, 3 and 7. Handling times 6, 26, 58 and 11 h: mean 25.25 h; the
    // p90 (4th of 4) is the 58 h sample, alone in the bucket [45.25 h, 64 h): its middle.
    let municipal = Figures {
        registered: 4,
        dispatched: 4,
        signed_for: 4,
        signed_for_on_time: 3,
        handled: 4,
        handled_on_time: 3,
        verified: 3,
        reworked: 1,
        closed: 2,
        closed_on_time: 1,
        rated: 2,
        satisfied: 1,
        basically_satisfied: 1,
        on_time_sign_for_rate: Some(0.75),
        on_time_handling_rate: Some(0.75),
        closure_rate: Some(0.5),
        on_time_closure_rate: Some(0.5),
        rework_rate: Some(0.3333),
        return_rate: Some(0.0),
        satisfaction_rate: Some(1.0),
        mean_handling_hours: Some(25.25),
        p90_handling_hours: Some(54.63),
        ..zero()
    };
    assert_eq!(got["municipal"], municipal);

    let all = Figures {
        received: 7,
        accepted: 5,
        rejected: 1,
        merged: 1,
        registered: 5,
        dispatched: 5,
        signed_for: 4,
        signed_for_on_time: 3,
        returned: 1,
        handled: 4,
        handled_on_time: 3,
        verified: 3,
        reworked: 1,
        self_handled: 1,
        closed: 3,
        closed_on_time: 2,
        rated: 3,
        satisfied: 1,
        basically_satisfied: 1,
        on_time_sign_for_rate: Some(0.75),
        on_time_handling_rate: Some(0.75),
        closure_rate: Some(0.6),
        on_time_closure_rate: Some(0.6667),
        rework_rate: Some(0.3333),
        return_rate: Some(0.2),
        satisfaction_rate: Some(0.6667),
        mean_handling_hours: Some(25.25),
        p90_handling_hours: Some(54.63),
    };
    assert_eq!(
        total(
            &env,
            &query(GroupBy::Department, "2026-03-02", "2026-03-03")
        ),
        all
    );
    // Every grouping partitions the same cases: the totals agree.
    for g in [GroupBy::District, GroupBy::Street, GroupBy::Category] {
        assert_eq!(
            total(&env, &query(g, "2026-03-02", "2026-03-03")),
            all,
            "{g:?}"
        );
    }
}

#[test]
fn every_cuboid_agrees_with_the_full_one() {
    let (env, _) = seven_cases();
    let filters = [
        (None, None, None),
        (Some("municipal"), None, None),
        (Some(""), None, None),
        (None, Some("350203"), None),
        (None, Some("350211001"), None),
        (None, None, Some("roads.pothole")),
        (Some("municipal"), Some("350203"), None),
        (Some("municipal"), None, Some("environment.litter")),
        (None, Some("350203002"), Some("environment.litter")),
        (Some("urban"), Some("350203"), Some("environment.litter")),
    ];
    let mut checked = 0;
    for g in [
        GroupBy::Department,
        GroupBy::District,
        GroupBy::Street,
        GroupBy::Category,
    ] {
        for (from, to) in [
            ("2026-03-02", "2026-03-02"),
            ("2026-03-01", "2026-03-31"),
            ("2026-02-15", "2026-04-30"),
        ] {
            for (d, a, c) in filters {
                let q = Query {
                    department: d.map(String::from),
                    area: a.map(String::from),
                    category: c.map(String::from),
                    ..query(g, from, to)
                };
                let full = block_on(totals_in(&env, &q, "dac")).unwrap();
                assert_eq!(
                    block_on(totals(&env, &q)).unwrap(),
                    full,
                    "{g:?} {from}..{to} {d:?} {a:?} {c:?}"
                );
                checked += usize::from(!full.is_empty());
            }
        }
    }
    assert!(
        checked > 60,
        "most of the queries find something: {checked}"
    );
}

#[test]
fn by_category_area_and_day_of_receipt() {
    let (env, _) = seven_cases();
    let got = figures(&env, &query(GroupBy::Category, "2026-03-02", "2026-03-03"));
    let pothole = &got["roads.pothole"];
    assert_eq!(
        (
            pothole.received,
            pothole.accepted,
            pothole.registered,
            pothole.closed
        ),
        (5, 4, 3, 2)
    );
    assert_eq!(pothole.closure_rate, Some(0.6667));
    // 6, 26 and 58 h: mean 30 h; the p90 is the 3rd of 3, the 58 h sample.
    assert_eq!(
        (pothole.mean_handling_hours, pothole.p90_handling_hours),
        (Some(30.0), Some(54.63))
    );
    let litter = &got["environment.litter"];
    assert_eq!(
        (
            litter.received,
            litter.registered,
            litter.dispatched,
            litter.returned
        ),
        (2, 2, 2, 1)
    );
    assert_eq!(
        (
            litter.closed,
            litter.self_handled,
            litter.rated,
            litter.satisfaction_rate
        ),
        (1, 1, 1, Some(0.0))
    );
    // One 11 h sample, in the bucket [8 h, 11.31 h): its middle, 9.66 h.
    assert_eq!(
        (litter.mean_handling_hours, litter.p90_handling_hours),
        (Some(11.0), Some(9.66))
    );

    let by_street = figures(&env, &query(GroupBy::Street, "2026-03-02", "2026-03-03"));
    let received: Vec<(&str, i64)> = by_street
        .iter()
        .map(|(k, f)| (k.as_str(), f.received))
        .collect();
    assert_eq!(
        received,
        [("350203001", 2), ("350203002", 2), ("350211001", 3)]
    );
    let by_district = figures(&env, &query(GroupBy::District, "2026-03-02", "2026-03-03"));
    assert_eq!(by_district["350203"].closed, 3);
    assert_eq!(by_district["350211"].registered, 1);

    // Everything of a case counts on the day it was received: case 2's moves of 03-03 and
    // 03-04 stay on 03-02, so 03-03 holds only cases 5, 6 and 7.
    let third = figures(
        &env,
        &query(GroupBy::Department, "2026-03-03", "2026-03-03"),
    );
    assert_eq!(
        (
            third[""].received,
            third[""].accepted,
            third[""].rejected,
            third[""].merged
        ),
        (3, 2, 1, 1)
    );
    assert_eq!(
        (
            third["municipal"].dispatched,
            third["municipal"].registered,
            third["municipal"].handled
        ),
        (1, 1, 0)
    );
    assert!(
        figures(
            &env,
            &query(GroupBy::Department, "2026-03-04", "2026-03-31")
        )
        .is_empty()
    );

    // Filters.
    let mut q = query(GroupBy::Category, "2026-03-01", "2026-03-31");
    q.department = Some("municipal".into());
    q.area = Some("350203002".into());
    let only = figures(&env, &q);
    assert_eq!(only.keys().collect::<Vec<_>>(), ["environment.litter"]);
    assert_eq!(
        (
            only["environment.litter"].handled,
            only["environment.litter"].dispatched
        ),
        (1, 1)
    );
    q.area = Some("350211".into());
    q.category = Some("roads.pothole".into());
    assert_eq!(figures(&env, &q)["roads.pothole"].signed_for, 1);
}

#[test]
fn whole_months_come_from_the_month_rows_and_agree_with_the_days() {
    let env = env();
    // One case a day from 01-20 to 04-10, each dispatched and signed for a day later.
    let first = parse_date("2026-01-20").unwrap();
    let last = parse_date("2026-04-10").unwrap();
    for (i, day) in (first..=last).enumerate() {
        let when = day * DAY_MS - CITY_UTC_OFFSET_MS + 10 * HOUR;
        let id = citizen(
            &env,
            if i % 3 == 0 {
                "environment.litter"
            } else {
                "roads.pothole"
            },
            [A, B, C][i % 3],
            when,
        );
        plain(&env, &id, Move::Accept, when + HOUR);
        dispatch(&env, &id, "municipal", when + 2 * HOUR);
        plain(&env, &id, Move::SignFor, when + DAY_MS);
    }
    assert_eq!(
        ranges(
            parse_date("2026-01-25").unwrap(),
            parse_date("2026-04-03").unwrap()
        ),
        vec![
            (
                "month",
                parse_date("2026-02-01").unwrap(),
                parse_date("2026-03-31").unwrap()
            ),
            (
                "day",
                parse_date("2026-01-25").unwrap(),
                parse_date("2026-01-31").unwrap()
            ),
            (
                "day",
                parse_date("2026-04-01").unwrap(),
                parse_date("2026-04-03").unwrap()
            ),
        ]
    );
    assert_eq!(
        ranges(first + 1, first + 5),
        vec![("day", first + 1, first + 5)]
    );
    let by_days = |from: i64, to: i64| -> i64 {
        let rows = block_on(env.execute(
            "SELECT SUM(received) AS n FROM indicator_rollups WHERE cuboid = 'dac' AND grain = 'day' AND day BETWEEN ? AND ?",
            &[from.into(), to.into()],
        ))
        .unwrap();
        rows.first()
            .unwrap()
            .opt_i64("n")
            .unwrap()
            .unwrap_or_default()
    };
    for (from, to) in [
        ("2026-01-25", "2026-04-03"),
        ("2026-02-01", "2026-02-28"),
        ("2026-01-01", "2026-12-31"),
        ("2026-02-15", "2026-03-01"),
    ] {
        let q = query(GroupBy::Department, from, to);
        let got = total(&env, &q);
        assert_eq!(got.received, by_days(q.from, q.to), "{from}..{to}");
        assert_eq!(
            (got.signed_for, got.dispatched),
            (got.received, got.received)
        );
    }
    assert_eq!(
        total(&env, &query(GroupBy::Street, "2026-01-01", "2026-12-31")).received,
        last - first + 1
    );
}

#[test]
fn the_backfill_and_an_adopted_case_count_as_the_write_path_does() {
    let (env, ids) = seven_cases();
    let snapshot = |env: &TestEnv| {
        block_on(env.execute(
            "SELECT cuboid, grain, day, department, district, street, category, received, registered \
             FROM indicator_rollups WHERE received <> 0 OR registered <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7",
            &[],
        ))
        .unwrap()
    };
    let live = snapshot(&env);
    assert!(!live.is_empty());
    block_on(async {
        for table in ["indicator_rollups", "indicator_cases"] {
            env.execute(&format!("DELETE FROM {table}"), &[])
                .await
                .unwrap();
        }
        for statement in crate::db::statements(MIGRATION_4).filter(|s| s.starts_with("INSERT")) {
            env.execute(statement, &[]).await.unwrap();
        }
    });
    assert_eq!(
        snapshot(&env),
        live,
        "the backfill's received and registered"
    );

    // A case without a tracker is adopted on its next move, with its last dispatch.
    block_on(async {
        for table in ["indicator_rollups", "indicator_cases"] {
            env.execute(&format!("DELETE FROM {table}"), &[])
                .await
                .unwrap();
        }
    });
    with_note(&env, &ids[6], Move::Handle, at("2026-03-03", 12.5));
    let got = figures(
        &env,
        &query(GroupBy::Department, "2026-03-03", "2026-03-03"),
    );
    assert_eq!((got[""].received, got[""].registered), (1, 0));
    let m = &got["municipal"];
    assert_eq!(
        (
            m.registered,
            m.handled,
            m.handled_on_time,
            m.mean_handling_hours
        ),
        (1, 1, 1, Some(2.0))
    );
}

#[test]
fn the_schema_has_the_columns_the_code_writes() {
    let env = env();
    let rows = block_on(env.execute(
        "SELECT name FROM pragma_table_info('indicator_rollups')",
        &[],
    ))
    .unwrap();
    let names: Vec<String> = rows.iter().map(|r| r.text("name").unwrap()).collect();
    let mut want: Vec<String> = [
        "cuboid",
        "grain",
        "day",
        "department",
        "district",
        "street",
        "category",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    want.extend(column_names());
    assert_eq!(names, want);
    assert_eq!(FIGURE_NAMES.len(), zero().cells().len());
    let json = serde_json::to_value(zero()).unwrap();
    assert_eq!(json.as_object().unwrap().len(), FIGURE_NAMES.len());
    assert!(
        FIGURE_NAMES.iter().all(|n| json.get(n).is_some()),
        "every CSV column is a JSON field"
    );
}

#[test]
fn buckets_are_root_two_wide_and_p90_reads_inside_one() {
    for (i, edge) in EDGES_MS.iter().enumerate() {
        let exact = HOUR_MS * 2f64.powf((i as f64 - 2.0) / 2.0);
        assert!((*edge as f64 - exact).abs() <= 0.5, "edge {i}");
    }
    assert_eq!(bucket_of(0), 0);
    assert_eq!(bucket_of(1_799_999), 0);
    assert_eq!(bucket_of(1_800_000), 1);
    assert_eq!(bucket_of(3 * HOUR), 6, "[2.83 h, 4 h)");
    assert_eq!(bucket_of(10_426_713_753), BUCKETS - 1);
    assert_eq!(p90_hours(&[0; BUCKETS]), None);
    // Ten samples in [1 h, 1.41 h): the 9th of them at 8.5/10 of the width.
    let mut h = [0; BUCKETS];
    h[3] = 10;
    assert_eq!(
        p90_hours(&h),
        Some(round(
            (3_600_000.0 + (5_091_169.0 - 3_600_000.0) * 0.85) / HOUR_MS,
            2
        ))
    );
    // Nine fast, one in the open last bucket: the rank (9 of 10) is still among the fast.
    let mut h = [0; BUCKETS];
    h[1] = 9;
    h[BUCKETS - 1] = 1;
    assert!(p90_hours(&h).unwrap() < 0.71);
    h[1] = 1;
    h[BUCKETS - 1] = 9;
    assert_eq!(
        p90_hours(&h),
        Some(2896.31),
        "a lower bound from the open bucket"
    );
}

#[test]
fn days_are_the_citys() {
    assert_eq!(date_string(city_day(at("2026-03-02", 0.0))), "2026-03-02");
    // 15:59:59.999 UTC is 23:59:59.999 in the city; 16:00 UTC is the next day.
    let midnight = at("2026-03-03", 0.0);
    assert_eq!(crate::time::rfc3339(midnight), "2026-03-02T16:00:00.000Z");
    assert_eq!(city_day(midnight - 1) + 1, city_day(midnight));
    assert_eq!(
        parse_date("2028-02-29").map(date_string).as_deref(),
        Some("2028-02-29")
    );
    for bad in [
        "2026-02-29",
        "2026-13-01",
        "2026-1-01",
        "26-01-01",
        "2026/01/01",
        "1969-12-31",
        "2026-01-00",
        "+026-01-01",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
    assert_eq!(
        month_start(parse_date("2026-12-31").unwrap()),
        parse_date("2026-12-01").unwrap()
    );
    assert_eq!(
        next_month_start(parse_date("2026-12-31").unwrap()),
        parse_date("2027-01-01").unwrap()
    );
}

// ---- the route

fn get(env: &TestEnv, path: &str, token: Option<&str>) -> crate::ApiResponse {
    let mut req = ApiRequest::new("GET", path);
    if let Some(t) = token {
        req.headers
            .push(("authorization".into(), format!("Bearer {t}")));
    }
    block_on(crate::api::indicators::handle(env, req))
}

#[test]
fn the_route_answers_operators_in_json_and_csv() {
    let (env, _) = seven_cases();
    block_on(async {
        env.execute(
            "INSERT INTO map_versions (created_at, grids, cells, is_current) VALUES (0, 2, 0, 1)",
            &[],
        )
        .await
        .unwrap();
        env.execute("INSERT INTO grids (code, version, name, level) VALUES ('350203', 1, '思明区', 'district'), \
                     ('350211', 1, '集美区', 'district')", &[]).await.unwrap();
    });
    env.now.set(at("2026-03-20", 12.0));

    assert_eq!(get(&env, "/api/indicators", None).status, 401);
    assert_eq!(
        block_on(crate::api::indicators::handle(
            &env,
            ApiRequest::new("POST", "/api/indicators")
        ))
        .status,
        405
    );
    let bad = get(
        &env,
        "/api/indicators?group_by=cell&from=2026-02-30&area=350203001001&format=xml",
        Some(OPERATOR_TOKEN),
    );
    assert_eq!(bad.status, 422);
    let problem: Json = serde_json::from_slice(&bad.body).unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["group_by", "from", "area", "format"]);
    let reversed = get(
        &env,
        "/api/indicators?from=2026-03-05&to=2026-03-01",
        Some(OPERATOR_TOKEN),
    );
    assert_eq!(reversed.status, 422);

    // The default period is the last 30 days, today included: 02-19 to 03-20.
    let ok = get(
        &env,
        "/api/indicators?group_by=district",
        Some(OPERATOR_TOKEN),
    );
    assert_eq!(ok.status, 200);
    let body: Json = serde_json::from_slice(&ok.body).unwrap();
    assert_eq!(
        (body["from"].as_str(), body["to"].as_str()),
        (Some("2026-02-19"), Some("2026-03-20"))
    );
    assert_eq!(body["items"][0]["key"], "350203");
    assert_eq!(body["items"][0]["name"], "思明区");
    assert_eq!(body["items"][0]["received"], 4);
    assert_eq!(
        body["items"][1]["closure_rate"], 0.0,
        "350211: case 7 registered, none closed"
    );
    assert_eq!(
        body["items"][1]["on_time_closure_rate"],
        Json::Null,
        "nothing closed"
    );
    assert_eq!(body["total"]["p90_handling_hours"], 54.63);

    let by_dept: Json =
        serde_json::from_slice(&get(&env, "/api/indicators", Some(OPERATOR_TOKEN)).body).unwrap();
    assert_eq!(
        by_dept["items"][0]["key"],
        Json::Null,
        "the centre's own line"
    );
    assert_eq!(by_dept["items"][1]["name"], "municipal dept");

    let csv = get(
        &env,
        "/api/indicators?group_by=category&from=2026-03-01&to=2026-03-31&format=csv",
        Some(OPERATOR_TOKEN),
    );
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.header("content-disposition"),
        Some("attachment; filename=\"indicators-category-2026-03-01-2026-03-31.csv\"")
    );
    let text = String::from_utf8(csv.body).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines[0],
        format!("category,name,{}", FIGURE_NAMES.join(","))
    );
    assert!(
        lines[1]
            .starts_with("environment.litter,environment.litter environment.litter,2,1,0,0,2,2,"),
        "{}",
        lines[1]
    );
    assert!(lines[3].starts_with("(total),,7,5,"), "{}", lines[3]);
    assert!(lines[3].ends_with(",0.6667,25.25,54.63"), "{}", lines[3]);
    assert_eq!(lines[4], "", "every line ends with CRLF");
}

#[test]
fn an_area_operator_sees_only_their_area() {
    let (env, _) = seven_cases();
    let district = Principal {
        role: StaffRole::DistrictOperator,
        area: Some("350211".into()),
        ..Principal::city_operator()
    };
    let q = query(GroupBy::Street, "2026-03-01", "2026-03-31");
    let mine = block_on(crate::api::indicators::report(&env, &district, q.clone())).unwrap();
    assert_eq!(
        mine.items
            .iter()
            .map(|i| i.key.clone().unwrap())
            .collect::<Vec<_>>(),
        ["350211001"]
    );
    assert_eq!(mine.total.received, 3);
    assert_eq!(mine.filters.area.as_deref(), Some("350211"));

    let street = Principal {
        role: StaffRole::StreetOperator,
        area: Some("350203002".into()),
        ..Principal::city_operator()
    };
    let asked_wider = Query {
        area: Some("350203".into()),
        ..q.clone()
    };
    let refused = block_on(crate::api::indicators::report(&env, &street, asked_wider)).unwrap_err();
    assert_eq!(refused.status, 403);
    let inside = block_on(crate::api::indicators::report(&env, &street, q.clone())).unwrap();
    assert_eq!(inside.total.received, 2);

    let community = Principal {
        area: Some("350203002001".into()),
        ..street
    };
    assert_eq!(
        block_on(crate::api::indicators::report(&env, &community, q))
            .unwrap_err()
            .status,
        403
    );
}

#[test]
fn csv_cells_are_quoted_and_never_formulas() {
    let report = crate::api::indicators::Report {
        group_by: GroupBy::Department,
        from: "2026-03-01".into(),
        to: "2026-03-01".into(),
        utc_offset: "+08:00",
        filters: crate::api::indicators::Filters {
            department: None,
            area: None,
            category: None,
        },
        items: vec![crate::api::indicators::Item {
            key: Some("x".into()),
            name: Some("=cmd|\"a, b\"".into()),
            figures: zero(),
        }],
        total: zero(),
    };
    let text = String::from_utf8(crate::api::indicators::csv(&report)).unwrap();
    assert!(text.contains("\r\nx,\"'=cmd|\"\"a, b\"\"\",0,"), "{text}");
}

#[test]
fn the_full_cuboid_is_read_through_its_partial_indexes() {
    let env = env();
    let base = query(GroupBy::Street, "2026-01-01", "2026-12-31");
    let by_department = Query {
        department: Some("x".into()),
        category: Some("y".into()),
        ..base.clone()
    };
    let by_category = Query {
        group_by: GroupBy::Department,
        area: Some("350203".into()),
        category: Some("y".into()),
        ..base
    };
    for (q, index) in [
        (by_department, "indicator_cube_by_department"),
        (by_category, "indicator_cube_by_category"),
    ] {
        assert_eq!(cuboid_for(&q), "dac");
        let (sql, filters) = select_sql(&q, "dac");
        let mut params: Vec<Value> = vec!["month".into(), 1.into(), 2.into()];
        params.extend(filters);
        // Not ANALYZEd, and empty: the plan must not depend on statistics.
        let plan = block_on(env.execute(&format!("EXPLAIN QUERY PLAN {sql}"), &params)).unwrap();
        let detail: Vec<String> = plan.iter().map(|r| r.text("detail").unwrap()).collect();
        assert!(
            detail.iter().any(
                |d| d.contains(index) && d.contains("department=?") != d.contains("category=?")
            ),
            "{detail:?}"
        );
    }
}
