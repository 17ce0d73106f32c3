//! Which runtime a test's own deployment runs on, chosen by `ONEGRID_RUNTIME`:
//! - `native` (the default): the native host, `onegrid`, which seeds the demo city itself;
//! - `spin`: the real `spin up` (`ONEGRID_SPIN`, default `target/tools/bin/spin`) on the
//!   components `spin build` made, its key-value store and SQLite database in the test's own
//!   state directory;
//! - `spin-redis`: the same, with the key-value store on a Redis server of the test's own
//!   (`redis-server` on the PATH), as a deployment with more than one instance has it;
//! - `spin-libsql`: `spin`, with the SQLite database on libSQL (`type = "libsql"`): the
//!   Hrana-over-HTTP server of `tests/hrana/server.py` (python3) of the test's own, on the
//!   file `libsql.db` in its state directory.
//!
//! On Spin the demo city is seeded through the API (`POST /api/admin/demo`), which takes tens
//! of seconds in Wasm. So it is seeded once into a template (per runtime, per build of the
//! components, shared by every test binary under a file lock) and each test starts on a copy:
//! the SQLite files (on libSQL, the server's file) and, on Redis, the store's snapshot. Tokens are Spin variables, not data,
//! so every test still has its own.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{random_hex, workspace_dir};

/// How long `spin up` may take to print its address (the first start compiles the components).
const SPIN_START_TIMEOUT: Duration = Duration::from_secs(180);
/// How long the demo seeding of a template may take.
const SEED_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Native,
    Spin,
    SpinRedis,
    SpinLibsql,
}

impl Runtime {
    /// The runtime `ONEGRID_RUNTIME` names; an unknown name is the caller's mistake, said loudly.
    pub fn from_env() -> Runtime {
        match std::env::var("ONEGRID_RUNTIME")
            .unwrap_or_default()
            .as_str()
        {
            "" | "native" => Runtime::Native,
            "spin" => Runtime::Spin,
            "spin-redis" => Runtime::SpinRedis,
            "spin-libsql" => Runtime::SpinLibsql,
            other => panic!(
                "ONEGRID_RUNTIME={other:?}: expected native, spin, spin-redis or spin-libsql"
            ),
        }
    }

    pub fn is_spin(self) -> bool {
        self != Runtime::Native
    }

    fn name(self) -> &'static str {
        match self {
            Runtime::Native => "native",
            Runtime::Spin => "spin",
            Runtime::SpinRedis => "spin-redis",
            Runtime::SpinLibsql => "spin-libsql",
        }
    }

    /// The file of the state directory that holds the database once the state was prepared.
    fn database_file(self) -> &'static str {
        match self {
            Runtime::SpinLibsql => LIBSQL_FILE,
            _ => "sqlite_db.db",
        }
    }
}

/// What a second instance of a deployment shares with the first: its Redis, its libSQL server.
#[derive(Clone, Debug, Default)]
pub(crate) struct Shared {
    pub redis_url: Option<String>,
    pub libsql: Option<LibsqlAt>,
}

/// Where a libSQL server answers, and its token.
#[derive(Clone, Debug)]
pub(crate) struct LibsqlAt {
    pub url: String,
    pub token: String,
}

/// The processes of one Spin deployment: `spin up`, and its Redis or libSQL server if it has one.
pub(crate) struct SpinProcesses {
    pub spin: Child,
    pub redis: Option<Redis>,
    pub hrana: Option<Hrana>,
    pub base_url: String,
}

/// The Hrana-over-HTTP server (libSQL's protocol) of one test, on `libsql.db` in its state.
pub(crate) struct Hrana {
    child: Child,
    pub at: LibsqlAt,
}

const LIBSQL_FILE: &str = "libsql.db";

