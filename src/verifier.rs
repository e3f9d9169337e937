//! `hub audit verify`: checks the audit log from outside, trusting only the log's verifier key,
//! the checkpoints kept outside the database, and the last checkpoint it trusted before.
//!
//! What it checks, in order:
//! 1. every checkpoint opens with the key (from the hub's API, or read straight from the
//!    object store with `--checkpoints DIR|s3://bucket/prefix`, so no database is needed);
//! 2. no two checkpoints of one size hold different roots (a fork);
//! 3. with the object store: the leaf hashes kept beside each checkpoint fold to its root, and
//!    each checkpoint's leaves extend the previous one's (else the checkpoints contradict);
//! 4. with a hub (`--url`): the hub proves each checkpoint consistent with the previous one
//!    and with the one `--state FILE` trusted last (RFC 6962 consistency proofs, checked
//!    here), and the state moves forward;
//! 5. with `--full`: every entry as stored now is re-hashed, its leaf rebuilt and compared
//!    with the trusted leaf of its index, and the whole tree recomputed from the entries.
//!
//! It ends with exit code 0 when all holds, 1 naming the first index that does not, 2 when it
//! could not check (no answer, a bad key).

use crate::services::auditlog::{CHECKPOINTS, LEAVES};
use crate::store::Blobs;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hub_protocol::auditlog::{CheckpointList, ConsistencyProof, LogEntry, LogEntryPage};
use hub_rooms::checkpoint::{Checkpoint, NoteVerifier};
use hub_rooms::merkle::{self, Hash, LeafKind as Kind, leaf_of};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What to check.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyArgs {
    /// The hub's base URL (e.g. http://127.0.0.1:3000).
    #[arg(long)]
    pub url: Option<String>,
    /// The log's verifier key (`name+hash+base64`), or a file holding it.
    #[arg(long)]
    pub key: String,
    /// A file with the last checkpoint this verifier trusted; created, then moved forward.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Re-hash every entry and recompute the whole tree (needs --url and an operator token).
    #[arg(long)]
    pub full: bool,
    /// Read the checkpoints and their leaves from the object store itself: a directory (the
    /// hub's DATA_DIR/files) or s3://bucket/prefix (credentials from AWS_*).
    #[arg(long)]
    pub checkpoints: Option<String>,
    /// A token of an admin or system account, for --full.
    #[arg(long, env = "HUB_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// What the checks found.
#[derive(Debug, Default)]
pub struct Report {
    /// What was checked, line by line.
    pub lines: Vec<String>,
    /// The first failure: the index it names (when one can be named) and why.
    pub failure: Option<(Option<u64>, String)>,
}

impl Report {
    fn note(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// Records a failure unless an earlier index already failed.
    fn fail(&mut self, index: Option<u64>, why: impl Into<String>) {
        let why = why.into();
        let earlier = match (&self.failure, index) {
            (None, _) => false,
            (Some((Some(old), _)), Some(new)) => *old <= new,
            (Some(_), _) => true,
        };
        if !earlier {
            self.failure = Some((index, why));
        }
    }

    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// The last line: `OK …` or `FAIL at index N: …`.
    pub fn verdict(&self) -> String {
        match &self.failure {
            None => self
                .lines
                .last()
                .map(|l| format!("OK: {l}"))
                .unwrap_or_else(|| "OK".into()),
            Some((Some(i), why)) => format!("FAIL at index {i}: {why}"),
            Some((None, why)) => format!("FAIL: {why}"),
        }
    }
}

/// The checkpoint a verifier trusted last (`--state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trusted {
    pub size: u64,
    /// base64.
    pub root: String,
}

#[derive(Debug, Clone)]
struct Signed {
    size: u64,
    root: Hash,
    /// Where it came from, for messages.
    name: String,
}

/// Leaf hashes kept beside a checkpoint: `from..to`.
struct LeafFile {
    from: u64,
    hashes: Vec<Hash>,
}

/// Runs the checks. An `Err` is a check that could not run (exit 2).
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<Report> {
    let key = match std::fs::read_to_string(&args.key) {
        Ok(text) => text,
        Err(_) => args.key.clone(),
    };
    let verifier = NoteVerifier::parse(key.trim()).map_err(|e| anyhow::anyhow!("--key: {e}"))?;
    let hub = match &args.url {
        Some(url) => Some(Hub::new(url, args.token.clone())?),
        None => None,
    };
    if hub.is_none() && args.checkpoints.is_none() {
        anyhow::bail!("give --url, --checkpoints, or both");
    }
    if args.full && hub.is_none() {
        anyhow::bail!("--full reads the entries from a hub: give --url");
    }
    let mut report = Report::default();

    // 1. The checkpoints, each opened with the key.
    let mut notes: Vec<(String, String)> = Vec::new();
    let mut files: BTreeMap<(u64, Hash), LeafFile> = BTreeMap::new();
    let store = match &args.checkpoints {
        Some(place) => Some(open_store(place)?),
        None => None,
    };
    if let Some(store) = &store {
        for key in store.list(CHECKPOINTS).await? {
            let bytes = store.get(&key).await?;
            notes.push((key, String::from_utf8_lossy(&bytes).into_owned()));
        }
        for key in store.list(LEAVES).await? {
            let Some((from, to, root)) = parse_leaves_key(&key) else {
                report.fail(None, format!("{key} is not named <from>-<to>-<root>"));
                continue;
            };
            let bytes = store.get(&key).await?;
            if bytes.len() as u64 != (to - from) * 32 {
                report.fail(
                    Some(from),
                    format!("{key} does not hold {} hashes", to - from),
                );
                continue;
            }
            let hashes = bytes
                .chunks(32)
                .map(|c| c.try_into().unwrap_or([0u8; 32]))
                .collect();
            files.insert((to, root), LeafFile { from, hashes });
        }
    } else if let Some(hub) = &hub {
        let mut before: Option<u64> = None;
        loop {
            let path = match before {
                Some(b) => format!("/api/v1/audit/checkpoints?limit=1000&before={b}"),
                None => "/api/v1/audit/checkpoints?limit=1000".to_owned(),
            };
            let page: CheckpointList = hub.get_json(&path).await?;
            before = page.checkpoints.last().map(|c| c.size);
            for c in page.checkpoints {
                notes.push((c.key, c.note));
            }
            if !page.has_more || before.is_none() {
                break;
            }
        }
    }
    let mut signed: Vec<Signed> = Vec::new();
    for (name, note) in &notes {
        let body = match verifier.open(note) {
            Ok(body) => body,
            Err(e) => {
                report.fail(None, format!("checkpoint {name} does not verify: {e}"));
                continue;
            }
        };
        match Checkpoint::parse(body) {
            Ok(c) => signed.push(Signed {
                size: c.size,
                root: c.root,
                name: name.clone(),
            }),
            Err(e) => report.fail(None, format!("checkpoint {name}: {e}")),
        }
    }
    signed.sort_by(|a, b| a.size.cmp(&b.size).then(a.root.cmp(&b.root)));
    signed.dedup_by(|a, b| a.size == b.size && a.root == b.root);
    let Some(latest) = signed.last().cloned() else {
        report.fail(None, "no checkpoint to verify");
        return Ok(report);
    };
    report.note(format!(
        "{} checkpoint(s) open with {}; the latest holds {} entries",
        signed.len(),
        verifier.name,
        latest.size
    ));

    // 3. The leaves kept outside the database, checkpoint by checkpoint.
    // (Reported after the forks: a fork's second checkpoint also fails to extend the first.)
    let mut trusted_leaves: Option<Vec<Hash>> = None;
    let mut leaf_report = Report::default();
    if store.is_some() {
        trusted_leaves = Some(check_leaf_files(&signed, &files, &mut leaf_report));
    }

    // 2. Forks.
    for pair in signed.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.size == b.size {
            let at = fork_index(a, b, &files, trusted_leaves.as_deref());
            report.fail(
                at,
                format!(
                    "fork: two checkpoints of size {} hold different roots ({} and {})",
                    a.size, a.name, b.name
                ),
            );
        }
    }

    if let Some((index, why)) = leaf_report.failure {
        report.fail(index, why);
    }

    // 4. Consistency, as the hub proves it.
    let previous = match &args.state {
        Some(path) => read_state(path)?,
        None => None,
    };
    if let Some(t) = &previous {
        let root = decode(&t.root)?;
        if latest.size < t.size {
            report.fail(
                Some(latest.size),
                format!(
                    "the latest checkpoint holds {} entries, fewer than the {} trusted before",
                    latest.size, t.size
                ),
            );
        } else if latest.size == t.size && latest.root != root {
            report.fail(
                None,
                format!(
                    "fork: the checkpoint of size {} is not the one trusted before",
                    t.size
                ),
            );
        } else if let Some(leaves) = &trusted_leaves {
            if merkle::root_of(&leaves[..(t.size as usize).min(leaves.len())]) != root {
                report.fail(
                    None,
                    format!(
                        "the checkpoints do not extend the one of size {} trusted before",
                        t.size
                    ),
                );
            }
        } else if hub.is_some() && args.token.is_none() && t.size < latest.size {
            anyhow::bail!(
                "checking against --state needs --checkpoints, or --token (proofs are for operators)"
            );
        } else if let Some(hub) = &hub
            && t.size < latest.size
            && !hub
                .consistent(t.size, &root, latest.size, &latest.root)
                .await?
        {
            report.fail(
                None,
                format!(
                    "the log of {} entries is not consistent with the {} trusted before",
                    latest.size, t.size
                ),
            );
        }
    }
    if let Some(hub) = &hub
        && trusted_leaves.is_none()
        && args.token.is_some()
    {
        for pair in signed.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.size < b.size
                && a.size > 0
                && !hub.consistent(a.size, &a.root, b.size, &b.root).await?
            {
                report.fail(
                    None,
                    format!("checkpoint {} does not extend {}", b.name, a.name),
                );
            }
        }
    }

    // 5. Every entry.
    if args.full
        && let Some(hub) = &hub
    {
        full(hub, &latest, trusted_leaves.as_deref(), &mut report).await?;
    }

    if report.ok() {
        report.note(format!(
            "the log of {} entries verifies (root {})",
            latest.size,
            B64.encode(latest.root)
        ));
        if let Some(path) = &args.state {
            let t = Trusted {
                size: latest.size,
                root: B64.encode(latest.root),
            };
            std::fs::write(path, serde_json::to_vec_pretty(&t)?)
                .map_err(|e| anyhow::anyhow!("cannot write --state {}: {e}", path.display()))?;
        }
    }
    Ok(report)
}

