//! `onegrid`: OneGrid without Spin. One process serves every component's routes from the
//! same handlers the Spin components run, on SQLite files in a data directory; it also has
//! two small tools for docs and demos (`demo-city`, `sign-webhook`) and the map import
//! (`import grids FILE`).

mod cli;
mod logging;
mod native;
mod outbound;
mod secrets;
mod server;
mod setup;
mod stats;
mod sweeper;
mod tools;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use cli::{Command, Import, ServeArgs};
use onegrid::native::router::{Manifest, Router};

fn main() -> ExitCode {
    // Help goes to stdout and exits 0; a mistake goes to stderr with usage and exits 2.
    let command = cli::parse(std::env::args_os()).unwrap_or_else(|e| e.exit());
    logging::init();
    let outcome = match command {
        Command::Serve(args) => serve(args),
        Command::DemoCity { seed } => {
            tools::demo_city(seed);
            Ok(())
        }
        Command::SignWebhook { secret, body, id } => tools::sign_webhook(&secret, &body, id),
        Command::Import(Import::Grids { file, data }) => tools::import_grids(&file, &data),
        Command::Import(Import::DemoRegistry {
            data,
            residents,
            seed,
        }) => tools::import_demo_registry(&data, residents, seed),
        Command::RotateToken {
            name,
            data,
            days,
            overlap_hours,
        } => secrets::rotate(&data, &name, days, overlap_hours).map(|r| {
            println!(
                "A new {name} is in {} (valid until {}; restart the host to use it); the old one works until {}.",
                r.path.display(),
                r.new_until,
                r.old_until
            );
        }),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onegrid: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace's `static/`, wherever the binary was built from.
fn default_static_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../static");
    dir.canonicalize().unwrap_or(dir)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let manifest = Manifest::embedded()?;
    let router = Router::from_manifest(&manifest)?;
    let static_dir = args.static_dir.unwrap_or_else(default_static_dir);
    if !static_dir.is_dir() {
        tracing::warn!(dir = %static_dir.display(), "no static directory");
    }
    let config = setup::prepare(&args.data, &manifest)?;
    let app = Arc::new(server::App {
        router,
        static_dir: onegrid::api::static_files::Folder(static_dir),
    });
    let running = server::start(&args.listen, &config, app, server::WORKERS)?;
    sweeper::spawn(config)?;
    println!("OneGrid listening on http://{}", running.addr);
    println!(
        "  citizens: http://{0}/   staff: http://{0}/signin.html",
        running.addr
    );
    std::io::stdout().flush()?;
    for worker in running.workers {
        let _ = worker.join();
    }
    Ok(())
}
