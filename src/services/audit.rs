//! The WORM audit log's checks and repair. Entries are written by the store in the same
//! transaction as the change they record; this walks every scope's chain
//! (`hub_rooms::audit::check`) and, when asked, appends `worm.reanchor` entries that record a
//! break so the chain goes on from it. History is never rewritten.

use super::notifications::Notifications;
use super::wallets::Wallets;
use crate::clock::SharedClock;
use crate::store::{NewAudit, Store, StoreError};
use hub_protocol::WalletId;
use hub_protocol::audit::{BrokenEntry, ScopeIntegrity, WormIntegrity};
use hub_protocol::notifications::{AuditBrokenData, NotificationBody};
use hub_rooms::audit::{REANCHOR, check};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};

/// The audit chains' integrity check and repair.
pub struct Audit {
    store: Store,
    wallets: Wallets,
    notifications: Notifications,
    clock: SharedClock,
    /// The last check found a break.
    broken: AtomicBool,
}

impl Audit {
    pub fn new(
        store: Store,
        wallets: Wallets,
        notifications: Notifications,
        clock: SharedClock,
    ) -> Audit {
        Audit {
            store,
            wallets,
            notifications,
            clock,
            broken: AtomicBool::new(false),
        }
    }

    /// Re-walks every scope's chain. A break that no reanchor records makes the report (and
    /// `/api/health`, until a later check passes) say so, and is counted
    /// (`hub_worm_breaks_total`).
    pub async fn integrity(&self) -> Result<WormIntegrity, StoreError> {
        let mut scopes = Vec::new();
        for (scope, head) in self.store.audit_scopes().await? {
            let entries = self.store.audit_entries(&scope).await?;
            let found = check(&entries, head.as_ref());
            scopes.push(ScopeIntegrity {
                ok: found.first_broken.is_none(),
                entries: entries.len() as u64,
                first_broken: found.first_broken.map(broken_entry),
                reanchored: found.reanchored,
                scope,
            });
        }
        // Every wallet's ledger is a chain of its own, checked the same way.
        for (wallet, entries, finding) in self.wallets.verify_all().await? {
            scopes.push(ScopeIntegrity {
                scope: format!("{WALLET_SCOPE}{}", wallet.id),
                entries,
                ok: finding.is_none(),
                first_broken: finding.map(broken_entry),
                reanchored: Vec::new(),
            });
        }
        let ok = scopes.iter().all(|s| s.ok);
        let broken = scopes.iter().filter(|s| !s.ok).count();
        if broken > 0 {
            metrics::counter!("hub_worm_breaks_total").increment(broken as u64);
            for s in scopes.iter().filter(|s| !s.ok) {
                tracing::error!(scope = %s.scope, broken = ?s.first_broken, "the audit chain is broken");
            }
        }
        let was_broken = self.broken.swap(!ok, Ordering::AcqRel);
        if !ok && !was_broken {
            // Newly broken: every admin hears it once (until a check passes again).
            let broken: Vec<ScopeIntegrity> = scopes.iter().filter(|s| !s.ok).cloned().collect();
            for admin in self.store.admins().await? {
                let data = AuditBrokenData {
                    scopes: broken.clone(),
                };
                self.notifications
                    .add(&admin, NotificationBody::AuditBroken(data))
                    .await;
            }
        }
        Ok(WormIntegrity {
            ok,
            checked_at: crate::clock::rfc3339(self.clock.now_ms()),
            scopes,
        })
    }

    /// Whether the last integrity check found a break.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// Records every current break with a reanchor entry by `actor` (the chain then goes on
    /// from it) and returns the check that follows. Each pass records the first unrecorded
    /// break of each scope, one entry per broken scope; a scope broken in several places takes
    /// several passes. An audit scope's break is recorded in that scope (`worm.reanchor`); a
    /// wallet ledger's in its owner's chain (`ledger.reanchor`, naming the wallet). A record
    /// holds the finding's fingerprint: the same entry changed again is a new break.
    pub async fn reanchor(&self, actor: &str) -> Result<WormIntegrity, StoreError> {
        let mut report = self.integrity().await?;
        for _ in 0..MAX_REANCHOR_PASSES {
            if report.ok {
                break;
            }
            for scope in &report.scopes {
                let Some(broken) = &scope.first_broken else {
                    continue;
                };
                let mut details = json!({
                    "broken_seq": broken.seq,
                    "broken_id": broken.id,
                    "reason": broken.reason,
                    "fingerprint": broken.fingerprint,
                });
                let (chain, action) = match scope.scope.strip_prefix(WALLET_SCOPE) {
                    Some(wallet) => {
                        let Some(owner) = self.store.wallet_owner(&WalletId::from(wallet)).await?
                        else {
                            continue;
                        };
                        details["wallet_id"] = json!(wallet);
                        (format!("user:{owner}"), LEDGER_REANCHOR)
                    }
                    None => (scope.scope.clone(), REANCHOR),
                };
                self.store
                    .audit_alone(NewAudit {
                        scope: chain,
                        ref_id: Some(&broken.id),
                        actor_id: Some(actor),
                        action,
                        details,
                    })
                    .await?;
            }
            report = self.integrity().await?;
        }
        Ok(report)
    }
}

/// Wallet ledgers appear in the integrity report as scopes `wallet:{id}`.
pub const WALLET_SCOPE: &str = "wallet:";

/// The action of the entry, in a wallet owner's chain, that records a break of the wallet's
/// ledger (its `details` name the wallet as `wallet_id`).
pub const LEDGER_REANCHOR: &str = "ledger.reanchor";

fn broken_entry(b: hub_rooms::audit::Broken) -> BrokenEntry {
    BrokenEntry {
        seq: b.seq,
        id: b.id,
        reason: b.reason,
        fingerprint: b.fingerprint,
    }
}

/// Breaks one repair records per scope at most.
const MAX_REANCHOR_PASSES: usize = 100;
