//! The shape of the house, checked by reading the source tree: the layers of `lib.rs` (a module
//! only names modules below it, and no group of modules inside a context imports each other in a
//! loop), and one writer per table (every SQL statement that writes a table lives in the module
//! that owns it). Test code is left out: tests may set up any table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Bottom to top, as `lib.rs` draws them. A module may name only modules before it.
const LAYERS: &[&str] = &[
    "ports",
    "time",
    "crypto",
    "mask",
    "http",
    "db",
    "grid",
    "directory",
    "assets",
    "case",
    "access",
    "registry",
    "exchange",
    "indicators",
    "warning",
    "app",
    "demo",
    "demo_registry",
    "api",
    // The ports on rusqlite, for the native host, the tests and the benches: an adapter, which
    // no layer names (`native`'s own test holds that).
    "native",
];

/// Which module writes which tables. A table missing here is written by nobody but its owner
/// either, so a new table must be added.
const WRITERS: &[(&str, &[&str])] = &[
    ("db.rs", &["schema_version"]),
    // The key-value store of the native host, as Spin keeps it locally: a SQLite table.
    ("native/sqlite.rs", &["spin_key_value"]),
    ("grid/mod.rs", &["map_versions", "grids", "grid_tiles"]),
    ("grid/workers.rs", &["grid_workers"]),
    ("grid/upload.rs", &["grid_upload_parts"]),
    ("directory/mod.rs", &["departments", "categories"]),
    (
        "directory/routing.rs",
        &["routing_versions", "routing_rules"],
    ),
    ("assets/mod.rs", &["assets", "asset_cells"]),
    (
        "case/store.rs",
        &["cases", "case_events", "case_departments", "reviews"],
    ),
    ("case/evidence.rs", &["evidence"]),
    ("case/mediation.rs", &["mediation"]),
    ("access/accounts.rs", &["accounts", "sign_in_locks"]),
    ("access/sessions.rs", &["session_revocations"]),
    ("access/keys.rs", &["api_keys"]),
    ("access/limits.rs", &["rate_limits"]),
    (
        "registry/mod.rs",
        &[
            "registry_tags",
            "registry_addresses",
            "registry_households",
            "registry_people",
            "registry_reads",
        ],
    ),
    ("registry/visits.rs", &["visits", "cell_list_items"]),
    ("exchange/outbox.rs", &["outbox", "delivery_attempts"]),
    ("exchange/inbox.rs", &["webhook_receipts"]),
    ("exchange/platforms.rs", &["platforms", "platform_links"]),
    (
        "exchange/open311.rs",
        &["open311_requests", "service_definitions"],
    ),
    (
        "indicators/mod.rs",
        &["indicator_rollups", "indicator_cases", "indicator_days"],
    ),
    (
        "warning/mod.rs",
        &[
            "warning_counts",
            "warning_returns",
            "alerts",
            "alert_cases",
            "alert_events",
        ],
    ),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every non-test source file, by its path under `src/`, with its test modules cut off.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
                continue;
            }
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let stem = rel.rsplit('/').next().unwrap().trim_end_matches(".rs");
            if !rel.ends_with(".rs")
                || stem == "tests"
                || stem.ends_with("_tests")
                || stem == "testkit"
                || stem == "testenv"
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("\n#[cfg(test)]").next().unwrap().to_owned();
            out.insert(rel, code);
        }
    }
    let mut out = BTreeMap::new();
    walk(&src(), &src(), &mut out);
    out
}

/// Lines without their `//` comments.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(|l| l.split("//").next().unwrap_or(""))
}

/// The `crate::a::b` paths a file names (also inside `use crate::{a, b::c}`), as segment lists.
fn crate_paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let code: String = code_lines(text).collect::<Vec<_>>().join("\n");
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            for part in group[..end].split(',') {
                let segs: Vec<String> = part
                    .trim()
                    .split("::")
                    .map(|s| {
                        s.trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
                            .to_owned()
                    })
                    .take_while(|s| {
                        !s.is_empty() && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    })
                    .collect();
                if !segs.is_empty() {
                    out.push(segs);
                }
            }
            continue;
        }
        let segs: Vec<String> = rest
            .split("::")
            .map(|s| {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|s| {
                !s.is_empty() && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            })
            .collect();
        if !segs.is_empty() {
            out.push(segs);
        }
    }
    out
}

fn top_of(rel: &str) -> &str {
    rel.split('/').next().unwrap().trim_end_matches(".rs")
}

