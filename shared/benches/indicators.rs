//! `GET /api/indicators` over the rollups of 1,000,000 cases (17,000,000, Jimei's data pool, with
//! `ONEGRID_BENCH_CASES=17000000`: about 12 GB and ten minutes to generate): the whole handler (auth, schema
//! check, the rollup queries, names, JSON) on a fresh SQLite connection per request, as a Spin
//! component gets one, for every grouping and for periods of 30 days, a month, a year and an
//! unaligned 11 months, with and without filters; p50 / p99 / max over repeated runs.
//!
//! The generator spreads the cases over the demo city (`demo::city(1)`: 4,103 cells), 12
//! categories, 19 departments and the 12 months of 2025 (city time). Each case's moves follow
//! the state machine (`Status::apply`) and its clock (`deadlines::clock_change`): rejections,
//! merges, self-handling, returns and re-dispatch, late and on-time steps, extensions, rework,
//! ratings; moves after the end of 2025 do not happen, so December's cases are partly open.
//! The moves are counted by the write path's own `indicators::effects` and written with its
//! own `Batch` and `indicators::write`, each rollup row once (see `flush`); the case rows and
//! their trackers are stored too, so the file is the size a real one would be (the event trail
//! is not). A bulk load: one thread simulates the days while this one stores them, one
//! transaction a day, no syncs, and the secondary indexes built at the end.
//! The file is kept and reused (`target/onegrid-bench/`); delete it to generate anew.
//!
//! Also: the p90 read from the histogram against the exact p90 of the generated samples, and
//! the cost a move pays for the indicators (`record_move`) beside the whole move (`apply_move`).
//!
//! `cargo bench -p onegrid-shared --features native --bench indicators`
//! (`ONEGRID_BENCH_CASES=100000` for a smaller run, `ONEGRID_BENCH_RUNS=…` per query.)

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use futures::executor::block_on;
use onegrid::case::clock::{ClockChange, clock_change, deadline, hours_for};
use onegrid::case::report::{Channel, ReportInput};
use onegrid::case::store::{self, Actor, Reporter};
use onegrid::case::{Move, MoveInput, Role, Status};
use onegrid::directory::{self, Category, CategoryInput, DepartmentInput};
use onegrid::grid::code::Level;
use onegrid::grid::{CellMatch, GridRef, MatchKind};
use onegrid::indicators::{self, Batch, CaseKey, Changes, Counts, MoveFacts, RowKey, Tracker};
use onegrid::native::{NativeEnv, Sqlite, SqliteKv};
use onegrid::ports::{Database, OutboundRequest, OutboundResponse, Platform};
use onegrid::{ApiRequest, StoreError, demo};

const TOKEN: &str = "bench-operator-token";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// Bumped when the generator changes, so that an old file is not reused.
const GENERATOR: i64 = 3;

// ---- the native adapter, with the benchmark's platform

/// A fixed clock, the operator's token and no network.
struct BenchPlatform {
    now: i64,
}

type BenchEnv = NativeEnv<BenchPlatform>;

/// A fresh connection to the file, as each Spin request gets; the key-value store in memory.
fn open_env(path: &Path, now: i64) -> BenchEnv {
    NativeEnv {
        db: Sqlite::open(path).unwrap(),
        kv: SqliteKv::in_memory().unwrap(),
        platform: BenchPlatform { now },
    }
}

impl Platform for BenchPlatform {
    async fn variable(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok((name == "operator_token").then(|| TOKEN.to_owned()))
    }
    fn now_ms(&self) -> i64 {
        self.now
    }
    async fn send(&self, _: OutboundRequest) -> Result<OutboundResponse, String> {
        Err("no network in the benchmark".into())
    }
}

// ---- the generated city

/// SplitMix64, as the demo city uses: a seed always gives the same cases.
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
    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -(1.0 - self.unit()).ln() * mean
    }
    fn hours(&mut self, lo: f64, hi: f64) -> i64 {
        ((lo + self.unit() * (hi - lo)) * HOUR as f64) as i64
    }
}

/// The demo's six departments and thirteen more: nineteen.
const MORE_DEPARTMENTS: [&str; 13] = [
    "housing",
    "environment",
    "health",
    "education",
    "market",
    "transport",
    "fire",
    "civil",
    "planning",
    "power",
    "gas",
    "telecom",
    "forestry",
];