/// Puts the kept leaves together along the checkpoints, checking each against its root; the
/// leaves of the longest line that holds.
fn check_leaf_files(
    signed: &[Signed],
    files: &BTreeMap<(u64, Hash), LeafFile>,
    report: &mut Report,
) -> Vec<Hash> {
    let mut leaves: Vec<Hash> = Vec::new();
    for c in signed {
        let Some(file) = files.get(&(c.size, c.root)) else {
            report.fail(
                None,
                format!("no leaves are kept for checkpoint {}", c.name),
            );
            continue;
        };
        if file.from > leaves.len() as u64 {
            report.fail(
                Some(leaves.len() as u64),
                format!(
                    "the leaves before {} of checkpoint {} are missing",
                    file.from, c.name
                ),
            );
            continue;
        }
        let mut line = leaves[..file.from as usize].to_vec();
        line.extend_from_slice(&file.hashes);
        if merkle::root_of(&line) != c.root {
            report.fail(
                Some(file.from),
                format!(
                    "the leaves kept for checkpoint {} do not fold to its root",
                    c.name
                ),
            );
            continue;
        }
        // A line that changes what an earlier checkpoint had.
        if let Some(i) = first_difference(&leaves, &line) {
            report.fail(
                Some(i),
                format!(
                    "checkpoint {} does not extend the checkpoints before it",
                    c.name
                ),
            );
            continue;
        }
        leaves = line;
    }
    leaves
}