impl Hrana {
    /// Starts `tests/hrana/server.py` on `dir/libsql.db` on a free port it picks itself.
    fn start(dir: &Path) -> Hrana {
        let token = random_hex(24);
        let log = File::create(dir.join("hrana.log")).expect("creating the Hrana log");
        let mut child = Command::new("python3")
            .arg(workspace_dir().join("tests/hrana/server.py"))
            .arg("--db")
            .arg(dir.join(LIBSQL_FILE))
            .args(["--token", &token, "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting tests/hrana/server.py (python3): {e}"));
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout is piped");
        let _ = BufReader::new(stdout).read_line(&mut line);
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the Hrana server did not start; its log:\n{}",
                fs::read_to_string(dir.join("hrana.log")).unwrap_or_default()
            );
        };
        let at = LibsqlAt {
            url: url.to_owned(),
            token,
        };
        Hrana { child, at }
    }

    /// Stops it at once: SQLite's file and WAL stay consistent whenever it stops.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Redis server of one test, on a free port, its snapshot in the test's state directory.
pub(crate) struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Starts `redis-server` in `dir`, loading `dir/dump.rdb` if it is there.
    fn start(dir: &Path) -> Redis {
        let port = free_port();
        let log = File::create(dir.join("redis.log")).expect("creating the Redis log");
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(dir)
            // Snapshots only when the test asks (a clean stop, a template): fast, and the
            // store survives a test's restart of `spin up` because Redis itself keeps running.
            .args([
                "--dbfilename",
                "dump.rdb",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("the log again")))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting redis-server (Debian: apt-get install redis-server): {e}")
            });
        let redis = Redis { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while redis.command("PING").as_deref() != Some("+PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} did not answer PING; its log:\n{}",
                fs::read_to_string(dir.join("redis.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// One inline command; the first line of the answer, if any came.
    fn command(&self, command: &str) -> Option<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
        stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).ok()?;
        Some(line.trim_end().to_owned())
    }

    /// Writes the snapshot and stops (the next start in the same directory has every key).
    pub fn stop_saving(mut self) {
        let _ = self.command("SHUTDOWN SAVE");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SIGKILL to the process group `child` leads (see [`start_spin`]), then waits for `child`.
pub(crate) fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// A free TCP port on loopback (the server that binds it a moment later may race another
/// test's, which then fails to start and says so).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The Spin CLI: `ONEGRID_SPIN`, or `<target>/tools/bin/spin`, where install-spin puts it.
fn spin_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("ONEGRID_SPIN").filter(|s| !s.is_empty()) {
        return PathBuf::from(bin);
    }
    crate::target_dir().join("tools/bin/spin")
}

/// The components `spin.toml` runs, as `spin build` leaves them.
fn component_files() -> Vec<PathBuf> {
    let root = workspace_dir();
    let manifest = fs::read_to_string(root.join("spin.toml")).expect("reading spin.toml");
    manifest
        .lines()
        .filter_map(|line| line.strip_prefix("source = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(|source| root.join(source))
        .collect()
}

/// What the template depends on: spin.toml and every component (size and modification time).
fn build_fingerprint() -> String {
    let root = workspace_dir();
    let mut hasher = DefaultHasher::new();
    fs::read(root.join("spin.toml"))
        .expect("reading spin.toml")
        .hash(&mut hasher);
    for file in component_files() {
        let meta = fs::metadata(&file).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `spin build` first (ONEGRID_RUNTIME asks for Spin)",
                file.display()
            )
        });
        file.hash(&mut hasher);
        meta.len().hash(&mut hasher);
        meta.modified().ok().hash(&mut hasher);
    }
    format!("{:016x}", hasher.finish())
}

/// Starts `spin up` on `state_dir` with these Spin variables (`SPIN_VARIABLE_*` pairs are
/// passed as they are), its stdout and stderr (the components' logs too) into `log`.
/// `shared` names the Redis or libSQL server another instance of this state already runs (see
/// `TestApp::second_instance`); without it `spin-redis` and `spin-libsql` start their own.
pub(crate) fn start_spin(
    runtime: Runtime,
    state_dir: &Path,
    log_path: &Path,
    env: &[(&str, &str)],
    shared: &Shared,
) -> SpinProcesses {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("opening the log");
    let redis = (runtime == Runtime::SpinRedis && shared.redis_url.is_none())
        .then(|| Redis::start(state_dir));
    let redis_url = shared
        .redis_url
        .clone()
        .or_else(|| redis.as_ref().map(Redis::url));
    let hrana = (runtime == Runtime::SpinLibsql && shared.libsql.is_none())
        .then(|| Hrana::start(state_dir));
    let libsql = shared
        .libsql
        .clone()
        .or_else(|| hrana.as_ref().map(|h| h.at.clone()));
    let mut command = Command::new(spin_binary());
    // `spin up` runs the app in a child process (`spin trigger http`): a group of their own, so
    // that a kill ([`kill_group`]) ends both, as a crash of the machine would.
    command.process_group(0);
    command
        .arg("up")
        .arg("--from")
        .arg(workspace_dir().join("spin.toml"))
        .args(["--listen", "127.0.0.1:0"])
        // The components' output goes to spin's own (the log) and to `logs/` in the state.
        .arg("--state-dir")
        .arg(state_dir);
    let mut config = String::new();
    if let Some(url) = &redis_url {
        config += &format!("[key_value_store.default]\ntype = \"redis\"\nurl = \"{url}\"\n");
    }
    if let Some(LibsqlAt { url, token }) = &libsql {
        config += &format!(
            "[sqlite_database.default]\ntype = \"libsql\"\nurl = \"{url}\"\ntoken = \"{token}\"\n"
        );
    }
    if !config.is_empty() {
        let path = state_dir.join("runtime-config.toml");
        fs::write(&path, config).expect("writing the runtime config");
        command.arg("--runtime-config-file").arg(path);
    }
    let mut stdout_log = log.try_clone().expect("the log again");
    let mut spin = command
        .current_dir(workspace_dir())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "starting {} (run ../shared/tools/install-spin, or set ONEGRID_SPIN): {e}",
                spin_binary().display()
            )
        });
    let stdout = spin.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = writeln!(stdout_log, "{line}");
            if !sent && let Some(url) = line.trim().strip_prefix("Serving ") {
                sent = tx.send(url.trim().to_owned()).is_ok();
            }
        }
    });
    match rx.recv_timeout(SPIN_START_TIMEOUT) {
        Ok(url) => SpinProcesses {
            spin,
            redis,
            hrana,
            base_url: url.trim_end_matches('/').to_owned(),
        },
        Err(_) => {
            kill_group(&mut spin);
            if let Some(redis) = redis {
                redis.stop_saving();
            }
            if let Some(hrana) = hrana {
                hrana.stop();
            }
            panic!(
                "spin up did not print its address within {SPIN_START_TIMEOUT:?}; its log:\n{}",
                fs::read_to_string(log_path).unwrap_or_default()
            );
        }
    }
}

