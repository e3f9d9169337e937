-- A head may move several entries forward in one statement (a batch of writes moves each head
-- once, onto the last entry it appended), but only over entries that all exist: every seq
-- between the old head and the new one is present, and the new head is the entry at its seq.
-- It still never moves back, sideways or past a gap.

DROP TRIGGER worm_heads_guard;

CREATE TRIGGER worm_heads_guard BEFORE UPDATE ON worm_heads
WHEN NEW.scope <> OLD.scope OR NEW.seq <= OLD.seq OR NOT EXISTS (
    SELECT 1 FROM worm_audits WHERE scope = NEW.scope AND seq = NEW.seq AND hash = NEW.hash
) OR (SELECT COUNT(*) FROM worm_audits
      WHERE scope = NEW.scope AND seq > OLD.seq AND seq <= NEW.seq) <> NEW.seq - OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'worm_heads is append-only: a head moves only onto the entries appended');
END;

DROP TRIGGER wallets_guard;

CREATE TRIGGER wallets_guard BEFORE UPDATE ON wallets
WHEN (NEW.seq = OLD.seq AND (NEW.buz_balance <> OLD.buz_balance
        OR NEW.pending_lock <> OLD.pending_lock OR NEW.head_hash IS NOT OLD.head_hash))
  OR (NEW.seq <> OLD.seq AND (NEW.seq < OLD.seq OR NOT EXISTS (
        SELECT 1 FROM wallet_ledgers
        WHERE wallet_id = NEW.id AND seq = NEW.seq AND hash = NEW.head_hash
          AND balance_after = NEW.buz_balance)
      OR (SELECT COUNT(*) FROM wallet_ledgers
          WHERE wallet_id = NEW.id AND seq > OLD.seq AND seq <= NEW.seq) <> NEW.seq - OLD.seq))
BEGIN
    SELECT RAISE(ABORT, 'wallets is append-only: a head moves only onto the entries appended');
END;
