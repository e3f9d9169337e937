//! The audit log's signer key, origin and witnesses.

use super::load_or_create;
use crate::services::auditlog::{AuditLogConfig, DEFAULT_ORIGIN, DEFAULT_WITNESS_TIMEOUT, new_key};
use anyhow::{Context, bail};
use clap::Args;
use hub_rooms::checkpoint::NoteSigner;
use std::path::PathBuf;

/// Audit log flags.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// The Ed25519 key that signs the audit log's checkpoints, as a C2SP signed-note signer key
    /// (`PRIVATE+KEY+<name>+<hash>+<key>`). Unset: generated once into DATA_DIR/audit_key.
    /// Every node of a cluster needs the same one.
    #[arg(long, env = "HUB_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// The origin line of the audit log's checkpoints (a schema-less URL naming this log).
    /// Unset: the key's name.
    #[arg(long, env = "HUB_AUDIT_ORIGIN")]
    pub audit_origin: Option<String>,
    /// Witnesses' `add-checkpoint` URLs (C2SP tlog-witness), comma separated: each new
    /// checkpoint is POSTed to them.
    #[arg(long, env = "HUB_AUDIT_WITNESSES", value_delimiter = ',')]
    pub audit_witnesses: Vec<String>,
    /// How long a witness may take to answer.
    #[arg(long, env = "HUB_AUDIT_WITNESS_TIMEOUT", default_value_t = DEFAULT_WITNESS_TIMEOUT.into())]
    pub audit_witness_timeout: humantime::Duration,
}

impl AuditArgs {
    /// The log's settings: the key from `HUB_AUDIT_KEY_FILE`, or the one kept at `kept()`
    /// (generated there once, mode 0600).
    pub fn resolve(
        &self,
        kept: impl FnOnce() -> anyhow::Result<PathBuf>,
    ) -> anyhow::Result<AuditLogConfig> {
        let (key, from) = match &self.audit_key_file {
            Some(path) => (
                std::fs::read_to_string(path).with_context(|| {
                    format!("cannot read HUB_AUDIT_KEY_FILE {}", path.display())
                })?,
                path.clone(),
            ),
            None => {
                let path = kept()?;
                let name = self.audit_origin.as_deref().unwrap_or(DEFAULT_ORIGIN);
                let made =
                    new_key(name).map_err(|e| anyhow::anyhow!("HUB_AUDIT_ORIGIN {name:?}: {e}"))?;
                (load_or_create(&path, &made)?, path)
            }
        };
        let signer = NoteSigner::parse(&key)
            .map_err(|e| anyhow::anyhow!("the audit key in {}: {e}", from.display()))?;
        let origin = self
            .audit_origin
            .clone()
            .unwrap_or_else(|| signer.name().to_owned());
        if origin.is_empty() || origin.contains('\n') {
            bail!("HUB_AUDIT_ORIGIN must be one non-empty line");
        }
        for url in &self.audit_witnesses {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("HUB_AUDIT_WITNESSES: {url:?} is not an http(s) URL");
            }
        }
        Ok(AuditLogConfig {
            origin,
            key: key.trim().to_owned(),
            witnesses: self.audit_witnesses.clone(),
            witness_timeout: *self.audit_witness_timeout,
        })
    }
}