fn first_difference(a: &[Hash], b: &[Hash]) -> Option<u64> {
    a.iter().zip(b).position(|(x, y)| x != y).map(|i| i as u64)
}

/// Where two checkpoints of one size part: the first index their kept leaves differ at.
fn fork_index(
    a: &Signed,
    b: &Signed,
    files: &BTreeMap<(u64, Hash), LeafFile>,
    trusted: Option<&[Hash]>,
) -> Option<u64> {
    let line = |c: &Signed| -> Option<Vec<Hash>> {
        let file = files.get(&(c.size, c.root))?;
        let mut out = trusted
            .map(|t| t[..(file.from as usize).min(t.len())].to_vec())
            .unwrap_or_default();
        if out.len() as u64 != file.from {
            return None;
        }
        out.extend_from_slice(&file.hashes);
        Some(out)
    };
    first_difference(&line(a)?, &line(b)?)
}

/// Reads every entry, re-hashes it, rebuilds its leaf and compares it with the trusted leaf of
/// its index; then recomputes the tree.
async fn full(
    hub: &Hub,
    latest: &Signed,
    trusted: Option<&[Hash]>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut rebuilt: Vec<Hash> = Vec::with_capacity(latest.size as usize);
    let mut logged: Vec<Hash> = Vec::with_capacity(latest.size as usize);
    let mut found: Vec<(u64, String)> = Vec::new();
    let mut from = 0u64;
    let mut log_size = 0u64;
    while from < latest.size {
        let limit = (latest.size - from).min(1000);
        let page: LogEntryPage = hub
            .get_json(&format!("/api/v1/audit/entries?from={from}&limit={limit}"))
            .await?;
        log_size = page.size;
        if page.entries.is_empty() {
            break;
        }
        for e in page.entries {
            if e.index != from {
                found.push((from, format!("the log has no leaf {from}")));
                break;
            }
            let (leaf, why) = check_entry(&e);
            if let Some(why) = why {
                found.push((e.index, why));
            }
            rebuilt.push(leaf);
            logged.push(decode(&e.leaf_hash).unwrap_or([0u8; 32]));
            from += 1;
        }
        if found.iter().any(|(i, _)| *i >= from) {
            break;
        }
    }
    if (rebuilt.len() as u64) < latest.size {
        found.push((
            rebuilt.len() as u64,
            format!(
                "the log holds {} entries, fewer than the {} its checkpoint signed",
                log_size.min(rebuilt.len() as u64),
                latest.size
            ),
        ));
    }
    // The leaves to trust: kept outside the database, or the database's own once they fold to
    // the signed root.
    let logged_ok = logged.len() as u64 == latest.size && merkle::root_of(&logged) == latest.root;
    let reference: Option<&[Hash]> = match trusted {
        Some(t) => Some(t),
        None if logged_ok => Some(&logged),
        None => None,
    };
    match reference {
        Some(r) => {
            if let Some(i) = first_difference(&rebuilt, r) {
                found.push((
                    i,
                    "the entry does not make the leaf its checkpoint signed".into(),
                ));
            }
        }
        None => {
            if merkle::root_of(&rebuilt) != latest.root {
                report.fail(
                    None,
                    "the entries do not make the signed root, and the database's leaves were changed too: pass --checkpoints to locate the first bad index",
                );
            }
        }
    }
    if !logged_ok && trusted.is_some() {
        if let Some(i) = trusted.and_then(|t| first_difference(&logged, t)) {
            found.push((
                i,
                "the database's leaf is not the one its checkpoint signed".into(),
            ));
        }
    }
    if let Some((i, why)) = found.into_iter().min_by_key(|(i, _)| *i) {
        report.fail(Some(i), why);
    } else if reference.is_some() && merkle::root_of(&rebuilt) != latest.root {
        report.fail(None, "the entries do not make the signed root");
    }
    report.note(format!("{} entries re-hashed", rebuilt.len()));
    Ok(())
}

