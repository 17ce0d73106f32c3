//! Makes the pages' generated files of `static/` (never edited by hand, never committed):
//! `static/pkg/`, the report rules of shared/ (`ReportInput::validate`, the crate web/validate)
//! as a wasm-bindgen module, so the browser refuses exactly what the server does; and
//! `static/build/`, the map (Leaflet from npm) bundled by esbuild from web/src/, with its CSS;
//! and `static/.compressed/`, a brotli and a gzip copy of every text file and module of
//! `static/`, named by the hash of the content they were made from (see
//! `onegrid::api::static_files`, which finds them by that name).
//!
//! It runs inside cargo (the native host's build script) as well as from scripts/build-web, so it
//! must never install a cargo binary, never take a fixed file descriptor (cargo hands its
//! jobserver down on inherited ones) and never build in the `target/` whose lock cargo holds.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::{env, mem};

use anyhow::{Context, bail};

/// The target of the report rules' module: a browser, no WASI.
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const VALIDATE_PACKAGE: &str = "onegrid-web-validate";
const VALIDATE_WASM: &str = "onegrid_web_validate";

/// Makes `static/pkg/` and `static/build/` under the workspace `root`, and returns the files
/// they are made from, for a build script's `rerun-if-changed` (never the files it writes: a
/// build that watched its own output would run again after every build).
///
/// Builds in `root/target/web`, its own target directory: the host's build script runs while
/// cargo holds the lock of `target/`. One build at a time, by a lock in that directory (a host
/// build and `spin build` may start together; two `npm ci` in one folder break each other).
pub fn build(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let root = root
        .canonicalize()
        .with_context(|| format!("no workspace at {}", root.display()))?;
    let web_target = root.join("target").join("web");
    fs::create_dir_all(&web_target)
        .with_context(|| format!("cannot create {}", web_target.display()))?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(web_target.join(".build-web.lock"))
        .context("cannot open target/web/.build-web.lock")?;
    lock.lock()
        .context("cannot lock target/web/.build-web.lock")?;

    let dep_info = build_rules(&root, &web_target)?;
    bundle_map(&root)?;
    compress_static(&root.join("static"))?;

    let mut inputs = rust_inputs(&root, &dep_info)?;
    inputs.extend(
        [
            "Cargo.toml",
            "Cargo.lock",
            "web/package.json",
            "web/package-lock.json",
            "web/build.mjs",
            "web/src",
        ]
        .map(|p| root.join(p)),
    );
    inputs.sort();
    inputs.dedup();
    Ok(inputs)
}

/// Compiles web/validate for the browser and post-processes it into `static/pkg/`; returns the
/// path of the compilation's dep-info file (the sources it read).
fn build_rules(root: &Path, web_target: &Path) -> anyhow::Result<PathBuf> {
    ensure_wasm_target()?;
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut nested = Command::new(cargo);
    nested
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            VALIDATE_PACKAGE,
            "--target",
            WASM_TARGET,
        ])
        .env("CARGO_TARGET_DIR", web_target)
        // Unstripped (wasm-bindgen reads the target-features section), and built for size: it
        // is sent to phones.
        .env("CARGO_PROFILE_RELEASE_STRIP", "false")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "s");
    // Not this build's flags or wrappers (clippy's among them): they are for the host. The
    // jobserver (CARGO_MAKEFLAGS) stays: the nested build then shares this build's cores.
    for name in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
    ] {
        nested.env_remove(name);
    }
    run(&mut nested, "cargo build of web/validate")?;

    let release = web_target.join(WASM_TARGET).join("release");
    let wasm = release.join(format!("{VALIDATE_WASM}.wasm"));
    // As `wasm-bindgen --target web --no-typescript` does: the CLI keeps the default module path,
    // which the page's `init()` without arguments needs.
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .typescript(false)
        .omit_default_module_path(false)
        .generate(root.join("static").join("pkg"))
        .with_context(|| format!("wasm-bindgen of {}", wasm.display()))?;
    Ok(release.join(format!("{VALIDATE_WASM}.d")))
}

/// Installs the browser target through rustup the first time.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let libdir = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .context("cannot run rustc")?;
    let libdir = String::from_utf8_lossy(&libdir.stdout);
    if Path::new(libdir.trim()).is_dir() {
        return Ok(());
    }
    run(
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
        "rustup target add (the pages need the Rust toolchain through rustup)",
    )
}

/// Installs the npm packages of web/ when they are not the locked ones, and bundles the map.
fn bundle_map(root: &Path) -> anyhow::Result<()> {
    let web = root.join("web");
    let lock =
        fs::read(web.join("package-lock.json")).context("cannot read web/package-lock.json")?;
    // A copy of the lock the installed tree came from.
    let installed = web.join("node_modules").join(".onegrid-installed-lock");
    if fs::read(&installed).ok().as_ref() != Some(&lock) {
        run(
            Command::new("npm").current_dir(&web).args([
                "ci",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ]),
            "npm ci in web/ (the pages need Node.js with npm)",
        )?;
        fs::write(&installed, &lock)
            .with_context(|| format!("cannot write {}", installed.display()))?;
    }
    run(
        Command::new("node").current_dir(&web).arg("build.mjs"),
        "node web/build.mjs",
    )
}

