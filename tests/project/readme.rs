//! The documentation runs as written. Every fenced block marked `<!-- tested -->` in README.md,
//! client-sdk/README.md, loadtest/README.md and the `docs/` pages runs, in that order, in one bash session in a
//! fresh directory, against a hub that the README itself starts:
//!
//! - `<!-- tested -->` before a `sh` block: its lines run in the session (`set -euo pipefail`);
//! - `<!-- tested: background -->`: the block runs in the background (the hub), and the
//!   session waits until it answers on `localhost:3000`;
//! - `<!-- tested: file NAME -->`: the block is saved as NAME, for a later block to run.
//!
//! The session runs as a newcomer's would: in a scratch copy of the repository (its top-level
//! entries linked, no `data/`, no `node_modules/`), with only what the pages themselves install
//! (`npm install` runs for real, in the scratch directories the pages create).
//! `cargo run --release [-p PKG] -- ARGS` runs the binaries this test build already made (a
//! `cargo` on the session's PATH forwards to them), so the documented commands run unchanged
//! without a second, release build. The SDK must be built (`client-sdk/dist`, as its README
//! says; `scripts/test` does it).

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The pages, in the order a newcomer reads them: the READMEs, then every `docs/` page.
fn docs(root: &Path) -> Vec<String> {
    let mut pages: Vec<String> = ["README.md", "client-sdk/README.md", "loadtest/README.md"]
        .map(str::to_owned)
        .to_vec();
    let mut more: Vec<String> = std::fs::read_dir(root.join("docs"))
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".md"))
                .map(|n| format!("docs/{n}"))
                .collect()
        })
        .unwrap_or_default();
    more.sort();
    pages.extend(more);
    pages
}

#[derive(Debug, PartialEq)]
enum Block {
    Run(String),
    Background(String),
    File(String, String),
}

/// The marked blocks of a Markdown text, in order.
fn marked_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        let Some(mark) = line
            .trim()
            .strip_prefix("<!-- tested")
            .and_then(|m| m.strip_suffix("-->"))
        else {
            continue;
        };
        let mark = mark.trim().trim_start_matches(':').trim().to_owned();
        let fence = lines
            .next()
            .unwrap_or_else(|| panic!("`{line}` is not followed by a fenced block"));
        assert!(
            fence.starts_with("```"),
            "`{line}` must be followed directly by a fenced block, found `{fence}`"
        );
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        blocks.push(match mark.as_str() {
            "" => Block::Run(body),
            "background" => Block::Background(body),
            m if m.starts_with("file ") => Block::File(m[5..].trim().to_owned(), body),
            other => panic!("unknown mark `{other}` in `{line}`"),
        });
    }
    blocks
}

/// The session script: every marked block of every document, in order.
fn session_script(root: &Path) -> String {
    let mut script = String::from("set -euo pipefail\n");
    let mut background = 0;
    for doc in docs(root) {
        let text = std::fs::read_to_string(root.join(&doc)).unwrap();
        script.push_str(&format!("echo '### {doc}'\n"));
        for block in marked_blocks(&text) {
            match block {
                Block::Run(body) => script.push_str(&body),
                Block::Background(body) => {
                    background += 1;
                    script.push_str(&format!(
                        "( {body} ) > background-{background}.log 2>&1 &\n\
                         echo $! >> background.pids\n\
                         for _ in $(seq 1 300); do curl -sf localhost:3000/api/health >/dev/null && break; sleep 0.1; done\n\
                         curl -sf localhost:3000/api/health >/dev/null || {{ cat background-{background}.log; exit 1; }}\n"
                    ));
                }
                Block::File(name, body) => {
                    script.push_str(&format!(
                        "cat > {name} <<'HUB_DOC_EOF'\n{body}HUB_DOC_EOF\n"
                    ));
                }
            }
        }
    }
    script
}

