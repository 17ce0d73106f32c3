//! Early warning measured on a labelled synthetic city, and what it costs a report.
//!
//! **The labelled city.** A year of background reports over the demo city (`demo::city(1)`:
//! 4,103 cells) and 12 categories, about 1,000,000 of them: each cell × category series has its
//! own rate (a cell's weight and a category's weight, each log-normal, so that a few series are
//! busy and most are quiet), weekdays busier than weekends, each day's count Poisson. Over it,
//! planted episodes with their start times: 300 a seed, each 4 to 8 extra reports of one kind in
//! one cell within 6 to 60 hours, on a day after the first ten weeks (so that baselines exist).
//! Every report, in time order, goes through the detector's own functions — the counts split by
//! `warning::window_and_baseline`, the test by `ClusterTest`, what a firing test does by
//! `warning::outcome` — on counters kept in memory, exactly as the write path keeps them in
//! `warning_counts`. The centre's answer is simulated: every alert ends (closed or dismissed)
//! two days after it was raised.
//!
//! An alert is true when it is raised on a planted episode's series between the episode's
//! first and last report; an episode is found when an alert is raised or grows on it then.
//! Printed per rule (the one in force and the candidates it was chosen from) over three seeds:
//! precision, recall, the episode's reports by the alert (median, share within 3), and the
//! median time from an episode's first report to its alert.
//!
//! **The cost.** On a SQLite file holding a year's `warning_counts` of the same city, 4,000
//! reports of the last day through the whole write path (`app::cases::create_with`: the case,
//! its event, the indicators, the detector) and the detector alone (`warning::watch`, then
//! `Watch::observe` in its own transaction): µs per report, and the detector's share.
//!
//! `cargo bench -p onegrid-shared --features native --bench warning`

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use futures::executor::block_on;
use onegrid::case::report::ReportInput;
use onegrid::case::store::Reporter;
use onegrid::directory::{self, CategoryInput, DepartmentInput};
use onegrid::grid::code::Level;
use onegrid::grid::{CellMatch, GridRef, MatchKind};
use onegrid::native::{NativeEnv, Sqlite, SqliteKv};
use onegrid::ports::{Database, OutboundRequest, OutboundResponse, Platform};
use onegrid::time::{DAY_MS, city_day};
use onegrid::warning::{self, CLUSTER, ClusterRule, ClusterTest, Latest, Outcome};
use onegrid::{StoreError, demo};

const HOUR: i64 = 3_600_000;
/// 2025-01-01T00:00+08:00, the synthetic year's first day.
const YEAR_START: i64 = 1_735_660_800_000;
const DAYS: i64 = 365;
const REPORTS_A_YEAR: f64 = 1_000_000.0;
const CATEGORIES: usize = 12;
const EPISODES: usize = 300;
/// How long the simulated centre takes to close or dismiss an alert.
const ALERT_LIFETIME_MS: i64 = 2 * DAY_MS;
const SEEDS: [u64; 3] = [1, 2, 3];
/// The days the detectors only count (eight weeks of baseline and a window), as on a new
/// deployment: alerts are scored from then on; the episodes are all planted after it.
const WARM_UP_DAYS: i64 = 63;

/// SplitMix64: a seed always gives the same city.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-300), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    /// A Poisson count of mean `mean` (inversion; the means here are small).
    fn poisson(&mut self, mean: f64) -> u32 {
        let (mut k, mut p, limit) = (0, 1.0, (-mean).exp());
        loop {
            p *= self.unit();
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }
}

/// One report of the labelled city: when, on which series (cell × category), and the planted
/// episode it belongs to, if any.
#[derive(Clone, Copy)]
struct Report {
    at: i64,
    series: u32,
    episode: Option<u32>,
}

struct Episode {
    series: u32,
    first: i64,
    last: i64,
}

struct City {
    reports: Vec<Report>,
    episodes: Vec<Episode>,
    series: usize,
}

