-- Membership is an invitation until the invited user accepts: a pending invitation grants
-- nothing (the user is not in venture_members or team_members until then). One invitation per
-- user and group; inviting again changes its role.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    group_kind TEXT NOT NULL CHECK (group_kind IN ('venture', 'team')),
    group_id TEXT NOT NULL,
    venture_id TEXT NOT NULL REFERENCES ventures(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (group_kind, group_id, user_id)
);
CREATE INDEX invitations_by_user ON invitations (user_id, created_at);
CREATE INDEX invitations_by_group ON invitations (group_kind, group_id);