/// The leaf hash an entry as stored now makes, and what is wrong with it.
fn check_entry(e: &LogEntry) -> (Hash, Option<String>) {
    let kind = Kind::parse(&e.kind);
    let (chain, seq, hash, matches) = match (kind, &e.audit, &e.ledger) {
        (Some(Kind::Audit), Some(a), _) => {
            let entry = hub_rooms::audit::Entry {
                id: a.id.clone(),
                scope: a.scope.clone(),
                seq: a.seq,
                ref_id: a.ref_id.clone(),
                actor_id: a.actor_id.clone(),
                action: a.action.clone(),
                details: a.details.clone(),
                created_at: a.created_at,
                prev_hash: a.prev_hash.clone(),
                hash: a.hash.clone(),
            };
            let ok = hub_rooms::audit::expected_hash(&entry) == a.hash;
            (a.scope.clone(), a.seq, a.hash.clone(), ok)
        }
        (Some(Kind::Ledger), _, Some(l)) => {
            let entry = hub_rooms::wallets::Entry {
                id: l.id.clone(),
                wallet_id: l.wallet_id.to_string(),
                seq: l.seq,
                kind: l.kind.clone(),
                amount: l.amount,
                balance_after: l.balance_after,
                task_id: l.task_id.as_ref().map(ToString::to_string),
                review_id: l.review_id.clone(),
                conversion_id: l.conversion_id.as_ref().map(ToString::to_string),
                note: l.note.clone(),
                created_at: l.created_at,
                prev_hash: l.prev_hash.clone(),
                hash: l.hash.clone(),
            };
            let ok = hub_rooms::wallets::expected_hash(&entry) == l.hash;
            (l.wallet_id.to_string(), l.seq, l.hash.clone(), ok)
        }
        _ => {
            return (
                [0u8; 32],
                Some(format!("the {} entry of this leaf is gone", e.kind)),
            );
        }
    };
    let kind = kind.unwrap_or(Kind::Audit);
    let leaf = merkle::leaf_hash(leaf_of(kind, &chain, seq, &hash).as_bytes());
    if !matches {
        return (
            leaf,
            Some(format!(
                "the {} entry's hash does not match its content",
                e.kind
            )),
        );
    }
    (leaf, None)
}

