//! Makes the pages' generated files (static/pkg: the report rules as wasm; static/build: the
//! map bundle) with web/pages, so that `cargo run` serves a complete site. It watches only what
//! they are made from, never static/ itself: a build script that watched its own output would
//! run, and the host compile again, after every build.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    match onegrid_web_pages::build(&root) {
        Ok(inputs) => {
            for input in inputs {
                println!("cargo:rerun-if-changed={}", input.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("onegrid: the pages' generated files could not be made: {e:#}");
            ExitCode::FAILURE
        }
    }
}
