//! The floors of `src/` hold, read from the source itself (README "Architecture"):
//! transports (`http`, `realtime`, `yws`, `jobs`) call services, and only services: they never
//! touch the store (no `crate::store` path, no `.store` field) nor call a rule of `hub_rooms`
//! (they may name its types); services, the store and the bus never import a transport; no
//! transport imports another; there is no import cycle between the hub's modules; the rules
//! and wire-type crates stay free of I/O crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const TRANSPORTS: [&str; 4] = ["http", "realtime", "yws", "jobs"];
const BELOW_TRANSPORTS: [&str; 3] = ["services", "store", "bus"];
/// The wiring at the top (`run`, `main`) may import everything.
const WIRING: [&str; 2] = ["lib", "main"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The top-level modules a piece of code names through `crate::`, comments left out.
fn referenced(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = line.trim_start();
        if line.starts_with("//") {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                // `use crate::{a, b::c}`: the first segment of each item.
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for item in inner.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.insert(name);
                    }
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let module = module_of(&src, &file);
        let code = std::fs::read_to_string(&file).unwrap();
        let entry = graph.entry(module.clone()).or_default();
        for target in referenced(&code) {
            if target != module {
                entry.insert(target);
            }
        }
    }
    graph
}

/// The code of a file without its comment lines.
fn code_of(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The files of the transports, with their code.
fn transport_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter(|f| TRANSPORTS.contains(&module_of(&src, f).as_str()))
        .map(|f| {
            let name = f.strip_prefix(&src).unwrap().display().to_string();
            (name, code_of(&std::fs::read_to_string(&f).unwrap()))
        })
        .collect()
}

/// Where `code` touches the store: a `crate::store` path, or a field named `store` (a method
/// call such as an atomic's `.store(…)` is not one).
fn store_touches(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    if code.contains("crate::store") {
        found.push("crate::store".to_owned());
    }
    let mut rest = code;
    while let Some(at) = rest.find(".store") {
        let after = &rest[at + ".store".len()..];
        let ident_goes_on = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident_goes_on && !after.trim_start().starts_with('(') {
            found.push(".store".to_owned());
        }
        rest = after;
    }
    found
}

/// Every path `code` names under `krate::`, as its segments (a `use` group gives one path per
/// item: `krate::{a::B, c}` is `a::B` and `c`).
fn paths_under(code: &str, krate: &str) -> Vec<Vec<String>> {
    fn ident(s: &str) -> (String, &str) {
        let s = s.trim_start();
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (s[..end].to_owned(), &s[end..])
    }
    /// The paths of one tree at the start of `s`, and what follows it.
    fn tree<'a>(s: &'a str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> &'a str {
        let s = s.trim_start();
        if let Some(mut inner) = s.strip_prefix('{') {
            loop {
                inner = tree(inner, prefix.clone(), out).trim_start();
                if let Some(next) = inner.strip_prefix(',') {
                    if let Some(end) = next.trim_start().strip_prefix('}') {
                        return end;
                    }
                    inner = next;
                } else {
                    return inner.strip_prefix('}').unwrap_or(inner);
                }
            }
        }
        let (name, rest) = ident(s);
        let mut path = prefix;
        if name.is_empty() {
            return rest;
        }
        path.push(name);
        match rest.strip_prefix("::") {
            Some(more) => tree(more, path, out),
            None => {
                out.push(path);
                rest
            }
        }
    }
    let needle = format!("{krate}::");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find(&needle) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + needle.len()..];
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            tree(after, Vec::new(), &mut out);
        }
        rest = after;
    }
    out
}

/// Whether a path names a type, trait or constant (its last segment starts in upper case)
/// rather than a function or a module.
fn names_a_type(path: &[String]) -> bool {
    path.last()
        .and_then(|s| s.chars().next())
        .is_some_and(|c| c.is_ascii_uppercase())
}

#[test]
fn paths_are_read_through_use_groups_and_lines() {
    let code = "use hub_rooms::{RoomName, fields::FieldError};\nuse hub_rooms::events::{\n    Checked,\n    task_accepted,\n};\nlet x = hub_rooms::chat::history_limit(q);\nlet y = my_hub_rooms::z;";
    let found: Vec<String> = paths_under(code, "hub_rooms")
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        found,
        vec![
            "RoomName",
            "fields::FieldError",
            "events::Checked",
            "events::task_accepted",
            "chat::history_limit",
        ]
    );
    assert!(names_a_type(&["fields".into(), "FieldError".into()]));
    assert!(!names_a_type(&["chat".into(), "history_limit".into()]));
}

