//! What the host tells about itself on `SIGUSR1`: for each SQLite file, the commits made and
//! the fsyncs that made them durable, and the checkpoints (two fsyncs each), since it started.
//! A signal, not a route: these are the process's own counters, which a Spin deployment does
//! not have, and a signal needs no credentials to guard. `scripts/bench` reads them.

use onegrid::native::durability_counts;
use tokio::signal::unix::{SignalKind, signal};

/// Logs the counts at every `SIGUSR1`, for as long as the runtime runs.
pub async fn log_on_sigusr1() {
    let mut asked = match signal(SignalKind::user_defined1()) {
        Ok(asked) => asked,
        Err(e) => return tracing::warn!(error = %e, "no SIGUSR1: durability counts unavailable"),
    };
    while asked.recv().await.is_some() {
        for count in durability_counts() {
            let file = count.file.file_name().map_or_else(
                || count.file.display().to_string(),
                |name| name.to_string_lossy().into_owned(),
            );
            tracing::info!(
                file = %file,
                commits = count.commits,
                syncs = count.syncs,
                checkpoints = count.checkpoints,
                "durable writes"
            );
        }
    }
}
