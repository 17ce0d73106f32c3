//! Group commit: writers that commit together share one fsync, and each is still answered only
//! after its own commit is on disk.
//!
//! Every connection to a file of this process commits in WAL with `synchronous=NORMAL` (SQLite
//! appends the transaction's frames to the `-wal` file but does not sync it) and then waits in
//! [`GroupSync::wait_durable`] until one `fdatasync` of that file has covered its commit. A
//! waiter that finds no sync running starts one for every commit made so far; the ones that
//! commit meanwhile wait for it, and the next one starts the next sync for all of them. So N
//! requests that commit within one fsync's time pay one fsync between them, not N.
//!
//! The writers of the process also take turns here ([`GroupSync::take_turn`]), one write
//! transaction at a time as SQLite allows, handed on without the sleeps of SQLite's busy handler.
//!
//! Why this and not one shared writer connection with a savepoint per request: each request
//! keeps its own transaction on its own connection (a failing request rolls back itself alone,
//! by construction), SQLite's own lock still orders the writers, and no handler changes.
//!
//! Why an fsync of the WAL is enough: frames of a commit are written (not mapped) into the
//! `-wal` file before the commit returns, so syncing the file after that makes them durable; a
//! checkpoint under `synchronous=NORMAL` syncs the WAL before copying it and the database after,
//! so what a restarted WAL overwrites is on disk already.
//!
//! Checkpoints are the group's too: one thread per file copies the WAL into the database
//! ([`CHECKPOINT_EVERY`]), so that no request pays for it (the connections' own automatic
//! checkpoint is off). A passive checkpoint never catches up with a WAL that readers always
//! hold (each request reads), and such a WAL grows without end (measured: 1.1 GB after a minute
//! of reports, every new page zeroed by the kernel); past [`RESTART_FRAMES`] the thread waits
//! for the readers of the moment and starts the WAL again from its beginning.

use std::collections::HashMap;
use std::fs::File;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::StoreError;

/// How often the checkpointer copies what was committed since into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// WAL frames (of a page each: 16 MiB at 4 KiB pages) past which the checkpointer restarts it.
const RESTART_FRAMES: i64 = 4096;
/// How long a restart waits for the readers of the moment (writers wait meanwhile).
const RESTART_WAIT: Duration = Duration::from_secs(5);
/// How long a sync waits for the write transactions in progress or waiting, to cover their
/// commits too (PostgreSQL's `commit_delay`): a few transactions' time, so that on a fast disk
/// too a sync covers several reports; nothing when no other writer is there.
const COMMIT_DELAY: Duration = Duration::from_millis(2);

/// Makes a WAL file's written frames durable (an `fdatasync`; a test's own in unit tests).
type SyncFile = Box<dyn Fn(&Path) -> Result<(), StoreError> + Send + Sync>;

/// The shared sync of one database file: every connection of the process to it has the same.
pub struct GroupSync {
    wal: PathBuf,
    sync_file: SyncFile,
    /// Commits made so far, counted as each one returns.
    commits: AtomicU64,
    /// Fsyncs of the WAL done so far.
    syncs: AtomicU64,
    /// Checkpoints done so far (each syncs the WAL and the database once more).
    checkpoints: AtomicU64,
    /// A thread checkpoints this file, so its connections need not.
    checkpointed: bool,
    state: Mutex<SyncState>,
    synced: Condvar,
    writers: Mutex<Writers>,
    turn_free: Condvar,
}

/// The process's write transactions on the file (see [`GroupSync::take_turn`]).
#[derive(Debug, Default)]
struct Writers {
    /// One connection is inside a write transaction.
    writing: bool,
    /// Connections inside one or waiting for their turn.
    pending: usize,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Every commit up to this number is on disk.
    durable: u64,
    /// A sync is running (its starter does it without the lock).
    running: bool,
}

/// What a file's writers have done since the process started: the ratio is what group commit
/// saves (one sync per commit without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurabilityCount {
    pub file: PathBuf,
    pub commits: u64,
    pub syncs: u64,
    pub checkpoints: u64,
}

/// The files open in this process, each with its one [`GroupSync`]: it lives as long as a
/// connection to the file holds it.
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<GroupSync>>> {
    static FILES: OnceLock<Mutex<HashMap<PathBuf, Weak<GroupSync>>>> = OnceLock::new();
    FILES.get_or_init(Mutex::default)
}

