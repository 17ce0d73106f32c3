//! Bench probe: one `INSERT` into a WAL SQLite table per request, the least a component that
//! stores something can do. `bench/spin-ratios` holds OneGrid's intake against it.

use spin_sdk::http::{IntoResponse, Request};
use spin_sdk::sqlite::{Connection, Value};

const INSERT: &str = "INSERT INTO probe_rows (at, body) VALUES (?, ?)";

#[spin_sdk::http_service]
async fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
    let conn = Connection::open_default().await?;
    let at = Value::Integer(now_ms());
    let body = Value::Text("a row of about the size of a short report".to_owned());
    // The schema once per database, not per request: only the first insert finds no table.
    if insert(&conn, &at, &body).await.is_err() {
        // WAL is a property of the file: set once, kept by every later connection.
        conn.execute("PRAGMA journal_mode=WAL", [])
            .await?
            .collect()
            .await?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS probe_rows (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL)",
            [],
        )
        .await?
        .collect()
        .await?;
        insert(&conn, &at, &body).await?;
    }
    Ok((
        spin_sdk::http::StatusCode::CREATED,
        String::from("inserted"),
    ))
}

async fn insert(conn: &Connection, at: &Value, body: &Value) -> anyhow::Result<()> {
    conn.execute(INSERT, [at.clone(), body.clone()])
        .await?
        .collect()
        .await?;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
