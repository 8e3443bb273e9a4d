//! Provider connections: binding a provider account to a Convene user (by user id,
//! never by email), keeping its tokens alive, and removing every trace of them on
//! disconnect, deactivation or revocation from the provider's side.
//!
//! **Architecture Invariant:** the token service ([`tokens`]) is the only code that
//! reads or refreshes tokens; everything else asks it for an access token.
//! **Architecture Invariant:** there is never a silent fallback: a connection that
//! cannot get a token is `needs_reauth` (the user is told once) or `revoked`, and the
//! user shows as "Action Required".

pub mod oauth;
pub mod tokens;
pub mod zoom_webhook;

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::jobs::{self, Job};
use crate::{audit, App};
use convene_domain::{Permission, UserId, UserStatus};
use convene_providers::zoom::ZoomClient;
use convene_providers::Secret;
use convene_store::{ConnectionRow, Tx};

pub const ZOOM: &str = "zoom";
pub const CONFERENCING: &str = "conferencing";

/// The provider clients this instance talks to (real providers or the sandbox).
pub struct Providers {
    pub zoom: ZoomClient,
    pub google: convene_providers::google::GoogleClient,
    pub microsoft: convene_providers::microsoft::MicrosoftClient,
    pub caldav: convene_providers::caldav::CalDavClient,
}

/// What a person may see of a connection: never a token.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub provider: String,
    pub purpose: String,
    pub status: String,
    pub account_id: Option<String>,
    pub account_email: Option<String>,
    pub display_name: Option<String>,
    pub connected_at: Option<jiff::Timestamp>,
    pub last_refresh_at: Option<jiff::Timestamp>,
    pub last_used_at: Option<jiff::Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<jiff::Timestamp>,
}

impl From<&ConnectionRow> for ConnectionView {
    fn from(c: &ConnectionRow) -> Self {
        Self {
            provider: c.provider.clone(),
            purpose: c.purpose.clone(),
            status: c.status.clone(),
            account_id: c.external_account_id.clone(),
            account_email: c.external_email.clone(),
            display_name: c.display_name.clone(),
            connected_at: c.connected_at,
            last_refresh_at: c.last_refresh_at,
            last_used_at: c.last_used_at,
            last_error: c.last_error.clone(),
            last_error_at: c.last_error_at,
        }
    }
}

/// Queues the revocation, at its provider, of a removed connection's grant (through
/// its refresh token, else its access token; nothing when it holds neither).
pub(crate) async fn enqueue_revoke(
    tx: &mut Tx,
    c: &ConnectionRow,
    now: jiff::Timestamp,
) -> AppResult<()> {
    let Some(sealed) = c.refresh_token.clone().or_else(|| c.access_token.clone()) else {
        return Ok(());
    };
    let job = Job::RevokeToken {
        provider: c.provider.clone(),
        sealed_token: sealed,
    };
    jobs::enqueue(tx, &job, None, now).await
}

impl App {
    /// One's own connections, or anyone's for those who manage users or integrations.
    fn require_connection_access(actor: &Actor, user: UserId) -> AppResult<()> {
        if user == actor.user_id
            || actor.can(Permission::ManageUsers)
            || actor.can(Permission::ManageIntegrations)
        {
            Ok(())
        } else {
            Err(AppError::Forbidden("see this user's connections".into()))
        }
    }

    pub async fn connections(&self, actor: &Actor, user: UserId) -> AppResult<Vec<ConnectionView>> {
        Self::require_connection_access(actor, user)?;
        let mut tx = self.store.read().await?;
        tx.user(actor.org_id, user).await.or_not_found("user")?;
        Ok(tx
            .connections_of_user(user)
            .await?
            .iter()
            .map(ConnectionView::from)
            .collect())
    }

    /// Disconnects a provider: revokes the token at the provider first, then deletes
    /// the account id and both tokens. A failed revocation is audited, and the local
    /// credentials are deleted all the same.
    pub async fn disconnect(&self, actor: &Actor, user: UserId, provider: &str) -> AppResult<()> {
        if user != actor.user_id {
            actor.require(Permission::ManageUsers)?;
        }
        let row = {
            let mut tx = self.store.read().await?;
            let target = tx.user(actor.org_id, user).await.or_not_found("user")?;
            tx.connection(target.id, provider, CONFERENCING)
                .await?
                .ok_or(AppError::NotFound("connection"))?
        };
        let revoke_error = self
            .revoke_sealed(
                provider,
                row.refresh_token.as_deref().or(row.access_token.as_deref()),
            )
            .await
            .err();
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.delete_connection(&row.id)
            .await
            .or_not_found("connection")?;
        let label = row
            .external_email
            .clone()
            .unwrap_or_else(|| provider.to_string());
        audit::record(
            &mut tx,
            actor,
            "connection.disconnected",
            audit::Target { kind: "connection", id: Some(row.id.clone()), label: &label },
            serde_json::json!({"provider": provider, "user": user.to_string(), "revoke_error": revoke_error}),
            now,
        )
        .await?;
        tx.commit().await?;
        if let Err(e) = self.store.purge_deleted().await {
            tracing::warn!(error = %e, "could not checkpoint the database after deleting credentials");
        }
        Ok(())
    }

