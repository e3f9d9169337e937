-- Wallets and the BUZ economy. A wallet's balance and pending lock change only with a ledger
-- entry written in the same transaction, under the wallet's row lock; the ledger is a hash
-- chain per wallet and the database refuses to rewrite it.
CREATE TABLE wallets (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    buz_balance BIGINT NOT NULL DEFAULT 0,
    pending_lock BIGINT NOT NULL DEFAULT 0,
    -- The ledger's head: its last seq and hash.
    seq BIGINT NOT NULL DEFAULT 0,
    head_hash TEXT,
    chain_address TEXT,
    chain_type TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (pending_lock >= 0 AND buz_balance >= pending_lock)
);

CREATE TABLE wallet_ledgers (
    id TEXT PRIMARY KEY,
    wallet_id TEXT NOT NULL REFERENCES wallets(id),
    seq BIGINT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('EARN', 'LOCK', 'UNLOCK', 'SPEND', 'ADJUST')),
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    task_id TEXT,
    review_id TEXT,
    conversion_id TEXT,
    note TEXT,
    created_at BIGINT NOT NULL,
    prev_hash TEXT,
    hash TEXT NOT NULL,
    UNIQUE (wallet_id, seq)
);
CREATE INDEX wallet_ledgers_by_time ON wallet_ledgers (wallet_id, type, created_at);
-- One credit per task ever.
CREATE UNIQUE INDEX wallet_ledgers_one_credit_per_task ON wallet_ledgers (task_id) WHERE type = 'EARN' AND task_id IS NOT NULL;

-- BUZ computed but not credited, and why.
CREATE TABLE buz_withheld (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX buz_withheld_by_user ON buz_withheld (user_id, id);
CREATE INDEX buz_withheld_by_task ON buz_withheld (task_id);

CREATE TABLE conversion_windows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    opens_at BIGINT NOT NULL,
    closes_at BIGINT NOT NULL,
    equity_rate_bps BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX conversion_windows_by_time ON conversion_windows (opens_at);

CREATE TABLE equity_conversions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    wallet_id TEXT NOT NULL REFERENCES wallets(id),
    window_id TEXT NOT NULL REFERENCES conversion_windows(id),
    venture_id TEXT NOT NULL REFERENCES ventures(id),
    buz_used BIGINT NOT NULL,
    status TEXT NOT NULL,
    equity_granted_bp BIGINT,
    note TEXT,
    decided_by TEXT,
    decided_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX equity_conversions_by_user ON equity_conversions (user_id, id);
CREATE INDEX equity_conversions_by_venture ON equity_conversions (venture_id, id);
CREATE INDEX equity_conversions_by_window ON equity_conversions (window_id, status);

-- Equity Pioneer gets its rule: an approved conversion in the first window there ever was.
UPDATE badges SET rule = '{"type":"THRESHOLD","conditions":[{"metric":"firstWindowConversions","op":"gte","value":1}]}'
WHERE code = 'equity_pioneer' AND rule = '{"type":"MANUAL"}';

CREATE FUNCTION wallet_ledgers_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'wallet_ledgers is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER wallet_ledgers_no_update BEFORE UPDATE ON wallet_ledgers
    FOR EACH ROW EXECUTE FUNCTION wallet_ledgers_refuse();

CREATE TRIGGER wallet_ledgers_no_delete BEFORE DELETE ON wallet_ledgers
    FOR EACH ROW EXECUTE FUNCTION wallet_ledgers_refuse();
