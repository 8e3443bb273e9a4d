//! Provider connections of users (calendar, conferencing, CRM): the bound provider
//! account, its sealed tokens, the refresh lease that makes a token refresh happen once
//! across every server instance, OAuth states and webhook receipts.

use crate::{
    conflict, get_opt_ts, get_parsed, get_ts, ms, ConnectionRow, NewConnection, OAuthStateRow,
    Result, StoreError, Tx,
};
use convene_domain::{OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str = "id, org_id, user_id, provider, purpose, status, external_account_id, external_org_id, \
    external_email, display_name, scopes, access_token, refresh_token, access_expires_at, connected_at, \
    last_refresh_at, last_used_at, last_error, last_error_at, refresh_lease_until, reauth_notified_at, \
    server_url, read_error, read_error_at, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<ConnectionRow> {
    Ok(ConnectionRow {
        id: r.try_get("id")?,
        org_id: get_parsed(r, "org_id")?,
        user_id: get_parsed(r, "user_id")?,
        provider: r.try_get("provider")?,
        purpose: r.try_get("purpose")?,
        status: r.try_get("status")?,
        external_account_id: r.try_get("external_account_id")?,
        external_org_id: r.try_get("external_org_id")?,
        external_email: r.try_get("external_email")?,
        display_name: r.try_get("display_name")?,
        scopes: r.try_get("scopes")?,
        access_token: r.try_get("access_token")?,
        refresh_token: r.try_get("refresh_token")?,
        access_expires_at: get_opt_ts(r, "access_expires_at")?,
        connected_at: get_opt_ts(r, "connected_at")?,
        last_refresh_at: get_opt_ts(r, "last_refresh_at")?,
        last_used_at: get_opt_ts(r, "last_used_at")?,
        last_error: r.try_get("last_error")?,
        last_error_at: get_opt_ts(r, "last_error_at")?,
        refresh_lease_until: get_opt_ts(r, "refresh_lease_until")?,
        reauth_notified_at: get_opt_ts(r, "reauth_notified_at")?,
        server_url: r.try_get("server_url")?,
        read_error: r.try_get("read_error")?,
        read_error_at: get_opt_ts(r, "read_error_at")?,
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

impl Tx {
    pub async fn connections_of_user(&mut self, user: UserId) -> Result<Vec<ConnectionRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM connections WHERE user_id = $1 ORDER BY provider, purpose"
        ))
        .bind(user.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The user's connection for a provider and purpose, if any.
    pub async fn connection(
        &mut self,
        user: UserId,
        provider: &str,
        purpose: &str,
    ) -> Result<Option<ConnectionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM connections WHERE user_id = $1 AND provider = $2 AND purpose = $3"
        ))
        .bind(user.to_string())
        .bind(provider)
        .bind(purpose)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The connections of several users for one provider and purpose.
    pub async fn connections_of_users(
        &mut self,
        users: &[UserId],
        provider: &str,
        purpose: &str,
    ) -> Result<Vec<ConnectionRow>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..users.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT {COLS} FROM connections WHERE provider = $1 AND purpose = $2 AND user_id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(provider).bind(purpose);
        for u in users {
            q = q.bind(u.to_string());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn connection_by_id(&mut self, id: &str) -> Result<ConnectionRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM connections WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// Who holds a provider account, in any org.
    pub async fn connection_by_external(
        &mut self,
        provider: &str,
        external_account_id: &str,
    ) -> Result<Option<ConnectionRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM connections WHERE provider = $1 AND external_account_id = $2"
        ))
        .bind(provider)
        .bind(external_account_id)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Stores a completed authorization: a new connection, or the user's existing one
    /// (same provider and purpose) updated in place. `connected_at` is kept when the same
    /// provider account is reauthorized and reset when a different one replaces it.
    pub async fn save_connection(
        &mut self,
        c: &NewConnection,
        now: Timestamp,
    ) -> Result<ConnectionRow> {
        sqlx::query(
            "INSERT INTO connections (id, org_id, user_id, provider, purpose, status, external_account_id, \
             external_org_id, external_email, display_name, scopes, access_token, refresh_token, access_expires_at, \
             connected_at, last_refresh_at, server_url, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 'active', $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $14, $14) \
             ON CONFLICT (user_id, provider, purpose) DO UPDATE SET status = 'active', \
             connected_at = CASE WHEN connections.external_account_id = excluded.external_account_id \
                 THEN COALESCE(connections.connected_at, excluded.connected_at) ELSE excluded.connected_at END, \
             external_account_id = excluded.external_account_id, external_org_id = excluded.external_org_id, \
             external_email = excluded.external_email, display_name = excluded.display_name, scopes = excluded.scopes, \
             access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
             access_expires_at = excluded.access_expires_at, last_refresh_at = excluded.last_refresh_at, \
             server_url = excluded.server_url, read_error = NULL, read_error_at = NULL, last_error = NULL, last_error_at = NULL, refresh_lease_until = NULL, refresh_lease_token = NULL, \
             reauth_notified_at = NULL, updated_at = excluded.updated_at",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(c.org_id.to_string())
        .bind(c.user_id.to_string())
        .bind(&c.provider)
        .bind(&c.purpose)
        .bind(&c.external_account_id)
        .bind(c.external_org_id.as_deref())
        .bind(c.external_email.as_deref())
        .bind(c.display_name.as_deref())
        .bind(c.scopes.as_deref())
        .bind(&c.access_token)
        .bind(c.refresh_token.as_deref())
        .bind(ms(c.access_expires_at))
        .bind(ms(now))
        .bind(c.server_url.as_deref())
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("a connection of this provider account"))?;
        self.recompute_action_reasons(c.user_id).await?;
        self.connection(c.user_id, &c.provider, &c.purpose)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Takes the refresh lease of a connection until `until`, unless another holder's
    /// lease is still running. Works across server instances: the row is the lock.
    pub async fn take_refresh_lease(
        &mut self,
        id: &str,
        token: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE connections SET refresh_lease_until = $1, refresh_lease_token = $2 \
             WHERE id = $3 AND status = 'active' AND (refresh_lease_until IS NULL OR refresh_lease_until < $4)",
        )
        .bind(ms(until))
        .bind(token)
        .bind(id)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_refresh_lease(&mut self, id: &str, token: &str) -> Result<()> {
        sqlx::query("UPDATE connections SET refresh_lease_until = NULL, refresh_lease_token = NULL WHERE id = $1 AND refresh_lease_token = $2")
            .bind(id)
            .bind(token)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Stores refreshed tokens. Written unconditionally (not only while the lease is
    /// ours): after a rotation the new refresh token is the only one that works.
    pub async fn store_refreshed_tokens(
        &mut self,
        id: &str,
        lease_token: &str,
        access: &str,
        refresh: Option<&str>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE connections SET access_token = $1, refresh_token = COALESCE($2, refresh_token), \
             access_expires_at = $3, last_refresh_at = $4, updated_at = $4, last_error = NULL, last_error_at = NULL, \
             refresh_lease_until = CASE WHEN refresh_lease_token = $5 THEN NULL ELSE refresh_lease_until END, \
             refresh_lease_token = CASE WHEN refresh_lease_token = $5 THEN NULL ELSE refresh_lease_token END \
             WHERE id = $6",
        )
        .bind(access)
        .bind(refresh)
        .bind(ms(expires_at))
        .bind(ms(now))
        .bind(lease_token)
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Marks an access token as expired (the provider answered 401 to it), unless it
    /// was already replaced by a refresh meanwhile.
    pub async fn expire_access_token(
        &mut self,
        id: &str,
        sealed_access: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE connections SET access_expires_at = $1 WHERE id = $2 AND access_token = $3",
        )
        .bind(ms(now))
        .bind(id)
        .bind(sealed_access)
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The grant is dead: the user must reconnect. Returns `true` the first time, so the
    /// caller emails the user once, not once per failing request.
    pub async fn mark_needs_reauth(
        &mut self,
        id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let row = self.connection_by_id(id).await?;
        sqlx::query(
            "UPDATE connections SET status = 'needs_reauth', last_error = $1, last_error_at = $2, updated_at = $2, \
             refresh_lease_until = NULL, refresh_lease_token = NULL, \
             reauth_notified_at = COALESCE(reauth_notified_at, $2) WHERE id = $3",
        )
        .bind(error)
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        self.recompute_action_reasons(row.user_id).await?;
        Ok(row.reauth_notified_at.is_none())
    }

    pub async fn record_connection_error(
        &mut self,
        id: &str,
        error: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE connections SET last_error = $1, last_error_at = $2 WHERE id = $3")
            .bind(error)
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// (id, sealed access token, sealed refresh token) of every connection that holds
    /// tokens, for re-sealing after a key rotation.
    pub async fn all_sealed_tokens(
        &mut self,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, access_token, refresh_token FROM connections \
             WHERE access_token IS NOT NULL OR refresh_token IS NOT NULL",
        )
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    r.try_get("access_token")?,
                    r.try_get("refresh_token")?,
                ))
            })
            .collect()
    }

    pub async fn replace_sealed_tokens(
        &mut self,
        id: &str,
        access: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<()> {
        sqlx::query("UPDATE connections SET access_token = $1, refresh_token = $2 WHERE id = $3")
            .bind(access)
            .bind(refresh)
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn touch_connection(&mut self, id: &str, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE connections SET last_used_at = $1 WHERE id = $2")
            .bind(ms(now))
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The provider revoked the grant (e.g. the app was uninstalled there): the
    /// credentials and the account binding are erased; the row stays as `revoked` so the
    /// user and admins see what happened.
    pub async fn revoke_connection(
        &mut self,
        id: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<()> {
        let row = self.connection_by_id(id).await?;
        sqlx::query(
            "UPDATE connections SET status = 'revoked', access_token = NULL, refresh_token = NULL, \
             access_expires_at = NULL, external_account_id = NULL, external_org_id = NULL, external_email = NULL, \
             scopes = NULL, refresh_lease_until = NULL, refresh_lease_token = NULL, last_error = $1, \
             last_error_at = $2, updated_at = $2 WHERE id = $3",
        )
        .bind(reason)
        .bind(ms(now))
        .bind(id)
        .execute(&mut *self.inner)
        .await?;
        self.recompute_action_reasons(row.user_id).await
    }

    /// Deletes a connection row and everything in it (ids and tokens).
    pub async fn delete_connection(&mut self, id: &str) -> Result<ConnectionRow> {
        let row = self.connection_by_id(id).await?;
        sqlx::query("DELETE FROM connections WHERE id = $1")
            .bind(id)
            .execute(&mut *self.inner)
            .await?;
        self.recompute_action_reasons(row.user_id).await?;
        Ok(row)
    }

    /// Removes every connection of a user and returns what was removed, so the caller
    /// can revoke the tokens at their providers.
    pub async fn delete_connections_of_user(&mut self, user: UserId) -> Result<Vec<ConnectionRow>> {
        let existing = self.connections_of_user(user).await?;
        sqlx::query("DELETE FROM connections WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        self.recompute_action_reasons(user).await?;
        Ok(existing)
    }

    /// Records a connection with only a status (no provider account); for tests of the
    /// "Action Required" rules and for connections entered by hand.
    pub async fn upsert_connection_status(
        &mut self,
        org: OrgId,
        user: UserId,
        provider: &str,
        purpose: &str,
        status: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (id, org_id, user_id, provider, purpose, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (user_id, provider, purpose) \
             DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(provider)
        .bind(purpose)
        .bind(status)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        self.recompute_action_reasons(user).await
    }

    pub async fn insert_oauth_state(
        &mut self,
        state_hash: &str,
        s: &OAuthStateRow,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, org_id, user_id, session_hash, provider, purpose, pkce_verifier, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(state_hash)
        .bind(s.org_id.to_string())
        .bind(s.user_id.to_string())
        .bind(&s.session_hash)
        .bind(&s.provider)
        .bind(&s.purpose)
        .bind(&s.pkce_verifier)
        .bind(ms(now))
        .bind(ms(s.expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// Marks an OAuth state used and returns it as it was before (so the caller can tell
    /// a replay by `used_at`). Unknown states are `NotFound`.
    pub async fn consume_oauth_state(
        &mut self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<OAuthStateRow> {
        let r = sqlx::query(
            "SELECT org_id, user_id, session_hash, provider, purpose, pkce_verifier, expires_at, used_at \
             FROM oauth_states WHERE state_hash = $1",
        )
        .bind(state_hash)
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        let row = OAuthStateRow {
            org_id: get_parsed(&r, "org_id")?,
            user_id: get_parsed(&r, "user_id")?,
            session_hash: r.try_get("session_hash")?,
            provider: r.try_get("provider")?,
            purpose: r.try_get("purpose")?,
            pkce_verifier: r.try_get("pkce_verifier")?,
            expires_at: get_ts(&r, "expires_at")?,
            used_at: get_opt_ts(&r, "used_at")?,
        };
        sqlx::query("UPDATE oauth_states SET used_at = $1, pkce_verifier = '' WHERE state_hash = $2 AND used_at IS NULL")
            .bind(ms(now))
            .bind(state_hash)
            .execute(&mut *self.inner)
            .await?;
        Ok(row)
    }

    pub async fn delete_expired_oauth_states(&mut self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
            .bind(ms(now))
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }

    /// Records an incoming webhook delivery; `false` when it was seen before.
    pub async fn record_webhook(
        &mut self,
        provider: &str,
        dedupe_key: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO webhook_receipts (provider, dedupe_key, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT (provider, dedupe_key) DO NOTHING",
        )
        .bind(provider)
        .bind(dedupe_key)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
