//! `scripts/build-web`: makes the pages' generated files of static/ outside a host build (for
//! `spin build`, or after static/pkg or static/build was removed by hand).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match onegrid_web_pages::build(&root) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("build-web: {e:#}");
            ExitCode::FAILURE
        }
    }
}
