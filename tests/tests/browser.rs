//! The pages in a real browser: runs tests/browser/run.mjs (Playwright, with the system's
//! Chromium) against a host it starts itself. Needs Node.js, the npm packages of web/ (the
//! host's build installs them) and Chromium at /usr/bin/chromium or `$CHROMIUM`; scripts/test
//! and .ci/run install Chromium. Screenshots land in tests/screenshots/.

use std::process::Command;

use onegrid_tests::{host_binary, workspace_dir};

#[test]
fn a_report_goes_round_the_whole_loop_in_a_browser() {
    let root = workspace_dir();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: install it (`apt-get install chromium`, as scripts/test does) or set CHROMIUM"
    );
    let output = Command::new("node")
        .arg(root.join("tests/browser/run.mjs"))
        .env("ONEGRID_BIN", host_binary())
        .env("CHROMIUM", &chromium)
        .current_dir(&root)
        .output()
        .expect("running node (Node.js 20 or later is needed for the browser test)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}
