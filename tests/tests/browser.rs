//! The pages in a real browser: runs tests/browser/run.mjs (Playwright, with the system's
//! Chromium) against this test's own deployment, on the runtime `ONEGRID_RUNTIME` names (the
//! native host by default, or `spin up`). Needs Node.js, the npm packages of web/ (the
//! host's build installs them) and Chromium at /usr/bin/chromium or `$CHROMIUM`; scripts/test
//! and .ci/run install Chromium. Screenshots land in tests/screenshots/.

use std::process::Command;

use onegrid_tests::{spawn_app, workspace_dir};

#[test]
fn a_report_goes_round_the_whole_loop_in_a_browser() {
    let root = workspace_dir();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no Chromium at {chromium}: install it (`apt-get install chromium`, as scripts/test does) or set CHROMIUM"
    );
    let app = spawn_app();
    let output = Command::new("node")
        .arg(root.join("tests/browser/run.mjs"))
        .env("ONEGRID_BASE_URL", app.base_url())
        .env("ONEGRID_ADMIN_TOKEN", app.admin_token())
        .env("ONEGRID_OPERATOR_TOKEN", app.operator_token())
        .env("ONEGRID_STAFF_PASSWORDS", app.staff_passwords().to_string())
        .env("CHROMIUM", &chromium)
        .current_dir(&root)
        .output()
        .expect("running node (Node.js 20 or later is needed for the browser test)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // On failure the deployment's own log follows (TestApp's drop prints it).
    assert!(
        output.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}"
    );
    println!("{stdout}");
}