impl GroupSync {
    /// The one of `database` (a path SQLite opened, so it exists).
    pub fn of(database: &Path) -> Arc<GroupSync> {
        let file = database
            .canonicalize()
            .unwrap_or_else(|_| database.to_owned());
        let mut files = registry().lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(group) = files.get(&file).and_then(Weak::upgrade) {
            return group;
        }
        let mut wal = file.clone().into_os_string();
        wal.push("-wal");
        let group = Arc::new_cyclic(|me: &Weak<GroupSync>| {
            let checkpointed = spawn_checkpointer(file.clone(), me.clone());
            let mut group = GroupSync::new(PathBuf::from(wal), Box::new(sync_wal_file));
            group.checkpointed = checkpointed;
            group
        });
        files.retain(|_, group| group.strong_count() > 0);
        files.insert(file, Arc::downgrade(&group));
        group
    }

    fn new(wal: PathBuf, sync_file: SyncFile) -> GroupSync {
        GroupSync {
            wal,
            sync_file,
            commits: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            checkpoints: AtomicU64::new(0),
            checkpointed: false,
            state: Mutex::default(),
            synced: Condvar::new(),
            writers: Mutex::default(),
            turn_free: Condvar::new(),
        }
    }

    /// Waits until no other connection of this process is in a write transaction on the file.
    /// SQLite lets one writer in at a time anyway; the others would poll its lock with sleeps
    /// of up to 100 ms (its busy handler), and the turn hands it on at once instead.
    pub fn take_turn(&self) {
        let mut writers = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
        writers.pending += 1;
        while writers.writing {
            writers = self
                .turn_free
                .wait(writers)
                .unwrap_or_else(PoisonError::into_inner);
        }
        writers.writing = true;
    }

    /// Ends the caller's turn (it committed or rolled back).
    pub fn give_turn(&self) {
        let mut writers = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
        writers.writing = false;
        writers.pending = writers.pending.saturating_sub(1);
        drop(writers);
        // All: a sync about to start waits here too (see `gather`).
        self.turn_free.notify_all();
    }

    /// Before a sync: while other writers of the process are in or before their transaction,
    /// waits for them, at most [`COMMIT_DELAY`], so that the sync covers their commits too.
    /// A lone writer waits for nothing.
    fn gather(&self) {
        let mut writers = self.writers.lock().unwrap_or_else(PoisonError::into_inner);
        let until = Instant::now() + COMMIT_DELAY;
        while writers.pending > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            writers = self
                .turn_free
                .wait_timeout(writers, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Whether a thread checkpoints the file (then its connections turn their own off).
    pub fn checkpointed(&self) -> bool {
        self.checkpointed
    }

    /// Returns once the commit that has just returned on the caller's connection is on disk.
    pub fn wait_durable(&self) -> Result<(), StoreError> {
        let mine = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if state.durable >= mine {
                return Ok(());
            }
            if state.running {
                state = self
                    .synced
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.running = true;
            drop(state);
            self.gather();
            // Every commit counted by now has written its frames: one sync covers them all.
            let covered = self.commits.load(Ordering::SeqCst);
            let outcome = self.sync_wal();
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.running = false;
            self.synced.notify_all();
            match outcome {
                Ok(()) => state.durable = state.durable.max(covered),
                // The others retry with their own sync; this caller's answer is a failure.
                Err(e) => return Err(e),
            }
        }
    }

    fn sync_wal(&self) -> Result<(), StoreError> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        (self.sync_file)(&self.wal)
    }

    fn count(&self) -> (u64, u64) {
        (
            self.commits.load(Ordering::Relaxed),
            self.syncs.load(Ordering::Relaxed),
        )
    }
}

/// Starts the file's checkpointer; false if no thread could be had (the connections then
/// checkpoint themselves, as SQLite does by default). It ends once the file's group is gone.
fn spawn_checkpointer(database: PathBuf, group: Weak<GroupSync>) -> bool {
    let started = thread::Builder::new()
        .name("checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&database) {
                Ok(conn) => conn,
                Err(e) => {
                    return tracing::error!(error = %e, "the checkpointer cannot open its database");
                }
            };
            if let Err(e) = conn.busy_timeout(RESTART_WAIT) {
                tracing::warn!(error = %e, "checkpointer: no busy timeout");
            }
            let mut seen = 0;
            loop {
                thread::sleep(CHECKPOINT_EVERY);
                let Some(group) = group.upgrade() else { return };
                let commits = group.commits.load(Ordering::Relaxed);
                if commits == seen {
                    continue;
                }
                seen = commits;
                match checkpoint(&conn) {
                    Ok(()) => drop(group.checkpoints.fetch_add(1, Ordering::Relaxed)),
                    Err(e) => tracing::warn!(error = %e, "checkpoint failed; tried again later"),
                }
            }
        });
    started.is_ok()
}

