-- The plain hash-chained ledger the hub's domain write path is measured against
-- (`loadtest/bench.sh ledger`): a wallet row holds its balance, its last seq and the SHA-256
-- head of its chain; each credit is one statement that moves the wallet and appends the entry
-- whose hash chains on the previous head. `:wallets` wallets, created empty.
DROP TABLE IF EXISTS ledger_entries;
DROP TABLE IF EXISTS ledger_wallets;
CREATE TABLE ledger_wallets (
    id BIGINT PRIMARY KEY,
    balance BIGINT NOT NULL DEFAULT 0,
    seq BIGINT NOT NULL DEFAULT 0,
    head BYTEA NOT NULL DEFAULT '\x'
);
CREATE TABLE ledger_entries (
    wallet BIGINT NOT NULL REFERENCES ledger_wallets (id),
    seq BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    balance BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (wallet, seq)
);
INSERT INTO ledger_wallets (id) SELECT generate_series(1, :wallets);
