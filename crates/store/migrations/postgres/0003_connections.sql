-- The connection framework: provider accounts bound to users, with sealed tokens and the
-- bookkeeping of their lifecycle; OAuth states; deduplication of incoming webhooks.

ALTER TABLE connections ADD COLUMN external_account_id TEXT;
ALTER TABLE connections ADD COLUMN external_org_id TEXT;
ALTER TABLE connections ADD COLUMN external_email TEXT;
ALTER TABLE connections ADD COLUMN display_name TEXT;
ALTER TABLE connections ADD COLUMN scopes TEXT;
ALTER TABLE connections ADD COLUMN access_token TEXT;
ALTER TABLE connections ADD COLUMN refresh_token TEXT;
ALTER TABLE connections ADD COLUMN access_expires_at BIGINT;
ALTER TABLE connections ADD COLUMN connected_at BIGINT;
ALTER TABLE connections ADD COLUMN last_refresh_at BIGINT;
ALTER TABLE connections ADD COLUMN last_used_at BIGINT;
ALTER TABLE connections ADD COLUMN last_error TEXT;
ALTER TABLE connections ADD COLUMN last_error_at BIGINT;
ALTER TABLE connections ADD COLUMN refresh_lease_until BIGINT;
ALTER TABLE connections ADD COLUMN refresh_lease_token TEXT;
ALTER TABLE connections ADD COLUMN reauth_notified_at BIGINT;

-- One provider account ↔ one Convene user, across every org.
CREATE UNIQUE INDEX connections_by_external_account ON connections (provider, external_account_id)
    WHERE external_account_id IS NOT NULL;

CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES orgs(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    session_hash TEXT NOT NULL,
    provider TEXT NOT NULL,
    purpose TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE webhook_receipts (
    provider TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (provider, dedupe_key)
);
