//! The token service: the one place that reads, refreshes and hands out provider
//! access tokens.
//!
//! A refresh happens **once per connection**, however many requests, jobs and server
//! instances need a token at the same moment (Zoom rotates refresh tokens: a second
//! refresh with the old token fails and would kill the connection):
//! - within an instance, callers for one connection queue on a per-connection mutex
//!   and re-read after it, so only the first refreshes;
//! - across instances, the refresher holds a lease on the connection row
//!   (`refresh_lease_until`); the others wait for the new token to appear.
//!
//! The new tokens are written the moment the provider returns them, in one statement,
//! before anything else. A crash in that window (between the provider's answer and the
//! commit) is the one way to lose a rotated token; the lease then expires, the next
//! refresh gets `invalid_grant`, and the connection becomes `needs_reauth` with one
//! email — loud, never silent.

use super::{CONFERENCING, ZOOM};
use crate::jobs::{self, Job};
use crate::mail::templates;
use crate::{audit, tokens as random, App};
use convene_providers::{ProviderError, Secret, TokenSet};
use convene_store::ConnectionRow;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Refresh this long before the access token expires.
pub const REFRESH_SKEW: SignedDuration = SignedDuration::from_secs(5 * 60);
/// How long a refresher may hold the lease before others may take over.
const LEASE: SignedDuration = SignedDuration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the user has no such connection")]
    NotConnected,
    #[error("the connection needs to be reauthorized by its user")]
    NeedsReauth,
    #[error("access was revoked from the provider's side")]
    Revoked,
    #[error("the provider failed: {0}")]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<convene_store::StoreError> for TokenError {
    fn from(e: convene_store::StoreError) -> Self {
        TokenError::Unexpected(e.into())
    }
}

/// Per-connection mutexes, so one instance sends one refresh per connection.
#[derive(Default)]
pub struct RefreshLocks(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

impl RefreshLocks {
    fn get(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_string()).or_default().clone()
    }
}

/// How long before expiry to refresh: [`REFRESH_SKEW`], or half the token's lifetime
/// when that is shorter (so a short-lived token is not refreshed on every call).
fn refresh_margin(c: &ConnectionRow) -> SignedDuration {
    match (c.access_expires_at, c.last_refresh_at) {
        (Some(exp), Some(issued)) => {
            let half = exp.duration_since(issued) / 2;
            if half < REFRESH_SKEW {
                half
            } else {
                REFRESH_SKEW
            }
        }
        _ => REFRESH_SKEW,
    }
}

enum Fresh {
    Token(Secret, String),
    Stale,
}

impl App {
    fn check_usable(c: &ConnectionRow) -> Result<(), TokenError> {
        match c.status.as_str() {
            "active" => Ok(()),
            "needs_reauth" => Err(TokenError::NeedsReauth),
            _ => Err(TokenError::Revoked),
        }
    }

    fn fresh(&self, c: &ConnectionRow, now: Timestamp) -> Result<Fresh, TokenError> {
        Self::check_usable(c)?;
        match (&c.access_token, c.access_expires_at) {
            (Some(sealed), Some(exp)) if exp.duration_since(now) > refresh_margin(c) => {
                Ok(Fresh::Token(self.open_secret(sealed)?, sealed.clone()))
            }
            _ => Ok(Fresh::Stale),
        }
    }

    async fn load_connection(&self, id: &str) -> Result<ConnectionRow, TokenError> {
        match self.store.read().await?.connection_by_id(id).await {
            Ok(c) => Ok(c),
            Err(convene_store::StoreError::NotFound) => Err(TokenError::NotConnected),
            Err(e) => Err(e.into()),
        }
    }