#[test]
fn every_module_names_only_the_layers_below_it() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (rel, text) in sources() {
        let top = top_of(&rel);
        if rel == "lib.rs" || rel == "architecture_tests.rs" {
            continue;
        }
        let mine = rank(top).unwrap_or_else(|| panic!("{top} is not in LAYERS"));
        for path in crate_paths(&text) {
            let Some(theirs) = rank(&path[0]) else {
                continue;
            };
            if theirs > mine {
                wrong.push(format!("{rel} names crate::{}", path.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows pointing up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_two_modules_of_a_context_import_each_other() {
    // Edges between the submodules of each context (crate::ctx::a → crate::ctx::b).
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in sources() {
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.len() < 2 {
            continue;
        }
        let me = format!("{}::{}", parts[0], parts[1].trim_end_matches(".rs"));
        let mine = edges.entry(me.clone()).or_default();
        for path in crate_paths(&text) {
            if path.len() >= 2 && path[0] == parts[0] {
                let other = format!("{}::{}", path[0], path[1]);
                if other != me && !path[1].is_empty() {
                    mine.insert(other);
                }
            }
        }
        // `super::x` from a submodule names a sibling.
        for line in code_lines(&text) {
            for (i, _) in line.match_indices("super::") {
                let name: String = line[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty()
                    && name.chars().next().unwrap().is_ascii_lowercase()
                    && parts[1] != "mod.rs"
                {
                    let other = format!("{}::{name}", parts[0]);
                    if other != me {
                        mine.insert(other);
                    }
                }
            }
        }
    }
    // A module named as `ctx::x` that is a file `ctx/x.rs`; `ctx::mod` is the context's root,
    // which declares the others and may re-export them.
    for (from, tos) in edges.clone() {
        for to in tos {
            if to.ends_with("::mod") || from.ends_with("::mod") {
                continue;
            }
            // Is there a path back from `to` to `from`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![to.clone()];
            while let Some(n) = stack.pop() {
                if n == from {
                    panic!("{from} and {to} import each other (through {seen:?})");
                }
                if seen.insert(n.clone()) {
                    stack.extend(
                        edges
                            .get(&n)
                            .into_iter()
                            .flatten()
                            .filter(|m| !m.ends_with("::mod"))
                            .cloned(),
                    );
                }
            }
        }
    }
}

/// The string literals of a source file (SQL lives in them), joined by newlines.
fn string_literals(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match (in_string, c) {
            (false, '/') if chars.peek() == Some(&'/') => {
                // A comment runs to the end of its line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            (false, '\'') => {
                // A char literal such as '"' (or a lifetime, which holds no quote).
                let ahead: String = chars.clone().take(3).collect();
                if ahead.starts_with("\"'") || ahead.starts_with("\\\"") {
                    chars.nth(if ahead.starts_with('\\') { 2 } else { 1 });
                }
            }
            (false, '"') => in_string = true,
            (true, '\\') => {
                chars.next();
            }
            (true, '"') => {
                in_string = false;
                out.push('\n');
            }
            (true, c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// `INSERT INTO t`, `INSERT OR … INTO t`, `REPLACE INTO t`, `UPDATE t`, `DELETE FROM t`, in the
/// string literals of a source file.
fn written_tables(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let sql = string_literals(text);
    let words: Vec<&str> = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let next = |k: usize| words.get(i + k).copied().unwrap_or("");
        let table = match *w {
            "INSERT" if next(1) == "INTO" => next(2),
            "INSERT" if next(1) == "OR" && next(3) == "INTO" => next(4),
            "REPLACE" if next(1) == "INTO" => next(2),
            "UPDATE" if next(1) != "SET" => next(1),
            "DELETE" if next(1) == "FROM" => next(2),
            _ => continue,
        };
        if !table.is_empty()
            && table
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            out.push(table.to_owned());
        }
    }
    out
}

#[test]
fn every_table_has_one_writer() {
    let owner: BTreeMap<&str, &str> = WRITERS
        .iter()
        .flat_map(|(file, tables)| tables.iter().map(move |t| (*t, *file)))
        .collect();
    let mut wrong = Vec::new();
    for (rel, text) in sources() {
        for table in written_tables(&text) {
            match owner.get(table.as_str()) {
                Some(file) if *file == rel => {}
                Some(file) => wrong.push(format!("{rel} writes {table}, which {file} owns")),
                None => wrong.push(format!(
                    "{rel} writes {table}, which has no owner in WRITERS"
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(
        written_tables(
            "\"UPDATE cases SET x = 1\"; // \"UPDATE nothing\"\n(\"INSERT OR IGNORE INTO open311_requests (a)\", '\"', \"DELETE FROM grids\")"
        ),
        ["cases", "open311_requests", "grids"]
    );
    let paths = crate_paths(
        "use crate::{case::store::{self, Actor}, grid, Problem};\nlet x = crate::time::rfc3339(0); // crate::api",
    );
    assert_eq!(
        paths,
        [
            vec!["case", "store", "self"],
            vec!["grid"],
            vec!["time", "rfc3339"]
        ]
    );
}
