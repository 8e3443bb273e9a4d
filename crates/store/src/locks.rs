//! Admin edit locks, shared by every server instance through the database.

use crate::{get_parsed, get_ts, ms, Dialect, LockRow, Result, Tx};
use convene_domain::{OrgId, UserId};
use jiff::Timestamp;
use sqlx::Row;

/// What happened when an admin asked for a lock.
#[derive(Debug, Clone)]
pub enum LockOutcome {
    /// The caller holds the lock now (freshly, or it already did).
    Held(LockRow),
    /// Someone else holds it and is not idle; `takeover` was not asked.
    HeldByOther(LockRow),
}

impl Tx {
    pub async fn lock(&mut self, org: OrgId, resource: &str) -> Result<Option<LockRow>> {
        let for_update = if self.dialect == Dialect::Postgres {
            " FOR UPDATE OF l"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "SELECT l.resource, l.holder_user_id, COALESCE(u.name, u.email) AS holder_name, l.token, \
             l.acquired_at, l.heartbeat_at FROM admin_locks l JOIN users u ON u.id = l.holder_user_id \
             WHERE l.org_id = $1 AND l.resource = $2{for_update}"
        ))
        .bind(org.to_string())
        .bind(resource)
        .fetch_optional(&mut *self.inner)
        .await?;
        row.map(|r| {
            Ok(LockRow {
                resource: r.try_get("resource")?,
                holder_user_id: get_parsed(&r, "holder_user_id")?,
                holder_name: r.try_get("holder_name")?,
                token: r.try_get("token")?,
                acquired_at: get_ts(&r, "acquired_at")?,
                heartbeat_at: get_ts(&r, "heartbeat_at")?,
            })
        })
        .transpose()
    }

    /// Takes the lock for `user` when it is free, idle since before `idle_cutoff`,
    /// already the user's (its token is kept, so a second tab does not lock out the
    /// first), or when `takeover` is asked.
    #[allow(clippy::too_many_arguments)]
    pub async fn acquire_lock(
        &mut self,
        org: OrgId,
        resource: &str,
        user: UserId,
        new_token: &str,
        now: Timestamp,
        idle_cutoff: Timestamp,
        takeover: bool,
    ) -> Result<LockOutcome> {
        // Make sure a row exists, so that the read below can lock it on PostgreSQL.
        sqlx::query(
            "INSERT INTO admin_locks (org_id, resource, holder_user_id, token, acquired_at, heartbeat_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (org_id, resource) DO NOTHING",
        )
        .bind(org.to_string())
        .bind(resource)
        .bind(user.to_string())
        .bind(new_token)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        let current = self
            .lock(org, resource)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        if current.holder_user_id == user {
            sqlx::query(
                "UPDATE admin_locks SET heartbeat_at = $1 WHERE org_id = $2 AND resource = $3",
            )
            .bind(ms(now))
            .bind(org.to_string())
            .bind(resource)
            .execute(&mut *self.inner)
            .await?;
            return Ok(LockOutcome::Held(LockRow {
                heartbeat_at: now,
                ..current
            }));
        }
        if current.heartbeat_at >= idle_cutoff && !takeover {
            return Ok(LockOutcome::HeldByOther(current));
        }
        sqlx::query(
            "UPDATE admin_locks SET holder_user_id = $1, token = $2, acquired_at = $3, heartbeat_at = $3 \
             WHERE org_id = $4 AND resource = $5",
        )
        .bind(user.to_string())
        .bind(new_token)
        .bind(ms(now))
        .bind(org.to_string())
        .bind(resource)
        .execute(&mut *self.inner)
        .await?;
        Ok(LockOutcome::Held(
            self.lock(org, resource)
                .await?
                .ok_or(crate::StoreError::NotFound)?,
        ))
    }

    /// Keeps a held lock alive; `false` when the token no longer holds it.
    pub async fn heartbeat_lock(
        &mut self,
        org: OrgId,
        resource: &str,
        token: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query("UPDATE admin_locks SET heartbeat_at = $1 WHERE org_id = $2 AND resource = $3 AND token = $4")
            .bind(ms(now))
            .bind(org.to_string())
            .bind(resource)
            .bind(token)
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn release_lock(&mut self, org: OrgId, resource: &str, token: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM admin_locks WHERE org_id = $1 AND resource = $2 AND token = $3",
        )
        .bind(org.to_string())
        .bind(resource)
        .bind(token)
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