fn departments() -> Vec<String> {
    demo::DEPARTMENTS
        .iter()
        .map(|(c, _)| (*c).to_owned())
        .chain(MORE_DEPARTMENTS.iter().map(|c| (*c).to_owned()))
        .collect()
}

/// One move of a simulated case.
struct Step {
    mv: Move,
    at: i64,
    department: Option<String>,
    rating: Option<&'static str>,
}

/// A case's life: routine mostly, with the field's side roads at plausible rates.
fn life(
    rng: &mut Rng,
    received: i64,
    owner: &str,
    departments: &[String],
    category: &Category,
) -> Vec<Step> {
    fn push(
        steps: &mut Vec<Step>,
        mv: Move,
        at: i64,
        department: Option<String>,
        rating: Option<&'static str>,
    ) {
        steps.push(Step {
            mv,
            at,
            department,
            rating,
        });
    }
    let mut steps = Vec::new();
    let mut t = received;
    let r = rng.unit();
    if r < 0.03 {
        push(
            &mut steps,
            Move::Reject,
            t + rng.hours(0.2, 2.0),
            None,
            None,
        );
        return steps;
    }
    if r < 0.05 {
        t += rng.hours(0.1, 1.0);
        push(&mut steps, Move::Accept, t, None, None);
        push(&mut steps, Move::Merge, t + rng.hours(0.1, 1.0), None, None);
        return steps;
    }
    if r < 0.10 {
        t += rng.hours(0.1, 2.0);
        push(&mut steps, Move::SelfHandle, t, None, None);
        if rng.unit() < 0.4 {
            push(
                &mut steps,
                Move::Evaluate,
                t + rng.hours(1.0, 48.0),
                None,
                Some(rating(rng)),
            );
        }
        return steps;
    }
    t += rng.hours(0.05, 2.0);
    push(&mut steps, Move::Accept, t, None, None);
    let mut department = if rng.unit() < 0.85 {
        owner.to_owned()
    } else {
        departments[rng.below(departments.len())].clone()
    };
    let (sign, handle, verify) = (
        category.sign_for_hours,
        category.handle_hours,
        category.verify_hours,
    );
    t += rng.hours(0.05, 1.0);
    push(
        &mut steps,
        Move::Dispatch,
        t,
        Some(department.clone()),
        None,
    );
    if rng.unit() < 0.07 {
        // Returned as misrouted, then dispatched elsewhere.
        t += rng.hours(0.1, 1.3 * sign);
        push(&mut steps, Move::Return, t, None, None);
        department = departments[rng.below(departments.len())].clone();
        t += rng.hours(0.1, 2.0);
        push(&mut steps, Move::Dispatch, t, Some(department), None);
    }
    // Sign-for within 10–130 % of its time: about one in seven late.
    t += rng.hours(0.1 * sign, 1.3 * sign);
    push(&mut steps, Move::SignFor, t, None, None);
    t += rng.hours(0.0, 0.1 * handle);
    push(&mut steps, Move::Start, t, None, None);
    if rng.unit() < 0.03 {
        t += rng.hours(0.1 * handle, 0.5 * handle);
        push(&mut steps, Move::RequestExtension, t, None, None);
        t += rng.hours(0.1, 4.0);
        push(&mut steps, Move::ApproveExtension, t, None, None);
    }
    // Handling takes an exponential share of its time (mean 45 %): about one in nine late.
    t += (rng.exp(0.45 * handle) * HOUR as f64) as i64;
    push(&mut steps, Move::Handle, t, None, None);
    t += rng.hours(0.1 * verify, 1.2 * verify);
    if rng.unit() < 0.08 {
        push(&mut steps, Move::VerifyFail, t, None, None);
        t += (rng.exp(0.3 * handle) * HOUR as f64) as i64;
        push(&mut steps, Move::Handle, t, None, None);
        t += rng.hours(0.1 * verify, 1.0 * verify);
    }
    push(&mut steps, Move::VerifyPass, t, None, None);
    t += rng.hours(0.05, 2.0);
    push(&mut steps, Move::Close, t, None, None);
    if rng.unit() < 0.55 {
        push(
            &mut steps,
            Move::Evaluate,
            t + rng.hours(1.0, 48.0),
            None,
            Some(rating(rng)),
        );
    }
    steps
}

