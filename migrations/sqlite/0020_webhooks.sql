-- Webhooks: endpoints, and the outbox of deliveries written in the transaction of the change
-- they tell of. `seq` orders an endpoint's deliveries; the endpoint's lease gives one node
-- at a time the right to deliver them (in order, one after the other). Each try is logged;
-- `attempt` counts the tries since the delivery was made or last replayed.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    rooms TEXT,
    secret TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,
    leased_by TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE webhook_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (endpoint_id, state, seq);

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at BIGINT NOT NULL,
    status INTEGER,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    node TEXT NOT NULL,
    PRIMARY KEY (delivery_id, at, attempt)
);
