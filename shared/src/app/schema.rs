//! The schema of the system of record: the numbered migrations, applied by `db::migrate`, each
//! made of the `.sql` files of the contexts whose tables it changes. Indexes stand next to their
//! tables: every request-path query uses one. A shipped version must never change.

use crate::db::{self, Migration};
use crate::{Database, StoreError};
use crate::{access, assets, case, directory, exchange, grid, indicators, registry, warning};

/// Each schema version, in order, and the contexts' files it is made of: each context owns the
/// `.sql` files of its tables (`<context>/sql/<version>_<name>.sql`). A version's files are
/// applied in this order, in one transaction.
pub const MIGRATIONS: &[Migration] = &[
    (
        1,
        &[
            grid::MIGRATION_1,
            directory::MIGRATION_1,
            case::MIGRATION_1,
            exchange::MIGRATION_1,
        ],
    ),
    (2, &[grid::MIGRATION_2]),
    (3, &[access::MIGRATION_3, case::MIGRATION_3]),
    (4, &[indicators::MIGRATION_4]),
    (
        5,
        &[
            directory::MIGRATION_5,
            case::MIGRATION_5,
            access::MIGRATION_5,
            exchange::MIGRATION_5,
        ],
    ),
    (6, &[assets::MIGRATION_6]),
    (7, &[access::MIGRATION_7]),
    (8, &[access::MIGRATION_8]),
    (9, &[case::MIGRATION_9]),
    (10, &[case::MIGRATION_10]),
    (11, &[registry::MIGRATION_11]),
    (12, &[warning::MIGRATION_12]),
];

/// The newest schema version this code knows.
pub fn latest() -> i64 {
    db::latest(MIGRATIONS)
}

/// Brings the database to the newest schema; returns its version.
pub async fn migrate<D: Database>(db: &D) -> Result<i64, StoreError> {
    db::migrate(db, MIGRATIONS).await
}

/// Called at the start of a request that uses SQL: one indexed read when the schema is current.
pub async fn ensure<D: Database>(db: &D) -> Result<i64, StoreError> {
    db::ensure(db, MIGRATIONS).await
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::Value;
    use crate::native::testenv::TestEnv;

    /// What `sqlite_master` says of a database, one entry per object, in name order.
    fn schema_of(env: &TestEnv) -> String {
        let rows = block_on(env.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
            &[],
        ))
        .unwrap();
        let text = |v: &Value| match v {
            Value::Text(s) => s.clone(),
            Value::Null => "(none)".to_owned(),
            other => panic!("unexpected value in sqlite_master: {other:?}"),
        };
        rows.rows
            .iter()
            .map(|r| {
                format!(
                    "{} {} on {}\n{}\n\n",
                    text(&r[0]),
                    text(&r[1]),
                    text(&r[2]),
                    text(&r[3])
                )
            })
            .collect()
    }

    /// The version `schema_fixture.txt` was taken at, from the statements of the Rust arrays
    /// that held the migrations before the `.sql` files: versions up to it must never change.
    const FIXTURE_VERSION: i64 = 6;

    #[test]
    fn a_fresh_database_gets_exactly_the_schema_of_the_fixture() {
        let env = TestEnv::new();
        let known = MIGRATIONS
            .iter()
            .filter(|(v, _)| *v <= FIXTURE_VERSION)
            .count();
        let version = block_on(db::migrate(&env, &MIGRATIONS[..known])).unwrap();
        assert_eq!(version, FIXTURE_VERSION);
        let got = schema_of(&env);
        let want = include_str!("schema_fixture.txt");
        // Point at the first differing line: the whole schema is too long to read in a diff.
        if let Some((n, (g, w))) = got
            .lines()
            .zip(want.lines())
            .enumerate()
            .find(|(_, (g, w))| g != w)
        {
            panic!("schema_fixture.txt line {}: got {g:?}, want {w:?}", n + 1);
        }
        assert_eq!(got.lines().count(), want.lines().count(), "number of lines");
    }

    #[test]
    fn every_context_sql_file_is_applied_once_in_the_version_its_name_says() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut on_disk = Vec::new();
        for context in std::fs::read_dir(&src).unwrap() {
            let dir = context.unwrap().path().join("sql");
            if !dir.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&dir).unwrap() {
                let path = file.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let version = name
                    .strip_suffix(".sql")
                    .and_then(|n| n.split_once('_'))
                    .filter(|(number, _)| number.len() == 3)
                    .and_then(|(number, _)| number.parse::<i64>().ok())
                    .unwrap_or_else(|| panic!("{} is not <version>_<name>.sql", path.display()));
                let text = std::fs::read_to_string(&path).unwrap();
                on_disk.push((version, path, text));
            }
        }
        for (version, path, text) in &on_disk {
            let listed = MIGRATIONS
                .iter()
                .filter(|(v, _)| v == version)
                .flat_map(|(_, files)| files.iter())
                .filter(|file| *file == text)
                .count();
            assert_eq!(listed, 1, "{} in version {version}", path.display());
        }
        let listed: usize = MIGRATIONS.iter().map(|(_, files)| files.len()).sum();
        assert_eq!(
            listed,
            on_disk.len(),
            "every listed file is a context's .sql file"
        );
        assert!(
            MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0),
            "versions ascend"
        );
    }

    #[test]
    fn the_newest_schema_version_is_12() {
        assert_eq!(latest(), 12);
    }

    #[test]
    fn migration_10_gives_old_cases_the_square_a_new_case_gets() {
        // Its UPDATE, as shipped, on a table of just the columns it reads and writes.
        let update = case::MIGRATION_10
            .split(';')
            .map(str::trim)
            .map(|s| {
                s.lines()
                    .filter(|l| !l.starts_with("--"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .find(|s| s.starts_with("UPDATE cases"))
            .expect("migration 10 updates the cases");
        let env = TestEnv::new();
        let points = [
            (24.4795, 118.0894),
            (24.5, 118.005),
            (-33.8688, 151.2093),
            (40.7128, -74.006),
            (-0.0001, -0.0049),
        ];
        block_on(env.execute(
            "CREATE TABLE cases (lat REAL, lng REAL, near_square INTEGER)",
            &[],
        ))
        .unwrap();
        for (lat, lng) in points {
            block_on(env.execute(
                "INSERT INTO cases (lat, lng) VALUES (?, ?)",
                &[lat.into(), lng.into()],
            ))
            .unwrap();
        }
        block_on(env.execute(&update, &[])).unwrap();
        let rows = block_on(env.execute(
            "SELECT lat, lng, near_square FROM cases ORDER BY rowid",
            &[],
        ))
        .unwrap();
        for row in rows.iter() {
            let point = crate::grid::code::Wgs84Point {
                lat: row.f64("lat").unwrap(),
                lng: row.f64("lng").unwrap(),
            };
            assert_eq!(
                row.i64("near_square").unwrap(),
                case::store::near_square(point),
                "{point:?}"
            );
        }
    }

    #[test]
    fn migrating_a_current_database_again_changes_nothing() {
        let env = TestEnv::new();
        assert_eq!(block_on(migrate(&env)).unwrap(), latest());
        let before = schema_of(&env);
        assert_eq!(block_on(migrate(&env)).unwrap(), latest());
        assert_eq!(block_on(ensure(&env)).unwrap(), latest());
        assert_eq!(schema_of(&env), before);
    }
}