fn rating(rng: &mut Rng) -> &'static str {
    match rng.unit() {
        u if u < 0.70 => "satisfied",
        u if u < 0.90 => "basically_satisfied",
        _ => "unsatisfied",
    }
}

fn role_of(mv: Move) -> Role {
    match mv {
        Move::SignFor | Move::Return | Move::Start | Move::RequestExtension | Move::Handle => {
            Role::Department
        }
        Move::SelfHandle => Role::GridWorker,
        Move::Evaluate => Role::Citizen,
        _ => Role::Operator,
    }
}

fn full_input(department: Option<String>) -> MoveInput {
    MoveInput {
        reason: Some("r".into()),
        note: Some("n".into()),
        parent: Some("p".into()),
        department,
        hours: Some(24.0),
        ..MoveInput::default()
    }
}

/// What the generator kept to check the queries against.
#[derive(Default)]
struct Truth {
    /// Every handling time, per category.
    samples: BTreeMap<String, Vec<i64>>,
}

/// Writes a day of counts to the rollup, through the write path's own `Batch` and `write`.
/// Every move of a case counts on the day it was received, and the generator lives each case's
/// whole life at once: a day's rows are final when its cases are made, so they are written
/// now, once; its month's rows gather in `month` and are written when the next month begins
/// (`finish_month`). Each rollup row is inserted once, in key order, never updated.
async fn flush(
    env: &BenchEnv,
    rows: &mut HashMap<(CaseKey, String), Counts>,
    month: &mut BTreeMap<RowKey, Counts>,
) {
    let mut batch = Batch::default();
    for ((key, department), counts) in rows.drain() {
        batch.add(&key, &department, &counts);
    }
    let (months, days): (BTreeMap<_, _>, BTreeMap<_, _>) =
        batch.0.into_iter().partition(|(k, _)| k.grain == "month");
    let new_month = |m: &BTreeMap<RowKey, Counts>| m.keys().next().map(|k| k.day);
    if new_month(&months) != new_month(month) {
        finish_month(env, month).await;
    }
    for (key, counts) in months {
        month.entry(key).or_default().merge(&counts);
    }
    indicators::write(env, Batch(days)).await.unwrap();
}

async fn finish_month(env: &BenchEnv, month: &mut BTreeMap<RowKey, Counts>) {
    indicators::write(env, Batch(std::mem::take(month)))
        .await
        .unwrap();
}

const INSERT_CASE: &str = "INSERT INTO cases (id, tracking_code, secret_hash, category, description, lat, lng, crs_given, \
     grid_code, status, channel, department, event_count, priority, created_at, updated_at) \
     VALUES (?, ?, 'x', ?, ?, ?, ?, 'wgs84', ?, ?, 'web', ?, ?, 2, ?, ?)";

