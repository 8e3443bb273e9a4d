//! Provider connections of a user (calendar, conferencing, CRM). The foundation only
//! needs to know whether a working one exists and to remove them all on deactivation;
//! the connection framework extends this with tokens and their lifecycle.

use crate::{get_parsed, ms, ConnectionRow, Result, Tx};
use convene_domain::{OrgId, UserId};
use jiff::Timestamp;
use sqlx::Row;

impl Tx {
    pub async fn connections_of_user(&mut self, user: UserId) -> Result<Vec<ConnectionRow>> {
        let rows = sqlx::query("SELECT id, user_id, provider, purpose, status FROM connections WHERE user_id = $1 ORDER BY provider, purpose")
            .bind(user.to_string())
            .fetch_all(&mut *self.inner)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ConnectionRow {
                    id: r.try_get("id")?,
                    user_id: get_parsed(r, "user_id")?,
                    provider: r.try_get("provider")?,
                    purpose: r.try_get("purpose")?,
                    status: r.try_get("status")?,
                })
            })
            .collect()
    }

    /// Records a connection (or updates its status), and re-derives the user's reasons.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_connection(
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

    /// Removes every connection of a user and returns what was removed, so the caller
    /// can revoke them at their providers.
    pub async fn delete_connections_of_user(&mut self, user: UserId) -> Result<Vec<ConnectionRow>> {
        let existing = self.connections_of_user(user).await?;
        sqlx::query("DELETE FROM connections WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        self.recompute_action_reasons(user).await?;
        Ok(existing)
    }
}
