//! Runs the JavaScript clients of `tests/js` with node.

use std::path::Path;
use std::process::Stdio;

/// Runs a node script from `tests/js` with `env`, and returns its output; panics with the
/// output when it fails.
pub async fn run_node(script: &str, env: &[(&str, String)]) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        dir.join("node_modules").exists(),
        "JavaScript test dependencies are missing: run `npm ci --prefix tests/js`"
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(script)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), cmd.output())
        .await
        .expect("node script timed out")
        .expect("cannot run node (is Node.js 20+ installed?)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script} failed:\n{text}");
    text
}

/// A node script from `tests/js` left running (a server): its child (killed on drop) and the
/// first line it printed.
pub async fn spawn_node(script: &str, env: &[(&str, String)]) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(script)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .expect("cannot run node (is Node.js 20+ installed?)");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("the node script printed nothing")
        .expect("read the node script's output")
        .expect("the node script ended before printing");
    (child, first)
}

/// A node server from `tests/js` that prints `listening <port>` first: its child and its base
/// URL (`http://127.0.0.1:<port>`).
pub async fn node_server(script: &str, env: &[(&str, String)]) -> (tokio::process::Child, String) {
    let (child, first) = spawn_node(script, env).await;
    let port = first
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("{script} said {first:?}"));
    (child, format!("http://127.0.0.1:{port}"))
}