    /// A valid access token of the connection (refreshed first when it is about to
    /// expire), with its sealed form so a 401 can expire exactly that token.
    pub async fn access_token(&self, connection_id: &str) -> Result<(Secret, String), TokenError> {
        if let Fresh::Token(t, s) =
            self.fresh(&self.load_connection(connection_id).await?, self.now())?
        {
            return Ok((t, s));
        }
        let lock = self.refresh_locks.get(connection_id);
        let _guard = lock.lock().await;
        // Whoever held the mutex before us may have refreshed already.
        let waited_since = std::time::Instant::now();
        loop {
            let conn = self.load_connection(connection_id).await?;
            let now = self.now();
            if let Fresh::Token(t, s) = self.fresh(&conn, now)? {
                return Ok((t, s));
            }
            let lease_token = random::new_token();
            let until = now
                .saturating_add(LEASE)
                .map_err(|e| TokenError::Unexpected(e.into()))?;
            let mut tx = self.store.write().await?;
            let took = tx
                .take_refresh_lease(connection_id, &lease_token, now, until)
                .await?;
            tx.commit().await?;
            if took {
                return self.refresh_with_lease(conn, &lease_token).await;
            }
            // Another instance is refreshing: wait for its token (or its lease to lapse).
            if waited_since.elapsed() > Duration::from_secs(60) {
                return Err(TokenError::Provider(ProviderError::Transient(
                    "timed out waiting for another server's token refresh".into(),
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn refresh_with_lease(
        &self,
        conn: ConnectionRow,
        lease_token: &str,
    ) -> Result<(Secret, String), TokenError> {
        let Some(sealed_refresh) = conn.refresh_token.as_deref() else {
            self.needs_reauth(&conn, "there is no refresh token; connect again")
                .await?;
            return Err(TokenError::NeedsReauth);
        };
        let refresh = match self.open_secret(sealed_refresh) {
            Ok(r) => r,
            Err(e) => {
                // E.g. an instance configured with another encryption key: say so, and
                // free the lease so the refresh is not blocked for everyone.
                let mut tx = self.store.write().await?;
                tx.record_connection_error(
                    &conn.id,
                    &format!("cannot decrypt the refresh token: {e:#}"),
                    self.now(),
                )
                .await?;
                tx.release_refresh_lease(&conn.id, lease_token).await?;
                tx.commit().await?;
                return Err(TokenError::Unexpected(e.context(
                    "decrypting a refresh token (do all instances share the same key file?)",
                )));
            }
        };
        let result: Result<TokenSet, ProviderError> = match conn.provider.as_str() {
            ZOOM => self.providers.zoom.refresh(&refresh).await,
            crate::calendars::GOOGLE => self.providers.google.refresh(&refresh).await,
            crate::calendars::MICROSOFT => self.providers.microsoft.refresh(&refresh).await,
            other => Err(ProviderError::Rejected {
                status: 0,
                code: "unknown_provider".into(),
                message: format!("no token refresh for {other}"),
            }),
        };
        metrics::counter!("convene_token_refreshes_total", "provider" => conn.provider.clone(), "ok" => result.is_ok().to_string()).increment(1);
        let now = self.now();
        match result {
            Ok(set) => {
                let access = self
                    .seal(&set.access_token)
                    .map_err(|e| TokenError::Unexpected(anyhow::anyhow!("{e}")))?;
                let refresh = set
                    .refresh_token
                    .as_ref()
                    .map(|r| self.seal(r))
                    .transpose()
                    .map_err(|e| TokenError::Unexpected(anyhow::anyhow!("{e}")))?;
                let mut tx = self.store.write().await?;
                tx.store_refreshed_tokens(
                    &conn.id,
                    lease_token,
                    &access,
                    refresh.as_deref(),
                    set.expires_at,
                    now,
                )
                .await?;
                tx.commit().await?;
                Ok((set.access_token, access))
            }
            Err(ProviderError::NeedsReauth { reason }) => {
                self.needs_reauth(
                    &conn,
                    &format!("the provider refused to refresh the token: {reason}"),
                )
                .await?;
                Err(TokenError::NeedsReauth)
            }
            Err(e) => {
                let mut tx = self.store.write().await?;
                tx.record_connection_error(&conn.id, &format!("token refresh failed: {e}"), now)
                    .await?;
                tx.release_refresh_lease(&conn.id, lease_token).await?;
                tx.commit().await?;
                Err(TokenError::Provider(e))
            }
        }
    }

    /// Marks the connection `needs_reauth`, audits it, and emails the user — once.
    async fn needs_reauth(&self, conn: &ConnectionRow, why: &str) -> Result<(), TokenError> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let first = tx.mark_needs_reauth(&conn.id, why, now).await?;
        if first {
            let user = tx.user(conn.org_id, conn.user_id).await?;
            let org = tx.org(conn.org_id).await?;
            let mail = templates::needs_reauth(
                org.id,
                &user.email,
                &conn.provider,
                &format!("{}/settings/profile", self.settings.base_url),
            );
            jobs::enqueue(
                &mut tx,
                &Job::SendEmail(mail),
                Some(format!("needs_reauth:{}:{}", conn.id, now.as_millisecond())),
                now,
            )
            .await
            .map_err(|e| TokenError::Unexpected(anyhow::anyhow!("{e}")))?;
            audit::record_system(
                &mut tx,
                conn.org_id,
                &format!("{} token service", conn.provider),
                "connection.refresh_failed",
                audit::Target {
                    kind: "connection",
                    id: Some(conn.id.clone()),
                    label: &user.email,
                },
                serde_json::json!({"provider": conn.provider, "error": why}),
                now,
            )
            .await
            .map_err(|e| TokenError::Unexpected(anyhow::anyhow!("{e}")))?;
        }
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }

    /// Runs `call` with an access token; on a 401 the token is expired, refreshed and
    /// the call tried once more.
    pub async fn with_access_token<T, F, Fut>(
        &self,
        connection_id: &str,
        call: F,
    ) -> Result<T, TokenError>
    where
        F: Fn(Secret) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let (token, sealed) = self.access_token(connection_id).await?;
        match call(token).await {
            Err(ProviderError::Unauthorized) => {
                let mut tx = self.store.write().await?;
                tx.expire_access_token(connection_id, &sealed, self.now())
                    .await?;
                tx.commit().await?;
                let (token, _) = self.access_token(connection_id).await?;
                Ok(call(token).await?)
            }
            other => Ok(other?),
        }
    }

    /// The connection id of a user's Zoom conferencing connection.
    pub async fn zoom_connection_id(
        &self,
        user: convene_domain::UserId,
    ) -> Result<String, TokenError> {
        let mut tx = self.store.read().await?;
        tx.connection(user, ZOOM, CONFERENCING)
            .await?
            .map(|c| c.id)
            .ok_or(TokenError::NotConnected)
    }
}