/// What is worth compressing: text and modules. Images are compressed already.
const COMPRESSIBLE: [&str; 9] = [
    "html",
    "css",
    "js",
    "mjs",
    "json",
    "svg",
    "wasm",
    "txt",
    "webmanifest",
];

/// Below this a copy saves less than its headers cost.
const MIN_COMPRESS_BYTES: usize = 512;

/// Writes `.compressed/<path>.<hash>.br` and `.gz` for every compressible file of `static_dir`
/// that has no copy of its current content yet, and removes copies of content that is no more.
/// Copies no smaller than the file are not kept (the file is then sent as it is).
fn compress_static(static_dir: &Path) -> anyhow::Result<()> {
    let out = static_dir.join(".compressed");
    let mut wanted = std::collections::HashSet::new();
    let mut files = Vec::new();
    walk(static_dir, &mut files)?;
    for file in files {
        let rel = file
            .strip_prefix(static_dir)
            .expect("walk stays inside the folder")
            .to_string_lossy()
            .replace('\\', "/");
        let compressible = rel
            .rsplit_once('.')
            .is_some_and(|(_, ext)| COMPRESSIBLE.contains(&ext));
        if !compressible {
            continue;
        }
        let bytes = fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        if bytes.len() < MIN_COMPRESS_BYTES {
            continue;
        }
        let hash = format!("{:016x}", xxhash_rust::xxh3::xxh3_64(&bytes));
        for suffix in ["br", "gz"] {
            let copy = out.join(format!("{rel}.{hash}.{suffix}"));
            wanted.insert(copy.clone());
            if copy.is_file() {
                continue;
            }
            let packed = match suffix {
                "br" => brotli_of(&bytes)?,
                _ => gzip_of(&bytes)?,
            };
            if packed.len() >= bytes.len() {
                continue;
            }
            if let Some(parent) = copy.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create {}", parent.display()))?;
            }
            // Whole or not at all: a server may read it while this runs.
            let partial = copy.with_extension(format!("{suffix}.partial"));
            fs::write(&partial, &packed)
                .and_then(|()| fs::rename(&partial, &copy))
                .with_context(|| format!("cannot write {}", copy.display()))?;
        }
    }
    let mut copies = Vec::new();
    if out.is_dir() {
        walk(&out, &mut copies)?;
    }
    for stale in copies.iter().filter(|c| !wanted.contains(*c)) {
        fs::remove_file(stale).with_context(|| format!("cannot remove {}", stale.display()))?;
    }
    Ok(())
}

/// Every file under `dir`, hidden ones (and so `.compressed/` itself) left out.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

fn brotli_of(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut packed = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut packed, &params).context("brotli")?;
    Ok(packed)
}

fn gzip_of(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).context("gzip")?;
    encoder.finish().context("gzip")
}

/// The workspace files the rules' module was compiled from: its dep-info's sources (shared/'s
/// modules as web/validate uses them, not the whole crate tree) and their packages' manifests.
fn rust_inputs(root: &Path, dep_info: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let text = fs::read_to_string(dep_info)
        .with_context(|| format!("cannot read {}", dep_info.display()))?;
    let target = root.join("target");
    let mut inputs = Vec::new();
    for source in dep_info_sources(&text) {
        // Canonical: a dep-info path may step through `..` (an `include_str!` of docs/).
        let source = root.join(source);
        let source = source.canonicalize().unwrap_or(source);
        // Registry crates do not change; generated files live in a target directory.
        if !source.starts_with(root) || source.starts_with(&target) {
            continue;
        }
        let manifest = source
            .ancestors()
            .skip(1)
            .take_while(|dir| dir.starts_with(root))
            .map(|dir| dir.join("Cargo.toml"))
            .find(|manifest| manifest.is_file());
        inputs.extend(manifest);
        inputs.push(source);
    }
    if inputs.is_empty() {
        bail!("{} names no source of the workspace", dep_info.display());
    }
    Ok(inputs)
}

/// The prerequisites of every rule of a Makefile-style dep-info file, as cargo writes it (a
/// space inside a path escaped as `\ `).
fn dep_info_sources(text: &str) -> Vec<PathBuf> {
    let mut sources = Vec::new();
    for line in text.lines() {
        let Some((_, prerequisites)) = line.split_once(": ") else {
            continue;
        };
        let mut path = String::new();
        let mut chars = prerequisites.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => path.extend(chars.next()),
                ' ' => {
                    if !path.is_empty() {
                        sources.push(PathBuf::from(mem::take(&mut path)));
                    }
                }
                _ => path.push(c),
            }
        }
        if !path.is_empty() {
            sources.push(PathBuf::from(path));
        }
    }
    sources
}

/// Runs a tool to its end; its output goes to stderr, since a build script's stdout is read by
/// cargo as instructions.
fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let status = command
        .stdin(Stdio::null())
        .stdout(io::stderr())
        .status()
        .with_context(|| format!("{what}: cannot start"))?;
    if !status.success() {
        bail!("{what}: {status}");
    }
    Ok(())
}