fn generate(path: &Path, n: i64, year_start: i64, year_end: i64) -> Truth {
    let _ = std::fs::remove_file(path);
    let env = open_env(path, year_end);
    let mut truth = Truth::default();
    let started = Instant::now();
    block_on(async {
        onegrid::app::schema::migrate(&env).await.unwrap();
        env.db
            .connection()
            .pragma_update(None, "synchronous", "OFF")
            .unwrap();
        let departments = departments();
        for code in &departments {
            let input: DepartmentInput =
                serde_json::from_value(serde_json::json!({"name": format!("{code} department")}))
                    .unwrap();
            directory::upsert_department(&env, code, &input, 0)
                .await
                .unwrap();
        }
        for (code, zh, en, kind, major, department, priority, [sign_for, handle, verify]) in
            &demo::CATEGORIES[..12]
        {
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
        let categories = directory::categories(&env).await.unwrap();
        // The map's areas, for the names of districts and streets.
        let city = demo::city(1);
        env.execute(
            "INSERT INTO map_versions (created_at, grids, cells, is_current) VALUES (0, 0, 0, 1)",
            &[],
        )
        .await
        .unwrap();
        for f in city.iter().filter(|f| f.shape.is_none()) {
            env.execute(
                "INSERT INTO grids (code, version, name, level) VALUES (?, 1, ?, ?)",
                &[
                    f.code.as_str().into(),
                    f.name.as_str().into(),
                    f.code.level().as_str().into(),
                ],
            )
            .await
            .unwrap();
        }
        let cells: Vec<&str> = city
            .iter()
            .filter(|f| f.shape.is_some())
            .map(|f| f.code.as_str())
            .collect();

        let cells: Vec<String> = cells.into_iter().map(str::to_owned).collect();
        // Bulk load (a file cut short is generated again: `bench_meta` is written last): no
        // syncs, a page cache the size of the working set, and the secondary indexes built once
        // at the end by sorting, instead of kept up to date row by row.
        let db = env.db.connection();
        db.pragma_update(None, "cache_size", -4_000_000).unwrap();
        db.pragma_update(None, "temp_store", "MEMORY").unwrap();
        // The index builds' sorts on every core.
        db.pragma_update(None, "threads", 4).unwrap();
        let indexes: Vec<(String, String)> = db
            .prepare(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
                 AND tbl_name IN ('cases', 'indicator_cases', 'indicator_rollups')",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (name, _) in &indexes {
            db.execute_batch(&format!("DROP INDEX {name}")).unwrap();
        }

        // One thread simulates the cases' lives, day by day; this one stores them.
        let days = (year_end - year_start) / DAY;
        let (sender, days_made) = std::sync::mpsc::sync_channel::<DayOfCases>(4);
        let simulation = {
            let (categories, departments, cells) =
                (categories.clone(), departments.clone(), cells.clone());
            std::thread::spawn(move || {
                simulate_year(
                    n,
                    days,
                    (year_start, year_end),
                    &categories,
                    &departments,
                    &cells,
                    sender,
                )
            })
        };
        let mut made = 0i64;
        let (mut storing, mut rolling_up) = (0.0, 0.0);
        let mut month = BTreeMap::new();
        for (d, mut day) in days_made.into_iter().enumerate() {
            env.execute("BEGIN", &[]).await.unwrap();
            let t = Instant::now();
            for case in day.cases.drain(..) {
                made += 1;
                store_case(&env, case, made).await;
            }
            storing += t.elapsed().as_secs_f64();
            let t = Instant::now();
            flush(&env, &mut day.rows, &mut month).await;
            rolling_up += t.elapsed().as_secs_f64();
            env.execute("COMMIT", &[]).await.unwrap();
            if (d + 1) % 61 == 0 {
                eprintln!(
                    "  … {} days, {made} cases, {:.0} s",
                    d + 1,
                    started.elapsed().as_secs_f64()
                );
            }
        }
        env.execute("BEGIN", &[]).await.unwrap();
        finish_month(&env, &mut month).await;
        env.execute("COMMIT", &[]).await.unwrap();
        truth = simulation.join().unwrap();
        eprintln!("  storing the cases took {storing:.0} s, the rollups {rolling_up:.0} s");
        let loaded = Instant::now();
        for (_, sql) in &indexes {
            env.db.connection().execute_batch(sql).unwrap();
        }
        eprintln!(
            "  the {} indexes built in {:.0} s",
            indexes.len(),
            loaded.elapsed().as_secs_f64()
        );
        env.execute(
            "CREATE TABLE bench_meta (generator INTEGER, cases INTEGER)",
            &[],
        )
        .await
        .unwrap();
        env.execute(
            "INSERT INTO bench_meta VALUES (?, ?)",
            &[GENERATOR.into(), n.into()],
        )
        .await
        .unwrap();
        env.execute("PRAGMA wal_checkpoint(TRUNCATE)", &[])
            .await
            .unwrap();
    });
    eprintln!(
        "generated {n} cases in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let samples = truth.samples.values().map(Vec::len).sum::<usize>();
    std::fs::write(path.with_extension("samples"), samples_file(&truth)).unwrap();
    eprintln!("kept {samples} handling times beside it for the p90 check");
    truth
}

/// A simulated case, ready to be stored.
struct MadeCase {
    id: String,
    category: String,
    lat: f64,
    lng: f64,
    cell: String,
    status: Status,
    department: Option<String>,
    events: i64,
    received: i64,
    last: i64,
    tracker: Tracker,
}

/// A day's cases and the rollup counts of all their moves.
struct DayOfCases {
    cases: Vec<MadeCase>,
    rows: HashMap<(CaseKey, String), Counts>,
}

/// The year's cases, a day at a time into `days_made`; the handling times for the p90 check.
fn simulate_year(
    n: i64,
    days: i64,
    (year_start, year_end): (i64, i64),
    categories: &[Category],
    departments: &[String],
    cells: &[String],
    days_made: std::sync::mpsc::SyncSender<DayOfCases>,
) -> Truth {
    let mut truth = Truth::default();
    let mut rng = Rng(0x1DEC_A7E5);
    for d in 0..days {
        let todays = n * (d + 1) / days - n * d / days;
        let mut day = DayOfCases {
            cases: Vec::with_capacity(todays as usize),
            rows: HashMap::new(),
        };
        for _ in 0..todays {
            let received = year_start + d * DAY + rng.below(DAY as usize) as i64;
            let category = &categories[rng.below(categories.len())];
            let cell = &cells[rng.below(cells.len())];
            let steps = life(
                &mut rng,
                received,
                &category.department,
                departments,
                category,
            );
            let key = CaseKey::new(cell, &category.code, received);
            let (mut tracker, counts) = Tracker::received(key.clone());
            day.rows
                .entry((key.clone(), String::new()))
                .or_default()
                .merge(&counts);
            // The clock and the status, as `store::apply_move` keeps them.
            let (mut status, mut due, mut department): (Status, Option<i64>, Option<String>) =
                (Status::Collected, None, None);
            let mut last = received;
            for step in steps.iter().take_while(|s| s.at < year_end) {
                let input = full_input(step.department.clone());
                let to = status
                    .apply(step.mv, role_of(step.mv), &input)
                    .expect("the generator follows the machine");
                let facts = MoveFacts {
                    mv: step.mv,
                    to,
                    deadline_ms: due,
                    department: department.as_deref(),
                    dispatched_to: step.department.as_deref(),
                    rating: step.rating,
                    at: step.at,
                };
                let before = tracker.dispatched_at;
                let Changes(changes) = indicators::effects(&mut tracker, &facts);
                if step.mv == Move::Handle
                    && let Some(since) = before
                {
                    truth
                        .samples
                        .entry(category.code.clone())
                        .or_default()
                        .push(step.at - since);
                }
                for (dept, counts) in changes {
                    day.rows
                        .entry((key.clone(), dept))
                        .or_default()
                        .merge(&counts);
                }
                due = match clock_change(step.mv, to) {
                    ClockChange::Start(s) => Some(deadline(step.at, hours_for(category, s))),
                    ClockChange::Extend(_) => {
                        due.map(|d| deadline(d, input.hours.unwrap_or_default()))
                    }
                    ClockChange::Stop => None,
                    ClockChange::Keep | ClockChange::Recompute => due,
                };
                if step.mv == Move::Dispatch {
                    department = step.department.clone();
                }
                status = to;
                last = step.at;
            }
            // The random draws in the order the generator has always made them: a file
            // generated before holds the same cases.
            let id = ulid::Ulid::from_parts(received as u64, u128::from(rng.next())).to_string();
            let lat = 24.4 + rng.unit() * 0.35;
            let lng = 117.85 + rng.unit() * 0.6;
            day.cases.push(MadeCase {
                id,
                category: category.code.clone(),
                lat,
                lng,
                cell: cell.clone(),
                status,
                department,
                events: steps.len() as i64 + 1,
                received,
                last,
                tracker,
            });
        }
        if days_made.send(day).is_err() {
            break;
        }
    }
    truth
}

/// Stores a simulated case and its tracker; `made` numbers its tracking code.
async fn store_case(env: &BenchEnv, case: MadeCase, made: i64) {
    env.execute(
        INSERT_CASE,
        &[
            case.id.as_str().into(),
            format!("B{made:09}").into(),
            case.category.as_str().into(),
            "生成的案件 a generated case for the benchmark".into(),
            case.lat.into(),
            case.lng.into(),
            case.cell.as_str().into(),
            case.status.as_str().into(),
            case.department.into(),
            case.events.into(),
            case.received.into(),
            case.last.into(),
        ],
    )
    .await
    .unwrap();
    indicators::insert_tracker(env, &case.id, &case.tracker)
        .await
        .unwrap();
}

/// The generated handling times, kept beside the database so that a reused file can be checked.
fn samples_file(truth: &Truth) -> String {
    truth
        .samples
        .iter()
        .map(|(category, v)| {
            format!(
                "{category} {}\n",
                v.iter().map(i64::to_string).collect::<Vec<_>>().join(" ")
            )
        })
        .collect()
}

fn read_samples(path: &Path) -> Option<BTreeMap<String, Vec<i64>>> {
    let text = std::fs::read_to_string(path.with_extension("samples")).ok()?;
    text.lines()
        .map(|line| {
            let mut parts = line.split(' ');
            let category = parts.next()?.to_owned();
            Some((
                category,
                parts
                    .map(|p| p.parse().ok())
                    .collect::<Option<Vec<i64>>>()?,
            ))
        })
        .collect()
}

fn existing(path: &Path, n: i64) -> bool {
    let Ok(db) = rusqlite::Connection::open(path) else {
        return false;
    };
    db.query_row("SELECT generator, cases FROM bench_meta", [], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })
    .is_ok_and(|(g, c)| g == GENERATOR && c == n)
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The exact nearest-rank p90 of samples, in hours.
fn exact_p90(samples: &mut [i64]) -> f64 {
    samples.sort_unstable();
    let rank = (9 * samples.len()).div_ceil(10);
    samples[rank - 1] as f64 / HOUR as f64
}

fn main() {
    let n: i64 = std::env::var("ONEGRID_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runs: usize = std::env::var("ONEGRID_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/onegrid-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("indicators-{n}.db"));
    let day = |s: &str| indicators::parse_date(s).unwrap();
    // 2025 in city time; "now" is the first moment of 2026.
    let year_start = day("2025-01-01") * DAY - indicators::CITY_UTC_OFFSET_MS;
    let year_end = day("2026-01-01") * DAY - indicators::CITY_UTC_OFFSET_MS;
    let samples = if existing(&path, n) && read_samples(&path).is_some() {
        eprintln!("reusing {}", path.display());
        read_samples(&path).unwrap()
    } else {
        eprintln!("generating {n} cases into {} …", path.display());
        generate(&path, n, year_start, year_end).samples
    };
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    let db = rusqlite::Connection::open(&path).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    println!(
        "database: {:.0} MB; {} cases, {} trackers, {} rollup rows",
        size as f64 / 1e6,
        count("SELECT COUNT(*) FROM cases"),
        count("SELECT COUNT(*) FROM indicator_cases"),
        count("SELECT COUNT(*) FROM indicator_rollups"),
    );
    let mut stmt = db
        .prepare("SELECT cuboid, grain, COUNT(*) FROM indicator_rollups GROUP BY cuboid, grain ORDER BY length(cuboid) DESC, cuboid, grain")
        .unwrap();
    let cuboids: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}/{} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    println!("rollup rows by cuboid/grain: {}", cuboids.join(", "));
    drop(stmt);
    drop(db);

    let now = year_end - 1;
    let call = |query: &str| -> (f64, serde_json::Value) {
        let t = Instant::now();
        // A fresh connection per request, as each Spin request gets.
        let env = open_env(&path, now);
        let mut req = ApiRequest::new("GET", &format!("/api/indicators?{query}"));
        req.headers
            .push(("authorization".into(), format!("Bearer {TOKEN}")));
        let resp = block_on(onegrid::api::indicators::handle(&env, req));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(
            resp.status,
            200,
            "{query}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        (
            ms,
            serde_json::from_slice(&resp.body).unwrap_or(serde_json::Value::Null),
        )
    };

    // What the year's answer must hold.
    let (_, year) = call("group_by=category&from=2025-01-01&to=2025-12-31");
    assert_eq!(year["total"]["received"], n, "every case is counted once");
    let mut all: Vec<i64> = samples.values().flatten().copied().collect();
    let (exact, estimate) = (
        exact_p90(&mut all),
        year["total"]["p90_handling_hours"].as_f64().unwrap(),
    );
    println!(
        "p90 handling time, the whole year: exact {exact:.2} h, from the histogram {estimate:.2} h ({:+.1} %)",
        (estimate / exact - 1.0) * 100.0
    );
    let mut worst: f64 = 0.0;
    for item in year["items"].as_array().unwrap() {
        let category = item["key"].as_str().unwrap();
        let mut v = samples[category].clone();
        let (exact, estimate) = (
            exact_p90(&mut v),
            item["p90_handling_hours"].as_f64().unwrap(),
        );
        worst = worst.max((estimate / exact - 1.0).abs());
    }
    println!(
        "p90 per category: the largest error against the exact value is {:.1} %",
        worst * 100.0
    );
    println!(
        "the year's total: {} received, on-time sign-for {}, on-time handling {}, closure {}, mean handling {} h",
        year["total"]["received"],
        year["total"]["on_time_sign_for_rate"],
        year["total"]["on_time_handling_rate"],
        year["total"]["closure_rate"],
        year["total"]["mean_handling_hours"]
    );

    let street = "350211001";
    let periods = [
        ("30 days", "from=2025-12-02&to=2025-12-31"),
        ("a month", "from=2025-11-01&to=2025-11-30"),
        ("11 months, unaligned", "from=2025-01-16&to=2025-12-14"),
        ("the year", "from=2025-01-01&to=2025-12-31"),
    ];
    let mut queries: Vec<(String, String)> = Vec::new();
    for group in ["department", "district", "street", "category"] {
        for (label, period) in periods {
            queries.push((
                format!("{group:<10} {label}"),
                format!("group_by={group}&{period}"),
            ));
        }
    }
    let area = format!("area={street}");
    for (label, filter) in [
        ("department=urban", "department=urban"),
        ("area=<a street>", area.as_str()),
        ("category=roads.pothole", "category=roads.pothole"),
    ] {
        queries.push((
            format!("{:<10} the year, {label}", "street"),
            format!("group_by=street&from=2025-01-01&to=2025-12-31&{filter}"),
        ));
    }
    // Two filters and a grouping: the full cuboid, the most rows a query can read.
    queries.push((
        format!(
            "{:<10} the year, department=municipal&category=roads.pothole",
            "street"
        ),
        "group_by=street&from=2025-01-01&to=2025-12-31&department=municipal&category=roads.pothole"
            .into(),
    ));
    queries.push((
        format!(
            "{:<10} 11 months, unaligned, department=urban&area=350211",
            "category"
        ),
        "group_by=category&from=2025-01-16&to=2025-12-14&department=urban&area=350211".into(),
    ));
    queries.push(("default (department, last 30 days)".into(), String::new()));
    queries.push((
        "department the year, CSV".into(),
        "from=2025-01-01&to=2025-12-31&format=csv".into(),
    ));
    println!(
        "\nGET /api/indicators, fresh connection per request, {runs} runs each (after 3 warm-up runs):"
    );
    println!(
        "{:<64} {:>8} {:>8} {:>8} {:>6}",
        "query", "p50 ms", "p99 ms", "max ms", "lines"
    );
    let mut slowest: f64 = 0.0;
    for (label, query) in &queries {
        let csv = query.contains("format=csv");
        for _ in 0..3 {
            if csv {
                time_csv(&path, now, query);
            } else {
                call(query);
            }
        }
        let mut times = Vec::with_capacity(runs);
        let mut lines = 0;
        for _ in 0..runs {
            let ms = if csv {
                time_csv(&path, now, query)
            } else {
                let (ms, body) = call(query);
                lines = body["items"].as_array().map_or(0, Vec::len);
                ms
            };
            times.push(ms);
        }
        times.sort_by(f64::total_cmp);
        slowest = slowest.max(quantile(&times, 0.99));
        println!(
            "{label:<64} {:>8.1} {:>8.1} {:>8.1} {:>6}",
            quantile(&times, 0.5),
            quantile(&times, 0.99),
            times[times.len() - 1],
            if csv {
                "csv".to_string()
            } else {
                lines.to_string()
            }
        );
    }
    println!("slowest p99: {slowest:.1} ms (target: under 200 ms)");

    // The write path is measured on a copy; past a few GB the copy costs more than the
    // measurement says (a move's cost does not grow with the file: its rows are found by key).
    if size < WRITE_PATH_COPY_LIMIT {
        write_path(&path, year_end);
    } else {
        println!(
            "write path: not measured on a file of {:.1} GB (no copy past {} GB; run with fewer cases)",
            size as f64 / 1e9,
            WRITE_PATH_COPY_LIMIT / 1_000_000_000
        );
    }
}

/// The largest file `write_path` copies.
const WRITE_PATH_COPY_LIMIT: u64 = 4_000_000_000;

fn time_csv(path: &Path, now: i64, query: &str) -> f64 {
    let t = Instant::now();
    let env = open_env(path, now);
    let mut req = ApiRequest::new("GET", &format!("/api/indicators?{query}"));
    req.headers
        .push(("authorization".into(), format!("Bearer {TOKEN}")));
    let resp = block_on(onegrid::api::indicators::handle(&env, req));
    assert_eq!(resp.status, 200);
    t.elapsed().as_secs_f64() * 1e3
}

/// What a move pays for its indicators on the big file: `record_move` alone (rolled back) and
/// the whole `apply_move` it is part of (committed), for the moves of 300 new cases. On a copy
/// of the file, so that the benchmark's data stay as generated.
fn write_path(path: &Path, now: i64) {
    let copy = path.with_extension("scratch.db");
    std::fs::copy(path, &copy).unwrap();
    let env = open_env(&copy, now);
    env.db
        .connection()
        .pragma_update(None, "synchronous", "FULL")
        .unwrap();
    let (mut record, mut whole) = (Vec::new(), Vec::new());
    block_on(async {
        let category = directory::category(&env, "roads.pothole")
            .await
            .unwrap()
            .unwrap();
        let cell = CellMatch {
            cell: GridRef {
                code: "350211001001001".into(),
                name: "cell".into(),
                level: Level::Cell,
            },
            chain: vec![],
            kind: MatchKind::Inside,
            distance_m: 0.0,
        };
        let mut rng = Rng(7);
        for i in 0..300 {
            let at = now + i * HOUR;
            let input = ReportInput {
                category: Some("roads.pothole".into()),
                description: Some("A pothole to time".into()),
                lat: Some(24.5 + rng.unit() * 0.1),
                lng: Some(118.1 + rng.unit() * 0.1),
                ..Default::default()
            };
            let report = input.validate().unwrap();
            let (mut case, _) = onegrid::app::cases::create_with(
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
            let path = [
                (Move::Accept, None),
                (Move::Dispatch, Some("municipal".to_owned())),
                (Move::SignFor, None),
                (Move::Handle, None),
                (Move::VerifyPass, None),
                (Move::Close, None),
            ];
            for (k, (mv, department)) in path.into_iter().enumerate() {
                let when = at + k as i64 * 600_000;
                let input = full_input(department);
                let actor = Actor {
                    role: role_of(mv),
                    id: "bench".into(),
                    channel: Channel::Console,
                };
                let to = case.status.apply(mv, actor.role, &input).unwrap();
                env.execute("BEGIN IMMEDIATE", &[]).await.unwrap();
                let t = Instant::now();
                indicators::record_move(&env, &case, mv, to, &input, &serde_json::json!({}), when)
                    .await
                    .unwrap();
                record.push(t.elapsed().as_secs_f64() * 1e6);
                env.execute("ROLLBACK", &[]).await.unwrap();
                let t = Instant::now();
                env.execute("BEGIN IMMEDIATE", &[]).await.unwrap();
                case =
                    store::apply_move(&env, &case, mv, &actor, &input, serde_json::json!({}), when)
                        .await
                        .unwrap()
                        .0;
                env.execute("COMMIT", &[]).await.unwrap();
                whole.push(t.elapsed().as_secs_f64() * 1e6);
            }
        }
    });
    drop(env);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    for v in [&mut record, &mut whole] {
        v.sort_by(f64::total_cmp);
    }
    println!(
        "\nwrite path, {} moves on the big file: record_move p50 {:.0} µs p99 {:.0} µs; \
         the whole apply_move with its commit (synchronous=FULL) p50 {:.0} µs p99 {:.0} µs",
        record.len(),
        quantile(&record, 0.5),
        quantile(&record, 0.99),
        quantile(&whole, 0.5),
        quantile(&whole, 0.99)
    );
}