/// A passive checkpoint, and a restart of the WAL when readers kept it from catching up.
fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    // (busy, frames in the WAL, frames copied into the database)
    let passive: (i64, i64, i64) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    if passive.1 >= RESTART_FRAMES {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// Opened anew each time, so that it is the WAL file SQLite writes now.
fn sync_wal_file(wal: &Path) -> Result<(), StoreError> {
    match File::open(wal) {
        Ok(file) => file
            .sync_data()
            .map_err(|e| StoreError(format!("syncing {}: {e}", wal.display()))),
        // No WAL: its last connection closed, which checkpointed it into the synced file.
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError(format!("opening {}: {e}", wal.display()))),
    }
}

/// Commits and syncs of every file opened in this process, by file name.
pub fn durability_counts() -> Vec<DurabilityCount> {
    let files = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let mut counts: Vec<DurabilityCount> = files
        .iter()
        .filter_map(|(file, group)| {
            let group = group.upgrade()?;
            let (commits, syncs) = group.count();
            Some(DurabilityCount {
                file: file.clone(),
                commits,
                syncs,
                checkpoints: group.checkpoints.load(Ordering::Relaxed),
            })
        })
        .collect();
    counts.sort_by(|a, b| a.file.cmp(&b.file));
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group whose first sync holds until `writers` commits wait, as if the disk were slow.
    fn slow_first_sync(writers: u64) -> Arc<GroupSync> {
        let me: Arc<OnceLock<Weak<GroupSync>>> = Arc::default();
        let seen = me.clone();
        let first = AtomicU64::new(0);
        let group = Arc::new(GroupSync::new(
            PathBuf::from("unused-wal"),
            Box::new(move |_| {
                if first.fetch_add(1, Ordering::SeqCst) == 0 {
                    let group = seen.get().and_then(Weak::upgrade).expect("the group");
                    let started = Instant::now();
                    while group.commits.load(Ordering::SeqCst) < writers {
                        assert!(
                            started.elapsed() < Duration::from_secs(10),
                            "writers missing"
                        );
                        thread::sleep(Duration::from_millis(1));
                    }
                }
                Ok(())
            }),
        ));
        me.set(Arc::downgrade(&group)).expect("set once");
        group
    }

    #[test]
    fn commits_made_during_a_sync_share_the_next_one() {
        let group = slow_first_sync(8);
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let group = group.clone();
                thread::spawn(move || group.wait_durable())
            })
            .collect();
        for writer in writers {
            writer.join().expect("a writer").expect("durable");
        }
        // The first sync covered the commit that started it (and any counted before it); the
        // ones that came during it were all covered by one more.
        let (commits, syncs) = group.count();
        assert_eq!(commits, 8);
        assert!(syncs <= 2, "{syncs} syncs for 8 commits");
        assert_eq!(group.state.lock().unwrap().durable, 8);
    }

    #[test]
    fn a_failed_sync_fails_its_caller_and_the_next_caller_syncs_again() {
        let failures = Arc::new(AtomicU64::new(1));
        let left = failures.clone();
        let group = GroupSync::new(
            PathBuf::from("unused-wal"),
            Box::new(move |_| match left.fetch_sub(1, Ordering::SeqCst) {
                1 => Err(StoreError("disk full".into())),
                _ => Ok(()),
            }),
        );
        assert_eq!(group.wait_durable(), Err(StoreError("disk full".into())));
        assert_eq!(group.wait_durable(), Ok(()));
        assert_eq!(group.count(), (2, 2));
        assert_eq!(failures.load(Ordering::SeqCst), u64::MAX);
    }
}