fn decode(text: &str) -> anyhow::Result<Hash> {
    B64.decode(text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not a base64 SHA-256 hash"))
}

fn parse_leaves_key(key: &str) -> Option<(u64, u64, Hash)> {
    let name = key.rsplit('/').next()?;
    let mut parts = name.splitn(3, '-');
    let from: u64 = parts.next()?.parse().ok()?;
    let to: u64 = parts.next()?.parse().ok()?;
    let root: Hash = hex::decode(parts.next()?).ok()?.try_into().ok()?;
    (from <= to).then_some((from, to, root))
}

fn read_state(path: &PathBuf) -> anyhow::Result<Option<Trusted>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!("--state {} is not a verifier state: {e}", path.display())
        })?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow::anyhow!(
            "cannot read --state {}: {e}",
            path.display()
        )),
    }
}

fn open_store(place: &str) -> anyhow::Result<Blobs> {
    if place.starts_with("s3://") {
        Blobs::s3(place, &[])
    } else {
        let dir = std::path::Path::new(place);
        if !dir.is_dir() {
            anyhow::bail!("--checkpoints {place} is not a directory");
        }
        Blobs::local(dir)
    }
}

/// The hub's API.
struct Hub {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Hub {
    fn new(url: &str, token: Option<String>) -> anyhow::Result<Hub> {
        Ok(Hub {
            base: url.trim_end_matches('/').to_owned(),
            token,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GET {path}: {e}"))?;
        let status = res.status();
        let body = res.bytes().await?;
        if !status.is_success() {
            anyhow::bail!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&body)
                    .chars()
                    .take(300)
                    .collect::<String>()
            );
        }
        serde_json::from_slice(&body).map_err(|e| anyhow::anyhow!("GET {path}: {e}"))
    }

    /// Whether the hub proves the tree of `from` (root `old`) a prefix of the tree of `to`
    /// (root `new`): the proof is checked here against the roots this verifier holds.
    async fn consistent(&self, from: u64, old: &Hash, to: u64, new: &Hash) -> anyhow::Result<bool> {
        let p: ConsistencyProof = match self
            .get_json(&format!(
                "/api/v1/audit/proof/consistency?from={from}&to={to}"
            ))
            .await
        {
            Ok(p) => p,
            // A log shorter than the checkpoint cannot prove it.
            Err(e) if e.to_string().contains("400") => return Ok(false),
            Err(e) => return Err(e),
        };
        let proof = p
            .proof
            .iter()
            .map(|h| decode(h))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(merkle::verify_consistency(from, to, old, new, &proof))
    }
}
