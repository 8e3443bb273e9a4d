-- The Users table counts every filter from (role, status, needs action) groups; this
-- covering index lets that be an index-only scan of one org's users.
CREATE INDEX users_counts ON users (org_id, role, status, action_reasons);