#[test]
fn store_touches_are_told_from_other_stores() {
    assert_eq!(store_touches("core.store.ping()"), vec![".store"]);
    assert_eq!(
        store_touches("let s = core\n    .store\n    .x()"),
        vec![".store"]
    );
    assert_eq!(
        store_touches("use crate::store::Store;"),
        vec!["crate::store"]
    );
    assert!(
        store_touches("flag.store(true, Ordering::Release); x.stored; self.store_event()")
            .is_empty()
    );
}

#[test]
fn transports_reach_the_store_only_through_services() {
    let mut touching = Vec::new();
    for (file, code) in transport_files() {
        for touch in store_touches(&code) {
            touching.push(format!("{file}: {touch}"));
        }
    }
    assert!(
        touching.is_empty(),
        "transports touch the store (call a service instead): {touching:?}"
    );
}

#[test]
fn transports_call_no_rule_directly() {
    let mut calls = Vec::new();
    for (file, code) in transport_files() {
        for path in paths_under(&code, "hub_rooms") {
            if !names_a_type(&path) {
                calls.push(format!("{file}: hub_rooms::{}", path.join("::")));
            }
        }
    }
    assert!(
        calls.is_empty(),
        "transports call rules of hub_rooms (a service applies them): {calls:?}"
    );
}

#[test]
fn references_are_read_from_code_not_comments() {
    let code = "use crate::{auth::Identity, store};\n// crate::http is only mentioned\nlet x = crate::bus::Bus;";
    let found: Vec<String> = referenced(code).into_iter().collect();
    assert_eq!(found, vec!["auth", "bus", "store"]);
}

#[test]
fn nothing_below_the_transports_imports_one() {
    let graph = graph();
    for module in BELOW_TRANSPORTS {
        let imports = graph.get(module).cloned().unwrap_or_default();
        for transport in TRANSPORTS {
            assert!(
                !imports.contains(transport),
                "{module} imports the transport {transport}: put a trait below it instead"
            );
        }
    }
    // Beside the floors: configuration, errors, tokens and validation import no transport.
    for module in [
        "config",
        "error",
        "auth",
        "validate",
        "net",
        "memory",
        "telemetry",
    ] {
        let imports = graph.get(module).cloned().unwrap_or_default();
        for transport in TRANSPORTS {
            assert!(!imports.contains(transport), "{module} imports {transport}");
        }
    }
}

#[test]
fn nothing_below_the_transports_names_a_web_or_socket_crate() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut named = Vec::new();
    for file in files {
        if !BELOW_TRANSPORTS.contains(&module_of(&src, &file).as_str()) {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).unwrap());
        for krate in [
            "axum::",
            "socketioxide::",
            "engineioxide::",
            "tokio_tungstenite::",
        ] {
            if code.contains(krate) {
                named.push(format!(
                    "{}: {krate}",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        named.is_empty(),
        "services, the store and the bus name a transport's crate: {named:?}"
    );
}

#[test]
fn no_transport_imports_another() {
    let graph = graph();
    for from in TRANSPORTS {
        let imports = graph.get(from).cloned().unwrap_or_default();
        for to in TRANSPORTS {
            assert!(
                from == to || !imports.contains(to),
                "the transport {from} imports the transport {to}: share through a service"
            );
        }
    }
}

#[test]
fn the_modules_import_each_other_without_cycles() {
    let graph = graph();
    // Depth-first search for a back edge, the wiring left out.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| *n == node) {
            panic!("import cycle: {} -> {node}", path[at..].join(" -> "));
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if graph.contains_key(next.as_str()) && !WIRING.contains(&next.as_str()) {
                visit(next, graph, path, done);
            }
        }
        path.pop();
        done.insert(node);
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if !WIRING.contains(&node.as_str()) {
            visit(node, &graph, &mut Vec::new(), &mut done);
        }
    }
}

#[test]
fn the_rules_and_wire_types_stay_free_of_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for krate in ["rooms", "protocol"] {
        let manifest = std::fs::read_to_string(root.join(krate).join("Cargo.toml")).unwrap();
        let deps = manifest
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("");
        for io in ["axum", "socketioxide", "sqlx", "redis", "tokio", "hyper"] {
            assert!(
                !deps.lines().any(|l| l.trim_start().starts_with(io)),
                "{krate} depends on {io}"
            );
        }
    }
}
