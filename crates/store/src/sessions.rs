//! Server-side web sessions, keyed by the hash of the cookie's token.

use crate::users::{user_from_row, USER_COLS};
use crate::{get_ts, ms, Result, SessionRow, StoreError, Tx};
use convene_domain::{OrgId, UserId};
use jiff::Timestamp;
use sqlx::Row;

impl Tx {
    pub async fn insert_session(
        &mut self,
        token_hash: &str,
        user: UserId,
        org: OrgId,
        csrf_token: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, org_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(token_hash)
        .bind(user.to_string())
        .bind(org.to_string())
        .bind(csrf_token)
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    /// The session and its user, if the session exists and has not expired.
    pub async fn session(&mut self, token_hash: &str, now: Timestamp) -> Result<SessionRow> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS}, s.csrf_token, s.created_at AS s_created_at, s.last_seen_at, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        ))
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(SessionRow {
            user: user_from_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            created_at: get_ts(&row, "s_created_at")?,
            last_seen_at: get_ts(&row, "last_seen_at")?,
            expires_at: get_ts(&row, "expires_at")?,
        })
    }

    /// Slides the idle expiry forward.
    pub async fn touch_session(
        &mut self,
        token_hash: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(ms(now))
            .bind(ms(expires_at))
            .bind(token_hash)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Ends every session of a user at once; returns how many there were.
    pub async fn delete_sessions_of_user(&mut self, user: UserId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }

    pub async fn delete_expired_sessions(&mut self, now: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected())
    }
}