    /// Re-seals every stored provider token with the current key (after
    /// `convene key rotate`); returns how many tokens were re-sealed.
    pub async fn reseal_tokens(&self) -> AppResult<usize> {
        let current = self.secrets.current_key_id().to_string();
        let mut tx = self.store.write().await?;
        let mut n = 0;
        for c in tx.all_sealed_tokens().await? {
            let mut fresh = |sealed: &Option<String>| -> AppResult<Option<String>> {
                match sealed {
                    Some(s)
                        if crate::secrets::SecretBox::key_id_of(s) != Some(current.as_str()) =>
                    {
                        let plain = self.secrets.open(s).map_err(AppError::Unexpected)?;
                        n += 1;
                        Ok(Some(
                            self.secrets.seal(&plain).map_err(AppError::Unexpected)?,
                        ))
                    }
                    other => Ok(other.clone()),
                }
            };
            let access = fresh(&c.1)?;
            let refresh = fresh(&c.2)?;
            tx.replace_sealed_tokens(&c.0, access.as_deref(), refresh.as_deref())
                .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Revokes a sealed token at its provider.
    pub(crate) async fn revoke_sealed(
        &self,
        provider: &str,
        sealed: Option<&str>,
    ) -> Result<(), String> {
        let Some(sealed) = sealed else { return Ok(()) };
        let token = self.open_secret(sealed).map_err(|e| format!("{e:#}"))?;
        match provider {
            ZOOM => self
                .providers
                .zoom
                .revoke(&token)
                .await
                .map_err(|e| e.to_string()),
            crate::calendars::GOOGLE => self
                .providers
                .google
                .revoke(&token)
                .await
                .map_err(|e| e.to_string()),
            // Microsoft offers no token revocation endpoint, and CalDAV credentials are
            // app passwords the user revokes at their server: deleting them is all.
            crate::calendars::MICROSOFT | crate::calendars::CALDAV => Ok(()),
            other => Err(format!("no revocation for provider {other}")),
        }
    }

    pub(crate) fn open_secret(&self, sealed: &str) -> anyhow::Result<Secret> {
        let bytes = self.secrets.open(sealed)?;
        Ok(Secret::new(String::from_utf8(bytes)?))
    }

    pub(crate) fn seal(&self, secret: &Secret) -> AppResult<String> {
        self.secrets
            .seal(secret.expose().as_bytes())
            .map_err(AppError::Unexpected)
    }

    /// Inside a deactivation: deletes every connection of the user now and queues the
    /// revocation of their tokens at the providers.
    pub(crate) async fn remove_connections_in(
        &self,
        tx: &mut Tx,
        user: UserId,
        now: jiff::Timestamp,
    ) -> AppResult<Vec<ConnectionRow>> {
        let removed = tx.delete_connections_of_user(user).await?;
        for c in &removed {
            enqueue_revoke(tx, c, now).await?;
        }
        Ok(removed)
    }

    /// Releases a provider-account binding held by a user who can no longer use it
    /// (deactivated, or whose connection is not working), so its owner can connect it
    /// to their current Convene user.
    pub async fn release_binding(
        &self,
        actor: &Actor,
        user: UserId,
        provider: &str,
    ) -> AppResult<()> {
        actor.require(Permission::ManageUsers)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let holder = tx.user(actor.org_id, user).await.or_not_found("user")?;
        let Some(row) = tx.connection(user, provider, CONFERENCING).await? else {
            return Err(AppError::NotFound("connection"));
        };
        if holder.status != UserStatus::Deactivated && row.status == "active" {
            return Err(AppError::Conflict {
                code: "binding_in_use",
                message: format!("{} is active and their {provider} connection works; they can disconnect it themselves", holder.email),
            });
        }
        tx.delete_connection(&row.id).await?;
        enqueue_revoke(&mut tx, &row, now).await?;
        let label = row
            .external_email
            .clone()
            .unwrap_or_else(|| provider.into());
        audit::record(
            &mut tx,
            actor,
            "connection.released",
            audit::Target {
                kind: "connection",
                id: Some(row.id.clone()),
                label: &label,
            },
            serde_json::json!({"provider": provider, "holder": holder.email}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }
}
