//! Builds the pages' generated files (static/pkg: the report rules as wasm; static/build: the
//! map bundle) with scripts/build-web, so that `cargo run` serves a complete site. The script
//! uses its own target directory: this build already holds the lock of target/.

use std::path::Path;
use std::process::Command;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for input in [
        "scripts/build-web",
        "shared/src",
        "web/validate",
        "web/src",
        "web/build.mjs",
        "web/package-lock.json",
        "static/pkg/onegrid_web_validate.js",
        "static/build/map.js",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let status = Command::new("bash")
        .arg(root.join("scripts/build-web"))
        // The nested cargo must compile for its own target, not with this build's flags or
        // wrappers (clippy's among them).
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("scripts/build-web failed ({s}); run it by hand to see why"),
        Err(e) => panic!("could not run bash scripts/build-web: {e}"),
    }
}