/// The files of a state directory that a copy takes: the database (with its WAL, which holds
/// what was not yet checkpointed), the libSQL server's file of `spin-libsql` (with its WAL),
/// the key-value store of `spin`, the Redis snapshot of `spin-redis`, and the demo staff's
/// passwords.
const STATE_FILES: &[&str] = &[
    "sqlite_db.db",
    "sqlite_db.db-wal",
    LIBSQL_FILE,
    "libsql.db-wal",
    "sqlite_key_value.db",
    "sqlite_key_value.db-wal",
    "dump.rdb",
    STAFF_FILE,
];
const STAFF_FILE: &str = "staff.json";

/// Gives `state_dir` the seeded demo city, unless it holds a database already (a restart).
pub(crate) fn prepare_state(runtime: Runtime, state_dir: &Path) {
    if state_dir.join(runtime.database_file()).exists() {
        return;
    }
    let template = template(runtime);
    for name in STATE_FILES {
        let from = template.join(name);
        if from.exists() {
            fs::copy(&from, state_dir.join(name)).expect("copying the template");
        }
    }
}

/// The demo staff's passwords in a state directory that was prepared from the template.
pub(crate) fn staff_passwords(state_dir: &Path) -> Value {
    fs::read(state_dir.join(STAFF_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

/// The seeded template of this runtime and build, made on first use.
fn template(runtime: Runtime) -> PathBuf {
    let parent = crate::target_dir().join("spin-test-template");
    fs::create_dir_all(&parent).expect("creating the template directory");
    let dir = parent.join(format!("{}-{}", runtime.name(), build_fingerprint()));
    // One maker at a time, across test binaries; the others wait and then find it made.
    let lock = File::create(parent.join(".lock")).expect("creating the template lock");
    lock.lock().expect("locking the template");
    if !dir.join("ready").exists() {
        let started = Instant::now();
        let making = parent.join(format!("making-{}", random_hex(6)));
        fs::create_dir_all(&making).expect("creating the template state");
        let seeded = std::panic::catch_unwind(|| seed(runtime, &making));
        if let Err(panic) = seeded {
            let _ = fs::remove_dir_all(&making);
            std::panic::resume_unwind(panic);
        }
        let _ = fs::remove_dir_all(&dir);
        fs::rename(&making, &dir).expect("keeping the template");
        File::create(dir.join("ready")).expect("marking the template ready");
        eprintln!(
            "made the {} template in {:.0?} ({})",
            runtime.name(),
            started.elapsed(),
            dir.display()
        );
    }
    dir
}

/// Seeds the demo city into `state_dir` through `POST /api/admin/demo`, as README's Spin
/// section does, keeping the staff passwords it shows once.
fn seed(runtime: Runtime, state_dir: &Path) {
    let admin = format!("admin-{}", random_hex(24));
    let env = [
        (
            "SPIN_VARIABLE_OPERATOR_TOKEN",
            format!("op-{}", random_hex(24)),
        ),
        ("SPIN_VARIABLE_ADMIN_TOKEN", admin.clone()),
        ("SPIN_VARIABLE_SESSION_KEYS", random_hex(32)),
        // Required by spin.toml; the seed writes nothing the registry seals.
        ("SPIN_VARIABLE_REGISTRY_KEY", random_hex(32)),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut processes = start_spin(
        runtime,
        state_dir,
        &state_dir.join("seed.log"),
        &env,
        &Shared::default(),
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(SEED_TIMEOUT))
        .build()
        .into();
    let answer = agent
        .post(format!("{}/api/admin/demo", processes.base_url))
        .header("authorization", format!("Bearer {admin}"))
        .send_empty();
    let seeded = answer.and_then(|mut r| {
        let status = r.status().as_u16();
        Ok((status, r.body_mut().read_to_string()?))
    });
    kill_group(&mut processes.spin);
    if let Some(redis) = processes.redis.take() {
        redis.stop_saving();
    }
    if let Some(hrana) = processes.hrana.take() {
        hrana.stop();
    }
    let (status, text) = seeded.unwrap_or_else(|e| {
        panic!(
            "POST /api/admin/demo failed: {e}; spin's log:\n{}",
            fs::read_to_string(state_dir.join("seed.log")).unwrap_or_default()
        )
    });
    assert_eq!(status, 201, "seeding the demo city: {text}");
    let answer: Value = serde_json::from_str(&text).expect("the seed answer is JSON");
    let passwords: serde_json::Map<String, Value> = answer["staff"]
        .as_array()
        .expect("the seed answer lists the staff")
        .iter()
        .filter_map(|s| Some((s["username"].as_str()?.to_owned(), s["password"].clone())))
        .collect();
    fs::write(
        state_dir.join(STAFF_FILE),
        serde_json::to_vec_pretty(&passwords).expect("JSON"),
    )
    .expect("keeping the staff passwords");
}