/// A `cargo` that runs `cargo run [--release] [-q] [-p PKG] -- ARGS` as the already built
/// binary of PKG (the hub by default), and anything else with the real cargo.
fn cargo_shim(dir: &Path, bins: &Path) -> PathBuf {
    let shim = dir.join("cargo");
    std::fs::write(
        &shim,
        format!(
            r#"#!/usr/bin/env bash
if [ "$1" = run ]; then
  shift; bin=hub
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in -p|--package) bin="$2"; shift;; esac
    shift
  done
  [ "${{1:-}}" = "--" ] && shift
  exec "{bins}/$bin" "$@"
fi
echo "the documentation test only forwards 'cargo run'" >&2; exit 2
"#,
            bins = bins.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    shim
}

#[test]
fn the_marks_are_read_as_documented() {
    let md = "text\n<!-- tested -->\n```sh\necho a\n```\n<!-- tested: background -->\n```sh\nserve\n```\n\
              <!-- tested: file x.mjs -->\n```js\nconsole.log(1)\n```\n```sh\nnot run\n```\n";
    assert_eq!(
        marked_blocks(md),
        vec![
            Block::Run("echo a\n".into()),
            Block::Background("serve\n".into()),
            Block::File("x.mjs".into(), "console.log(1)\n".into()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_run_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bins = Path::new(env!("CARGO_BIN_EXE_hub")).parent().unwrap();
    assert!(
        bins.join("loadtest").exists(),
        "the loadtest binary is not built: run the tests with --workspace (scripts/test does)"
    );
    assert!(
        root.join("client-sdk/dist/index.js").exists(),
        "build the SDK first: `npm ci --prefix client-sdk` (scripts/test does)"
    );
    assert!(
        std::net::TcpStream::connect("127.0.0.1:3000").is_err(),
        "the documentation uses port 3000, which already serves something: stop it first"
    );

    // A scratch copy of the repository, as a fresh clone looks: what the pages create (data/,
    // node_modules/, the scripts they save) lands here or in the scratch directories they make.
    let work = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if [".git", "data", "target", "node_modules"]
            .iter()
            .any(|skip| name == *skip)
        {
            continue;
        }
        std::os::unix::fs::symlink(entry.path(), work.path().join(&name)).unwrap();
    }
    let shims = tempfile::tempdir().unwrap();
    cargo_shim(shims.path(), bins);

    let script = session_script(root);
    std::fs::write(work.path().join("session.sh"), &script).unwrap();
    let path = format!(
        "{}:{}",
        shims.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg("session.sh")
        .current_dir(work.path())
        .env("PATH", path)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env_remove("JWT_SECRET")
        .env_remove("DATA_DIR")
        .env_remove("HUB_ADDR")
        .env_remove("TOKEN")
        .env_remove("HUB")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(300), cmd.output())
        .await
        .expect("the documentation session did not finish")
        .unwrap();
    // Whatever happened, stop what the documentation started.
    if let Ok(pids) = std::fs::read_to_string(work.path().join("background.pids")) {
        for pid in pids.split_whitespace() {
            let _ = std::process::Command::new("pkill")
                .args(["-TERM", "-P", pid])
                .status();
            let _ = std::process::Command::new("kill").args([pid]).status();
        }
    }
    let text = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "a documented block failed:\n{text}");
    // What the tour says should happen, did.
    for expected in [
        "venture ",
        "\"user_id\":\"bob\"",
        "ok: true",
        "joined venture:",
        "message 1 hello",
        "document ",
        "text: Reach orbit.",
        "recent: hello",
        "here: Alice",
        "new: alice: hello from the SDK",
        "sent as seq 2",
        "idle, hub",
    ] {
        assert!(text.contains(expected), "expected `{expected}` in:\n{text}");
    }
}

/// The README's Jobs section names every job of the catalog with the setting that times it.
#[test]
fn the_jobs_section_names_every_job() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## Jobs\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Jobs section");
    let board = hub::services::jobs::JobBoard::new(Default::default());
    assert!(docs(Path::new(env!("CARGO_MANIFEST_DIR"))).contains(&"docs/rest.md".to_owned()));
    for def in board.defs() {
        assert!(
            section.contains(&format!("`{}`", def.name)),
            "{} is not listed",
            def.name
        );
    }
    assert_eq!(board.defs().len(), 6);
}
