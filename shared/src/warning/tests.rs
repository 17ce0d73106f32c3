use super::*;

#[test]
fn the_poisson_tail_is_one_at_zero_and_matches_its_closed_forms() {
    assert_eq!(poisson_at_least(0, 2.0), 1.0);
    assert_eq!(poisson_at_least(3, 0.0), 0.0);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(poisson_at_least(1, 1.5), 1.0 - (-1.5f64).exp()));
    // P(X ≥ 2) = 1 − e^−λ (1 + λ)
    assert!(close(poisson_at_least(2, 0.3), 1.0 - (-0.3f64).exp() * 1.3));
    // Far in the tail it stays a probability.
    let p = poisson_at_least(400, 3.0);
    assert!((0.0..1e-12).contains(&p), "{p}");
}

#[test]
fn a_quiet_cell_fires_on_its_fourth_report_not_its_third() {
    let quiet = |n| ClusterTest::of(&CLUSTER, n, 0);
    assert!(!quiet(3).fires(&CLUSTER), "{:?}", quiet(3));
    assert!(quiet(4).fires(&CLUSTER), "{:?}", quiet(4));
    // The floor: a cell never reported is taken to have one report in its eight weeks.
    assert!((quiet(3).expected - 3.0 / 56.0).abs() < 1e-12);
}

#[test]
fn a_busy_cell_needs_more_than_its_usual_to_fire() {
    // One report a day for eight weeks: three in three days is its usual; fifteen is not.
    let busy = |n| ClusterTest::of(&CLUSTER, n, 56);
    assert!((busy(3).expected - 3.0).abs() < 1e-12);
    for n in [3, 6, 10, 14] {
        assert!(!busy(n).fires(&CLUSTER), "{n}: {:?}", busy(n));
    }
    assert!(busy(15).fires(&CLUSTER), "{:?}", busy(15));
}

#[test]
fn the_lifecycle_allows_its_moves_only() {
    use AlertAction as A;
    use AlertStatus as S;
    assert_eq!(after(S::New, A::Acknowledge), Some(S::Acknowledged));
    assert_eq!(after(S::New, A::Act), Some(S::Acting));
    assert_eq!(after(S::Acknowledged, A::Act), Some(S::Acting));
    assert_eq!(after(S::Acting, A::Close), Some(S::Closed));
    assert_eq!(after(S::Acknowledged, A::Close), Some(S::Closed));
    assert_eq!(
        after(S::New, A::Close),
        None,
        "closing needs someone to have seen it"
    );
    for s in [S::New, S::Acknowledged, S::Acting] {
        assert_eq!(after(s, A::Dismiss), Some(S::Dismissed));
    }
    for s in [S::Closed, S::Dismissed] {
        assert!(allowed(s).is_empty(), "{s:?} is an end");
    }
    assert_eq!(after(S::Acting, A::Acknowledge), None);
}

#[test]
fn statuses_signals_and_chances_read_back_and_say_themselves() {
    for s in AlertStatus::ALL {
        assert_eq!(AlertStatus::parse(s.as_str()), Some(s));
    }
    assert_eq!(Signal::parse("cluster"), Some(Signal::Cluster));
    assert_eq!(Signal::parse("rise"), None);
    assert_eq!(chance_words(0.0001), "10000 分之一");
    assert_eq!(chance_words(1e-9), "不到百万分之一");
}

#[test]
fn the_sweep_deletes_the_counters_no_window_or_baseline_reads_and_keeps_the_rest() {
    use crate::Database;
    use futures::executor::block_on;
    let env = crate::native::testenv::TestEnv::new();
    block_on(crate::app::schema::migrate(&env)).unwrap();
    let now = 1_765_000_000_000;
    let today = city_day(now);
    let oldest_read = today - CLUSTER.window_days + 1 - CLUSTER.baseline_days;
    for (i, day) in [oldest_read - 400, oldest_read - 1, oldest_read, today]
        .into_iter()
        .enumerate()
    {
        block_on(env.execute(
            "INSERT INTO warning_counts (cell, category, day, reports) VALUES (?, 'c', ?, 1)",
            &[format!("cell{i}").into(), day.into()],
        ))
        .unwrap();
    }
    // One row a statement: the loop goes on until a statement finds less than its batch.
    assert_eq!(block_on(prune_counts(&env, now, 1)).unwrap(), 2);
    let left = block_on(env.execute("SELECT day FROM warning_counts ORDER BY day", &[])).unwrap();
    let days: Vec<i64> = left.iter().map(|r| r.i64("day").unwrap()).collect();
    assert_eq!(days, [oldest_read, today]);
    assert_eq!(block_on(prune_counts(&env, now, 100)).unwrap(), 0);
}

#[test]
fn a_quiet_department_fires_on_its_third_return_in_a_week() {
    let quiet = |n| ClusterTest::of(&RETURNS, n, 0);
    assert!(!quiet(2).fires(&RETURNS), "{:?}", quiet(2));
    assert!(quiet(3).fires(&RETURNS), "{:?}", quiet(3));
    // Two returns a week for eight weeks: five in a week is within its usual.
    assert!(!ClusterTest::of(&RETURNS, 5, 16).fires(&RETURNS));
}

#[test]
fn the_window_and_its_baseline_split_a_series_and_leave_older_days_out() {
    let (window, baseline) = window_and_baseline(
        &CLUSTER,
        100,
        [(100, 2), (98, 1), (97, 5), (42, 3), (41, 7)],
    );
    assert_eq!((window, baseline), (3, 8), "days 98–100; days 42–97");
}
