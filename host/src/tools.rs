//! The small commands for docs and demos: `demo-city` prints the demo map as GeoJSON, and
//! `sign-webhook` prints Standard Webhooks headers as curl flags, so a README can show a
//! department's signed callback with plain curl. And `import grids FILE`: a map into the data
//! directory's database and key-value store, with the same checks as the HTTP import.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use futures::executor::block_on;
use onegrid::grid::{self, Progress, Stage};

use crate::secrets::random_hex;

pub fn demo_city(seed: u64) {
    println!("{}", onegrid::demo::city_geojson(seed));
}

/// A string as one single-quoted shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The three curl flags for a message signed now.
pub fn signature_flags(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &str,
) -> anyhow::Result<String> {
    let signature = onegrid::http::webhook::sign(secret, id, timestamp, body.as_bytes())
        .map_err(|e| anyhow!("cannot sign: {e}"))?;
    let headers = [
        format!("webhook-id: {id}"),
        format!("webhook-timestamp: {timestamp}"),
        format!("webhook-signature: {signature}"),
    ];
    let flags: Vec<String> = headers
        .iter()
        .map(|h| format!("-H {}", shell_quote(h)))
        .collect();
    Ok(flags.join(" "))
}

pub fn sign_webhook(secret: &str, body: &str, id: Option<String>) -> anyhow::Result<()> {
    let id = id.unwrap_or_else(|| format!("msg_{}", random_hex(12)));
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    println!("{}", signature_flags(secret, &id, now, body)?);
    Ok(())
}

/// `onegrid import grids FILE [--data DIR]`: parse, check, import as a new map version.
pub fn import_grids(file: &Path, data: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let bytes = if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading stdin")?;
        bytes
    } else {
        std::fs::read(file).with_context(|| format!("reading {}", file.display()))?
    };
    eprintln!(
        "onegrid: read {} ({:.1} MB)",
        file.display(),
        bytes.len() as f64 / 1e6
    );
    // Parsed before the data directory is touched: a file with mistakes changes nothing.
    let features = grid::parse_feature_collection(&bytes).map_err(|errors| {
        print_errors(
            errors
                .iter()
                .map(|e| (e.field.as_str(), e.message.as_str())),
        );
        anyhow!(
            "{}: {}, nothing imported",
            file.display(),
            count(errors.len())
        )
    })?;
    drop(bytes);
    let manifest = onegrid::native::router::Manifest::embedded()?;
    let config = crate::setup::prepare(data, &manifest)?;
    let env = config.open()?;
    let mut bar = ProgressBar::new();
    let summary = block_on(grid::import_with_progress(&env, features, &mut |p| {
        bar.show(p)
    }));
    bar.finish();
    let summary = summary.map_err(|problem| {
        if let Some(errors) = problem.extensions.get("errors").and_then(|e| e.as_array()) {
            print_errors(errors.iter().map(|e| {
                (
                    e["field"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or(""),
                )
            }));
            anyhow!(
                "{}: {}, nothing imported",
                file.display(),
                count(errors.len())
            )
        } else {
            anyhow!("{}: {}", problem.title(), problem.detail)
        }
    })?;
    println!(
        "imported map version {}: {} grids ({} cells), {} grid workers, {} index keys, in {:.1} s",
        summary.map_version,
        summary.grids,
        summary.cells,
        summary.workers,
        summary.index_keys,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `onegrid import demo-registry`: the demo registry into a data directory's empty registry,
/// its ID and phone numbers sealed under the directory's `registry_key`.
pub fn import_demo_registry(data: &Path, residents: usize, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let manifest = onegrid::native::router::Manifest::embedded()?;
    let config = crate::setup::prepare(data, &manifest)?;
    let env = config.open()?;
    let keys = block_on(onegrid::registry::keys::RegistryKeys::of(&env))
        .map_err(|p| anyhow!("{}: {}", p.title(), p.detail))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let loaded = block_on(onegrid::demo_registry::load(
        &env,
        &keys,
        seed,
        residents,
        now,
        |done, total| {
            if done % 400 < 40 || done == total {
                eprint!("\ronegrid: {done} of {total} cells");
            }
        },
    ))
    .map_err(|p| anyhow!("{}: {}", p.title(), p.detail))?;
    eprintln!();
    println!(
        "loaded the demo registry: {} residents in {} households at {} addresses of {} cells, in {:.1} s",
        loaded.residents,
        loaded.households,
        loaded.addresses,
        loaded.cells,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn count(errors: usize) -> String {
    if errors == 1 {
        "1 error".into()
    } else {
        format!("{errors} errors")
    }
}

fn print_errors<'a>(errors: impl Iterator<Item = (&'a str, &'a str)>) {
    for (field, message) in errors {
        eprintln!("  {field}: {message}");
    }
}

/// One line on stderr per stage of the import, redrawn in place on a terminal (at most ten
/// times a second); elsewhere (a log, CI) only each stage's end is written.
struct ProgressBar {
    tty: bool,
    stage: Option<Stage>,
    drawn: Option<Instant>,
}

impl ProgressBar {
    const WIDTH: usize = 30;

    fn new() -> Self {
        ProgressBar {
            tty: std::io::stderr().is_terminal(),
            stage: None,
            drawn: None,
        }
    }

    fn label(stage: Stage) -> &'static str {
        match stage {
            Stage::Validate => "checking the map",
            Stage::Rows => "writing grids, workers",
            Stage::Index => "writing index tiles",
        }
    }

    fn show(&mut self, p: Progress) {
        if self.stage.is_some_and(|s| s != p.stage) {
            self.finish();
        }
        self.stage = Some(p.stage);
        let complete = p.done >= p.total;
        let due = self
            .drawn
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if !(complete || self.tty && due) {
            return;
        }
        self.drawn = Some(Instant::now());
        let mut err = std::io::stderr().lock();
        if self.tty {
            let filled = (p.done * Self::WIDTH)
                .checked_div(p.total)
                .unwrap_or(Self::WIDTH);
            let bar = format!(
                "{}{}",
                "#".repeat(filled),
                "-".repeat(Self::WIDTH - filled.min(Self::WIDTH))
            );
            let _ = write!(
                err,
                "\r{:<24} [{bar}] {}/{}",
                Self::label(p.stage),
                p.done,
                p.total
            );
        } else if complete && p.total > 1 {
            let _ = write!(err, "{}: {}/{}", Self::label(p.stage), p.done, p.total);
        } else if complete {
            let _ = write!(err, "{}: done", Self::label(p.stage));
        }
        let _ = err.flush();
        if complete && !self.tty {
            let _ = writeln!(err);
            self.stage = None;
        }
    }

    /// Ends the current line, if one is open.
    fn finish(&mut self) {
        if self.stage.take().is_some() && self.tty {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("webhook-id: msg_1"), "'webhook-id: msg_1'");
    }

    #[test]
    fn flags_carry_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks spec.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        match signature_flags(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) {
            Ok(flags) => assert_eq!(
                flags,
                "-H 'webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek' -H 'webhook-timestamp: 1614265330' \
                 -H 'webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='"
            ),
            // `webhook::sign` is still being written in shared/.
            Err(e) => assert!(e.to_string().starts_with("cannot sign"), "{e}"),
        }
    }
}
