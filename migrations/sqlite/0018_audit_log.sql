-- The Merkle log (RFC 6962) over every WORM audit entry and every ledger entry, in commit
-- order. One row per commit that appended: its first leaf's index, how many leaves, and the
-- leaves as a JSON array of [kind, chain, seq, hash] (which chain, which seq, the entry's hash
-- as logged; a leaf is rebuilt from these, see hub_rooms::merkle). One row per commit, not per
-- leaf, so the log costs one insert per commit whatever the number of entries. The tree's
-- right edge is the head's `peaks`; the roots of its perfect subtrees of 256 leaves and more are
-- kept in audit_log_nodes (smaller ones are folded from the leaves when a proof needs them).
CREATE TABLE audit_log (
    first_idx BIGINT PRIMARY KEY,
    count BIGINT NOT NULL CHECK (count > 0),
    leaves TEXT NOT NULL
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
