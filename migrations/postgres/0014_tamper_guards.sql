-- The chains' heads and whole-table statements, guarded like the rows: a TRUNCATE skips row
-- triggers, and a head that can be moved at will hides a cut tail.

CREATE FUNCTION worm_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER worm_audits_no_truncate BEFORE TRUNCATE ON worm_audits
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();
CREATE TRIGGER worm_heads_no_truncate BEFORE TRUNCATE ON worm_heads
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();
CREATE TRIGGER wallet_ledgers_no_truncate BEFORE TRUNCATE ON wallet_ledgers
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();
CREATE TRIGGER wallets_no_truncate BEFORE TRUNCATE ON wallets
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();

-- A head moves one step forward, onto the entry just appended, and is never deleted.
CREATE FUNCTION worm_heads_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'worm_heads is append-only';
    END IF;
    IF NEW.scope <> OLD.scope OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM worm_audits WHERE scope = NEW.scope AND seq = NEW.seq AND hash = NEW.hash
    ) THEN
        RAISE EXCEPTION 'worm_heads is append-only: a head moves only onto the entry appended';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER worm_heads_guard BEFORE UPDATE OR DELETE ON worm_heads
    FOR EACH ROW EXECUTE FUNCTION worm_heads_guard();

-- A wallet's head (seq, head_hash) and its balances move only with a ledger entry appended.
CREATE FUNCTION wallets_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'wallets is append-only';
    END IF;
    IF NEW.seq = OLD.seq THEN
        IF NEW.buz_balance <> OLD.buz_balance OR NEW.pending_lock <> OLD.pending_lock
           OR NEW.head_hash IS DISTINCT FROM OLD.head_hash THEN
            RAISE EXCEPTION 'wallets is append-only: balances move only with a ledger entry';
        END IF;
    ELSIF NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
        SELECT 1 FROM wallet_ledgers
        WHERE wallet_id = NEW.id AND seq = NEW.seq AND hash = NEW.head_hash
          AND balance_after = NEW.buz_balance
    ) THEN
        RAISE EXCEPTION 'wallets is append-only: a head moves only onto the entry appended';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallets_guard BEFORE UPDATE OR DELETE ON wallets
    FOR EACH ROW EXECUTE FUNCTION wallets_guard();
