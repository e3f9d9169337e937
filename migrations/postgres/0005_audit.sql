-- The WORM audit log: one hash chain per scope (venture:{id}, user:{id}, system). Rows are
-- only ever inserted: the triggers refuse UPDATE and DELETE.
CREATE TABLE worm_audits (
    id TEXT PRIMARY KEY,
    scope TEXT NOT NULL,
    seq BIGINT NOT NULL,
    ref_id TEXT,
    actor_id TEXT,
    action TEXT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    prev_hash TEXT,
    hash TEXT NOT NULL,
    UNIQUE (scope, seq)
);

-- The head of each chain, so that concurrent appends to a scope queue on one row.
CREATE TABLE worm_heads (
    scope TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT
);

CREATE FUNCTION worm_audits_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'worm_audits is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER worm_audits_no_update BEFORE UPDATE ON worm_audits
    FOR EACH ROW EXECUTE FUNCTION worm_audits_refuse();

CREATE TRIGGER worm_audits_no_delete BEFORE DELETE ON worm_audits
    FOR EACH ROW EXECUTE FUNCTION worm_audits_refuse();