fn city(seed: u64, cells: usize) -> City {
    let mut rng = Rng(seed);
    let series = cells * CATEGORIES;
    let cell_weight: Vec<f64> = (0..cells).map(|_| rng.normal().exp()).collect();
    let category_weight: Vec<f64> = (0..CATEGORIES)
        .map(|_| (0.7 * rng.normal()).exp())
        .collect();
    let total: f64 = cell_weight.iter().sum::<f64>() * category_weight.iter().sum::<f64>();
    let per_day = REPORTS_A_YEAR / DAYS as f64;
    let mut reports = Vec::with_capacity(REPORTS_A_YEAR as usize * 11 / 10);
    for day in 0..DAYS {
        // 2025-01-01 was a Wednesday: days 3 and 4 of each week are the weekend.
        let weekday_factor = if matches!(day % 7, 3 | 4) { 0.7 } else { 1.12 };
        for (c, wc) in cell_weight.iter().enumerate() {
            for (k, wk) in category_weight.iter().enumerate() {
                let mean = per_day * weekday_factor * wc * wk / total;
                for _ in 0..rng.poisson(mean) {
                    reports.push(Report {
                        at: YEAR_START + day * DAY_MS + (rng.unit() * DAY_MS as f64) as i64,
                        series: (c * CATEGORIES + k) as u32,
                        episode: None,
                    });
                }
            }
        }
    }
    let mut episodes = Vec::with_capacity(EPISODES);
    for e in 0..EPISODES {
        let s = rng.below(series) as u32;
        let start = YEAR_START
            + (WARM_UP_DAYS + 7 + rng.below((DAYS - WARM_UP_DAYS - 12) as usize) as i64) * DAY_MS
            + rng.below(DAY_MS as usize) as i64;
        let span = 6 * HOUR + (rng.unit() * 54.0 * HOUR as f64) as i64;
        let n = 4 + rng.below(5);
        let mut times: Vec<i64> = (0..n)
            .map(|i| {
                if i == 0 {
                    start
                } else {
                    start + (rng.unit() * span as f64) as i64
                }
            })
            .collect();
        times.sort();
        for &at in &times {
            reports.push(Report {
                at,
                series: s,
                episode: Some(e as u32),
            });
        }
        episodes.push(Episode {
            series: s,
            first: times[0],
            last: *times.last().unwrap(),
        });
    }
    reports.sort_by_key(|r| r.at);
    City {
        reports,
        episodes,
        series,
    }
}

/// What one rule made of one city.
#[derive(Default)]
struct Score {
    raised: usize,
    true_alerts: usize,
    found: usize,
    episodes: usize,
    /// For each episode found by a raise: its reports up to and with the alerting one.
    reports_by_alert: Vec<usize>,
    minutes_to_alert: Vec<f64>,
}

