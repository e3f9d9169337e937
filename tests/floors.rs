//! The floors of `src/` hold, read from the source itself (README "Architecture"):
//! transports (`http`, `realtime`, `yws`, `jobs`) call services; services, the store and the
//! bus never import a transport; no transport imports another; there is no import cycle
//! between the hub's modules; the rules and wire-type crates stay free of I/O crates.

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
