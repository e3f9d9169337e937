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
        let (name, mut rest) = ident(s);
        let mut path = prefix;
        if name.is_empty() {
            return rest;
        }
        // `X as Y`: the path is X's.
        if let Some(alias) = rest.trim_start().strip_prefix("as ") {
            rest = ident(alias).1;
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

/// The module path of a file of `src/` (`services/docs/mod.rs` is `services::docs`).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut path: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let last = path.pop().unwrap_or_default();
    match last.trim_end_matches(".rs") {
        "mod" | "lib" => {}
        name => path.push(name.to_owned()),
    }
    path
}

/// A file's code without its `#[cfg(test)]` modules (a test may name any sibling; it is not
/// part of what the file depends on).
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item that follows: up to its closing brace, or its `;`.
        let mut depth = 0usize;
        let mut end = after.len();
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = i + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The `pub use` statements of a piece of code (a module's public face), and the code
/// without them.
fn split_reexports(code: &str) -> (Vec<String>, String) {
    let (mut reexports, mut rest) = (Vec::new(), String::new());
    let mut left = code;
    loop {
        let at = ["pub use ", "pub(crate) use "]
            .iter()
            .filter_map(|k| left.find(k).map(|i| (i, k.len())))
            .min();
        let Some((at, len)) = at else {
            rest.push_str(left);
            break;
        };
        rest.push_str(&left[..at]);
        let end = left[at..].find(';').map_or(left.len(), |e| at + e + 1);
        reexports.push(left[at + len..end].trim_end_matches(';').to_owned());
        left = &left[end..];
    }
    (reexports, rest)
}

/// The paths a piece of code names from its file's module `here` (through `crate::`,
/// `super::`, `self::`, or one of the file's own child modules `children`), made absolute.
fn named_paths(code: &str, here: &[String], children: &[String]) -> Vec<Vec<String>> {
    let mut absolute: Vec<Vec<String>> = paths_under(code, "crate");
    for path in paths_under(code, "super") {
        let ups = 1 + path.iter().take_while(|s| *s == "super").count();
        let base = &here[..here.len().saturating_sub(ups)];
        let rest = path.iter().skip_while(|s| *s == "super");
        absolute.push(base.iter().cloned().chain(rest.cloned()).collect());
    }
    for path in paths_under(code, "self") {
        absolute.push(here.iter().cloned().chain(path).collect());
    }
    for child in children {
        for path in paths_under(code, child) {
            let mut full = here.to_vec();
            full.push(child.clone());
            full.extend(path);
            absolute.push(full);
        }
    }
    absolute
}

/// Which files of `src/` each file's code depends on: a path it names (through `crate::`,
/// `super::`, `self::` or one of its own child modules) is resolved to the file that declares
/// the longest module it starts with, and through that module's re-exports (`pub use`) to the
/// file that defines the item. A module's re-exports are its public face, not a dependency of
/// its own code; the file itself is left out.
fn file_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "main.rs"));
    struct Unit {
        name: String,
        here: Vec<String>,
        /// What it re-exports: the name it gives, the absolute path of the item.
        face: BTreeMap<String, Vec<String>>,
        /// The absolute paths its own code names.
        names: Vec<Vec<String>>,
    }
    let units: Vec<Unit> = files
        .iter()
        .map(|file| {
            let name = file.strip_prefix(&src).unwrap().display().to_string();
            let here = module_path(&src, file);
            let code = without_tests(&code_of(&std::fs::read_to_string(file).unwrap()));
            let children: Vec<String> = code
                .lines()
                .filter_map(|l| {
                    let l = l.trim_start();
                    let l = l.strip_prefix("pub ").unwrap_or(l);
                    let m = l.strip_prefix("mod ")?.strip_suffix(';')?;
                    Some(m.trim().to_owned())
                })
                .collect();
            let (reexports, own) = split_reexports(&code);
            let mut face = BTreeMap::new();
            for statement in reexports {
                // `a::b::{C, d::E}` is read as the paths under an imagined root.
                let wrapped = format!("self::{statement}");
                for path in named_paths(&wrapped, &here, &children) {
                    let path: Vec<String> = path[here.len()..].to_vec();
                    let absolute = match path.first().map(String::as_str) {
                        Some("crate") => path[1..].to_vec(),
                        Some("super") => {
                            let ups = path.iter().take_while(|s| *s == "super").count();
                            let base = &here[..here.len().saturating_sub(ups)];
                            base.iter()
                                .cloned()
                                .chain(path[ups..].iter().cloned())
                                .collect()
                        }
                        Some("self") => here
                            .iter()
                            .cloned()
                            .chain(path[1..].iter().cloned())
                            .collect(),
                        _ => here.iter().cloned().chain(path.iter().cloned()).collect(),
                    };
                    if let Some(last) = absolute.last() {
                        face.insert(last.clone(), absolute);
                    }
                }
            }
            let names = named_paths(&own, &here, &children);
            Unit {
                name,
                here,
                face,
                names,
            }
        })
        .collect();
    let by_module: BTreeMap<&[String], &Unit> =
        units.iter().map(|u| (u.here.as_slice(), u)).collect();
    // The file defining what `path` names, through re-exports.
    fn resolve<'a>(
        by_module: &BTreeMap<&[String], &'a Unit>,
        path: &[String],
        depth: u8,
    ) -> Option<&'a Unit> {
        let n = (0..=path.len())
            .rev()
            .find(|n| by_module.contains_key(&path[..*n]))?;
        let unit = by_module[&path[..n]];
        if depth < 8
            && let Some(item) = path.get(n)
            && let Some(target) = unit.face.get(item)
        {
            let mut next = target.clone();
            next.extend(path[n + 1..].iter().cloned());
            return resolve(by_module, &next, depth + 1).or(Some(unit));
        }
        Some(unit)
    }
    let mut graph = BTreeMap::new();
    for unit in &units {
        let entry: &mut BTreeSet<String> = graph.entry(unit.name.clone()).or_default();
        for path in &unit.names {
            if let Some(target) = resolve(&by_module, path, 0)
                && target.name != unit.name
            {
                entry.insert(target.name.clone());
            }
        }
    }
    graph
}

