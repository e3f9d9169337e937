-- Gamification: profiles (one per known user, created on first use with the defaults), the
-- facts badge rules read, XP as a ledger, skills and endorsements, badges and their awards,
-- portfolios. Booleans are BIGINT 0/1 so that both backends read them alike.
CREATE TABLE profiles (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    nickname TEXT,
    avatar_url TEXT,
    bio TEXT,
    location TEXT,
    website_url TEXT,
    theme TEXT NOT NULL DEFAULT 'auto',
    is_public BIGINT NOT NULL DEFAULT 1,
    xp BIGINT NOT NULL DEFAULT 0,
    level BIGINT NOT NULL DEFAULT 1,
    -- Reputation in thousandths, and the last UTC day (days since 1970-01-01) folded into it.
    rep_milli BIGINT NOT NULL DEFAULT 0,
    rep_day BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE INDEX profiles_by_xp ON profiles (xp);

-- What events in and the hub's own data say of a user, for badge rules (and BUZ gates).
CREATE TABLE user_stats (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    tasks_accepted BIGINT NOT NULL DEFAULT 0,
    critical_bugs BIGINT NOT NULL DEFAULT 0,
    helpful_reviews BIGINT NOT NULL DEFAULT 0,
    reviews BIGINT NOT NULL DEFAULT 0,
    reviews_agreed BIGINT NOT NULL DEFAULT 0,
    kyc_status TEXT NOT NULL DEFAULT 'NONE',
    device_compliant_days BIGINT NOT NULL DEFAULT 0,
    device_last_date TEXT,
    device_last_compliant BIGINT,
    policy_violations BIGINT NOT NULL DEFAULT 0,
    endorsements_received BIGINT NOT NULL DEFAULT 0,
    endorsement_rating_sum BIGINT NOT NULL DEFAULT 0,
    equity_conversions BIGINT NOT NULL DEFAULT 0,
    first_window_conversions BIGINT NOT NULL DEFAULT 0
);

-- Every XP grant: the profile's xp is their sum. One grant per (user, source, ref).
CREATE TABLE xp_events (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    source TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    amount BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, source, ref_id)
);
CREATE INDEX xp_events_by_user ON xp_events (user_id, created_at);

-- The skill catalog; `key` is the lowercased name, so names are unique whatever the case.
CREATE TABLE skills (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE user_skills (
    user_id TEXT NOT NULL REFERENCES users(id),
    skill_key TEXT NOT NULL REFERENCES skills(key),
    evidence_url TEXT,
    verified BIGINT NOT NULL DEFAULT 0,
    verified_by TEXT,
    verified_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, skill_key)
);

CREATE TABLE endorsements (
    id TEXT PRIMARY KEY,
    endorser_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    skill_key TEXT NOT NULL,
    rating BIGINT NOT NULL,
    note TEXT,
    -- The endorser's trust weight when they endorsed, in thousandths.
    weight_milli BIGINT NOT NULL,
    xp BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (endorser_id, user_id, skill_key)
);
CREATE INDEX endorsements_by_endorser ON endorsements (endorser_id, created_at);
CREATE INDEX endorsements_by_user ON endorsements (user_id, created_at);

CREATE TABLE badges (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    rule TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One award per user and badge.
CREATE TABLE badge_awards (
    user_id TEXT NOT NULL REFERENCES users(id),
    code TEXT NOT NULL REFERENCES badges(code),
    reason TEXT NOT NULL,
    awarded_by TEXT,
    awarded_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, code)
);
CREATE INDEX badge_awards_by_code ON badge_awards (code);

CREATE TABLE portfolio_items (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    artifact_url TEXT,
    buz BIGINT,
    impact TEXT NOT NULL,
    is_public BIGINT NOT NULL,
    task_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX portfolio_by_user ON portfolio_items (user_id, id);
