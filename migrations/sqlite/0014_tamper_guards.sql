-- The chains' heads guarded like the rows (SQLite has no TRUNCATE: a DELETE without WHERE
-- runs the row triggers), so that a head cannot be moved to hide a cut tail.

CREATE TRIGGER worm_heads_no_delete BEFORE DELETE ON worm_heads
BEGIN
    SELECT RAISE(ABORT, 'worm_heads is append-only');
END;

CREATE TRIGGER worm_heads_guard BEFORE UPDATE ON worm_heads
WHEN NEW.scope <> OLD.scope OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
    SELECT 1 FROM worm_audits WHERE scope = NEW.scope AND seq = NEW.seq AND hash = NEW.hash
)
BEGIN
    SELECT RAISE(ABORT, 'worm_heads is append-only: a head moves only onto the entry appended');
END;

CREATE TRIGGER wallets_no_delete BEFORE DELETE ON wallets
BEGIN
    SELECT RAISE(ABORT, 'wallets is append-only');
END;

CREATE TRIGGER wallets_guard BEFORE UPDATE ON wallets
WHEN (NEW.seq = OLD.seq AND (NEW.buz_balance <> OLD.buz_balance
        OR NEW.pending_lock <> OLD.pending_lock OR NEW.head_hash IS NOT OLD.head_hash))
  OR (NEW.seq <> OLD.seq AND (NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM wallet_ledgers
        WHERE wallet_id = NEW.id AND seq = NEW.seq AND hash = NEW.head_hash
          AND balance_after = NEW.buz_balance)))
BEGIN
    SELECT RAISE(ABORT, 'wallets is append-only: balances move only with a ledger entry');
END;
