//! The host's log: `tracing` events as text lines on stderr, at the level `RUST_LOG` says
//! (`info` when unset or unreadable), coloured only on a terminal. What the lines may say is
//! each call site's business; none may carry a contact, a description, a token or a tracking
//! code (see `server::request_span` for what a request logs).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if let Err(e) = installed {
        eprintln!("onegrid: no log: {e}");
    }
}