/// The store's files with their code, tests left out.
fn store_code() -> Vec<(PathBuf, String)> {
    let store = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut files = Vec::new();
    rust_files(&store, &mut files);
    files
        .into_iter()
        .map(|f| {
            let code = without_tests(&code_of(&std::fs::read_to_string(&f).unwrap()));
            (f, code)
        })
        .collect()
}

#[test]
fn the_store_writes_no_audit_entry_of_its_own() {
    // The services write every audit entry, in the transaction of the change it records; the
    // store only knows how (`store/audit.rs`).
    let mut found = Vec::new();
    for (file, code) in store_code() {
        if file.file_name().is_some_and(|n| n == "audit.rs") {
            continue;
        }
        for needle in ["NewAudit {", ".audit(", ".audit_alone("] {
            if code.contains(needle) {
                found.push(format!("{}: {needle}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the store writes audit entries: {found:#?}"
    );
}

#[test]
fn the_file_graph_reads_faces_and_leaves_tests_out() {
    let code = "use a::B;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    fn f() { g({ 1 }) }\n}\nuse c::D;\n";
    assert_eq!(without_tests(code), "use a::B;\n\nuse c::D;\n");
    let (faces, own) =
        split_reexports("pub use x::{A, B as C};\nuse y::D;\npub(crate) use z::E;\n");
    assert_eq!(faces, vec!["x::{A, B as C}".to_owned(), "z::E".to_owned()]);
    assert_eq!(own.trim(), "use y::D;");
    // `store/mod.rs` re-exports; what a sibling names through it resolves to the defining file.
    let graph = file_graph();
    let behind = graph.get("store/audit.rs").expect("store/audit.rs is read");
    assert!(behind.contains("store/behind.rs"), "{behind:?}");
}

#[test]
fn no_two_files_import_each_other_even_in_a_circle() {
    let graph = file_graph();
    let mut cycles = Vec::new();
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
        cycles: &mut Vec<String>,
    ) {
        if done.contains(node) {
            return;
        }
        if let Some(at) = path.iter().position(|n| *n == node) {
            cycles.push(format!("{} -> {node}", path[at..].join(" -> ")));
            return;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(node);
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    assert!(
        cycles.is_empty(),
        "import circles between files:\n{}",
        cycles.join("\n")
    );
}

/// What the store may name of the wire crate: identities, roles and error codes, the words a
/// row is written in. A payload, event or patch is the services' to map.
fn store_may_name(path: &[String]) -> bool {
    match path.first().map(String::as_str) {
        Some("ids" | "roles" | "error") => true,
        Some(first) => {
            first.ends_with("Id")
                || matches!(first, "Role" | "AccountRole" | "ErrorCode" | "ErrorBody")
        }
        None => true,
    }
}

#[test]
fn store_may_name_ids_roles_and_error_codes_only() {
    let code = "use hub_protocol::{MessageId, Role, ErrorCode::Conflict};\nuse hub_protocol::chat::Message;\nlet t = hub_protocol::profiles::ProfilePatch::default();";
    let refused: Vec<String> = paths_under(code, "hub_protocol")
        .into_iter()
        .filter(|p| !store_may_name(p))
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        refused,
        vec!["chat::Message", "profiles::ProfilePatch::default"]
    );
}

#[test]
fn the_store_returns_rows_not_wire_types() {
    // The store reads and writes rows; the services map them to what clients see.
    let mut found = Vec::new();
    for (file, code) in store_code() {
        for path in paths_under(&code, "hub_protocol") {
            if !store_may_name(&path) {
                found.push(format!(
                    "{}: hub_protocol::{}",
                    file.display(),
                    path.join("::")
                ));
            }
        }
    }
    assert!(found.is_empty(), "the store names wire types: {found:#?}");
}
