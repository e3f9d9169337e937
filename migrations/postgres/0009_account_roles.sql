-- The account role of each user, as their last token said (`user`, `admin`, `system`): who to
-- tell when something needs an operator.
ALTER TABLE users ADD COLUMN account_role TEXT NOT NULL DEFAULT 'user';
