-- The Merkle log (RFC 6962) over every WORM audit entry and every ledger entry, in commit
-- order. A leaf per entry: which chain, which seq, the entry's hash (its leaf is rebuilt from
-- these, see hub_rooms::merkle), and SHA-256(0x00 || leaf) in hex. The tree's right edge is
-- the head's `peaks`; the roots of its perfect subtrees of 256 leaves and more are kept in
-- audit_log_nodes (smaller ones are folded from the leaves when a proof needs them).
CREATE TABLE audit_log (
    idx BIGINT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('audit', 'ledger')),
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    leaf_hash TEXT NOT NULL
);

CREATE TABLE audit_log_nodes (
    level SMALLINT NOT NULL,
    idx BIGINT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);

-- One row: how many leaves, and the hex roots of the perfect subtrees the size splits into,
-- largest first.
CREATE TABLE audit_log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    peaks TEXT NOT NULL
);
INSERT INTO audit_log_head (id, size, peaks) VALUES (1, 0, '');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_nodes_no_update BEFORE UPDATE ON audit_log_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_log_nodes is append-only');
END;
CREATE TRIGGER audit_log_nodes_no_delete BEFORE DELETE ON audit_log_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_log_nodes is append-only');
END;
CREATE TRIGGER audit_log_head_no_delete BEFORE DELETE ON audit_log_head
BEGIN
    SELECT RAISE(ABORT, 'audit_log_head is append-only');
END;
CREATE TRIGGER audit_log_head_guard BEFORE UPDATE ON audit_log_head
WHEN NEW.size < OLD.size
BEGIN
    SELECT RAISE(ABORT, 'audit_log_head is append-only: the log never shrinks');
END;
