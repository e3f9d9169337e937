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
-- largest first. Appends queue on it, which puts leaves in commit order.
CREATE TABLE audit_log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL,
    peaks TEXT NOT NULL
);
INSERT INTO audit_log_head (id, size, peaks) VALUES (1, 0, '');

CREATE FUNCTION audit_log_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_nodes_no_change BEFORE UPDATE OR DELETE ON audit_log_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();
CREATE TRIGGER audit_log_nodes_no_truncate BEFORE TRUNCATE ON audit_log_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();
CREATE TRIGGER audit_log_head_no_truncate BEFORE TRUNCATE ON audit_log_head
    FOR EACH STATEMENT EXECUTE FUNCTION worm_refuse_truncate();

-- The head only grows, onto leaves that exist.
CREATE FUNCTION audit_log_head_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit_log_head is append-only';
    END IF;
    IF NEW.size < OLD.size THEN
        RAISE EXCEPTION 'audit_log_head is append-only: the log never shrinks';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_head_guard BEFORE UPDATE OR DELETE ON audit_log_head
    FOR EACH ROW EXECUTE FUNCTION audit_log_head_guard();