fn run(rule: &ClusterRule, city: &City) -> Score {
    // Each series' daily counts, and its latest alert (raised at, and whether it grew).
    let mut counts: Vec<HashMap<i64, i64>> = vec![HashMap::new(); city.series];
    let mut latest: Vec<Option<i64>> = vec![None; city.series];
    let mut found: Vec<bool> = vec![false; city.episodes.len()];
    let mut seen_of_episode: Vec<usize> = vec![0; city.episodes.len()];
    let mut score = Score {
        episodes: city.episodes.len(),
        ..Score::default()
    };
    let during = |e: &Episode, at: i64| (e.first..=e.last).contains(&at);
    for r in &city.reports {
        let s = r.series as usize;
        let day = city_day(r.at);
        *counts[s].entry(day).or_default() += 1;
        if let Some(e) = r.episode {
            seen_of_episode[e as usize] += 1;
        }
        // Before a baseline's worth of days the detector is only counting, as in its first
        // weeks on a new deployment.
        if r.at < YEAR_START + WARM_UP_DAYS * DAY_MS {
            continue;
        }
        let (window, history) =
            warning::window_and_baseline(rule, day, counts[s].iter().map(|(d, n)| (*d, *n)));
        let test = ClusterTest::of(rule, window, history);
        if !test.fires(rule) {
            continue;
        }
        let state = latest[s].map(|raised| Latest {
            open: r.at < raised + ALERT_LIFETIME_MS,
            ended_at: (r.at >= raised + ALERT_LIFETIME_MS).then_some(raised + ALERT_LIFETIME_MS),
        });
        let outcome = warning::outcome(state.as_ref(), rule, day);
        if outcome == Outcome::Suppressed {
            continue;
        }
        let on: Vec<usize> = city
            .episodes
            .iter()
            .enumerate()
            .filter(|(_, e)| e.series == r.series && during(e, r.at))
            .map(|(i, _)| i)
            .collect();
        if outcome == Outcome::Raise {
            latest[s] = Some(r.at);
            score.raised += 1;
            if !on.is_empty() {
                score.true_alerts += 1;
            }
        }
        for i in on {
            if !found[i] {
                found[i] = true;
                score.found += 1;
                if outcome == Outcome::Raise {
                    score.reports_by_alert.push(seen_of_episode[i]);
                    score
                        .minutes_to_alert
                        .push((r.at - city.episodes[i].first) as f64 / 60_000.0);
                }
            }
        }
    }
    score
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

// ---- the cost on SQLite

struct BenchPlatform {
    now: i64,
}
impl Platform for BenchPlatform {
    async fn variable(&self, _: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
    fn now_ms(&self) -> i64 {
        self.now
    }
    async fn send(&self, _: OutboundRequest) -> Result<OutboundResponse, String> {
        Err("no network in the benchmark".into())
    }
}

fn cost(path: &Path, city: &City, cells: &[String]) {
    let _ = std::fs::remove_file(path);
    let last_day = YEAR_START + (DAYS - 1) * DAY_MS;
    let env = NativeEnv {
        db: Sqlite::open(path).unwrap(),
        kv: SqliteKv::in_memory().unwrap(),
        platform: BenchPlatform { now: last_day },
    };
    let categories: Vec<&str> = demo::CATEGORIES[..CATEGORIES].iter().map(|c| c.0).collect();
    block_on(async {
        onegrid::app::schema::migrate(&env).await.unwrap();
        for (code, zh, en, kind, major, department, priority, [sign_for, handle, verify]) in
            &demo::CATEGORIES[..CATEGORIES]
        {
            let input: DepartmentInput =
                serde_json::from_value(serde_json::json!({"name": department})).unwrap();
            directory::upsert_department(&env, department, &input, 0)
                .await
                .unwrap();
            let input = CategoryInput {
                major: (*major).into(),
                priority: *priority,
                sign_for_hours: *sign_for,
                handle_hours: *handle,
                verify_hours: *verify,
                ..CategoryInput::new(zh, en, kind, department)
            };
            directory::upsert_category(&env, code, &input)
                .await
                .unwrap();
        }
        // The year's counters, as the write path would have left them.
        let mut daily: HashMap<(u32, i64), i64> = HashMap::new();
        for r in &city.reports {
            *daily.entry((r.series, city_day(r.at))).or_default() += 1;
        }
        env.execute("BEGIN", &[]).await.unwrap();
        for ((s, day), n) in &daily {
            let (cell, category) = (*s as usize / CATEGORIES, *s as usize % CATEGORIES);
            env.execute(
                "INSERT INTO warning_counts (cell, category, day, reports) VALUES (?, ?, ?, ?)",
                &[
                    cells[cell].as_str().into(),
                    categories[category].into(),
                    (*day).into(),
                    (*n).into(),
                ],
            )
            .await
            .unwrap();
        }
        env.execute("COMMIT", &[]).await.unwrap();
        println!(
            "\ncost: warning_counts holds {} rows (a year of the city)",
            daily.len()
        );
        env.db
            .connection()
            .pragma_update(None, "synchronous", "NORMAL")
            .unwrap();
        let mut rng = Rng(99);
        let (mut whole, mut detector) = (Vec::new(), Vec::new());
        for i in 0..4000 {
            let (c, k) = (rng.below(cells.len()), rng.below(CATEGORIES));
            let category = directory::category(&env, categories[k])
                .await
                .unwrap()
                .unwrap();
            let cell = CellMatch {
                cell: GridRef {
                    code: cells[c].clone(),
                    name: "网格".into(),
                    level: Level::Cell,
                },
                chain: vec![],
                kind: MatchKind::Inside,
                distance_m: 0.0,
            };
            let at = last_day + i * 10_000;
            if i % 2 == 0 {
                let report = ReportInput {
                    category: Some(categories[k].into()),
                    description: Some("A report to time the write path".into()),
                    lat: Some(24.5),
                    lng: Some(118.1),
                    ..Default::default()
                }
                .validate()
                .unwrap();
                let t = Instant::now();
                onegrid::app::cases::create_with(
                    &env,
                    &report,
                    &category,
                    &cell,
                    &Reporter::citizen(),
                    at,
                    async |_| Ok(()),
                )
                .await
                .unwrap();
                whole.push(t.elapsed().as_secs_f64() * 1e6);
            } else {
                let t = Instant::now();
                let point = onegrid::grid::code::Wgs84Point::parse(
                    24.5,
                    118.1,
                    onegrid::grid::code::Crs::Wgs84,
                )
                .unwrap();
                let watch = warning::watch(&env, &cell, &category, point, at)
                    .await
                    .unwrap();
                env.execute("BEGIN IMMEDIATE", &[]).await.unwrap();
                // No case row: an alert it raised would have no evidence to point at, so it is
                // measured only while none fires (the common path), and rolled back.
                watch.observe(&env, "bench-case").await.ok();
                env.execute("ROLLBACK", &[]).await.unwrap();
                detector.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
        let (w, d) = (median(&mut whole), median(&mut detector));
        println!(
            "cost per report (median of 2,000 each): whole write path {w:.0} µs, the detector alone {d:.0} µs = {:.2} of it",
            d / w
        );
        // The sweep's part: one call deletes up to ten batches of the counters no detector
        // reads (here, most of the year).
        let t = Instant::now();
        let removed = warning::prune_counts(&env, last_day, warning::PRUNE_BATCH)
            .await
            .unwrap();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "sweep: one call deleted {removed} expired counter rows in {ms:.0} ms ({:.1} µs a row)",
            ms * 1e3 / removed.max(1) as f64
        );
    });
    drop(env);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn main() {
    let cells: Vec<String> = demo::city(1)
        .into_iter()
        .filter(|f| f.shape.is_some())
        .map(|f| f.code.as_str().to_owned())
        .collect();
    let mut candidates = vec![CLUSTER];
    for window_days in [1, 2, 3] {
        for false_alarm in [1e-4, 1e-5, 1e-6] {
            for floor in [0.25, 1.0] {
                candidates.push(ClusterRule {
                    window_days,
                    false_alarm,
                    floor_per_day: floor / 56.0,
                    ..CLUSTER
                });
            }
        }
    }
    let cities: Vec<City> = SEEDS
        .iter()
        .map(|seed| {
            let t = Instant::now();
            let c = city(*seed, cells.len());
            println!(
                "seed {seed}: {} reports ({} planted in {} episodes) over {} series, made in {:.1} s",
                c.reports.len(),
                c.reports.iter().filter(|r| r.episode.is_some()).count(),
                c.episodes.len(),
                c.series,
                t.elapsed().as_secs_f64()
            );
            c
        })
        .collect();
    println!(
        "\n{:<44} {:>7} {:>6} {:>6} {:>13} {:>6} {:>6} {:>12}",
        "rule", "alerts", "prec.", "recall", "reports@alert", "by 3", "by 4", "min to alert"
    );
    for (i, rule) in candidates.iter().enumerate() {
        let mut total = Score::default();
        for c in &cities {
            let s = run(rule, c);
            total.raised += s.raised;
            total.true_alerts += s.true_alerts;
            total.found += s.found;
            total.episodes += s.episodes;
            total.reports_by_alert.extend(s.reports_by_alert);
            total.minutes_to_alert.extend(s.minutes_to_alert);
        }
        let mut by: Vec<f64> = total.reports_by_alert.iter().map(|n| *n as f64).collect();
        let share_by = |k: usize| {
            total.reports_by_alert.iter().filter(|n| **n <= k).count() as f64
                / total.reports_by_alert.len().max(1) as f64
        };
        let name = format!(
            "{}{} d, min {}, α {:.0e}, floor {:.4}/d",
            if i == 0 { "in force: " } else { "" },
            rule.window_days,
            rule.min_reports,
            rule.false_alarm,
            rule.floor_per_day
        );
        println!(
            "{:<44} {:>7} {:>6.3} {:>6.3} {:>13.0} {:>6.2} {:>6.2} {:>12.0}",
            name,
            total.raised,
            total.true_alerts as f64 / total.raised.max(1) as f64,
            total.found as f64 / total.episodes as f64,
            median(&mut by),
            share_by(3),
            share_by(4),
            median(&mut total.minutes_to_alert),
        );
    }
    let dir = std::env::temp_dir().join("onegrid-bench-warning.db");
    cost(&dir, &cities[0], &cells);
}
