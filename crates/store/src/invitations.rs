//! Invitation tokens: stored as hashes, single use, expiring.

use crate::{get_opt_ts, get_parsed, get_ts, ms, InvitationRow, Result, StoreError, Tx};
use convene_domain::{InvitationId, OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;

fn from_row(r: &AnyRow) -> Result<InvitationRow> {
    Ok(InvitationRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        user_id: get_parsed(r, "user_id")?,
        created_at: get_ts(r, "created_at")?,
        expires_at: get_ts(r, "expires_at")?,
        used_at: get_opt_ts(r, "used_at")?,
        revoked_at: get_opt_ts(r, "revoked_at")?,
    })
}

impl Tx {
    /// Stores a new invitation and revokes every earlier one of the same user, so only
    /// the newest link works (Resend invite).
    pub async fn insert_invitation(
        &mut self,
        org: OrgId,
        user: UserId,
        token_hash: &str,
        invited_by: Option<UserId>,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<InvitationId> {
        self.revoke_invitations(user, now).await?;
        let id = InvitationId::new();
        sqlx::query(
            "INSERT INTO invitations (id, org_id, user_id, token_hash, invited_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(token_hash)
        .bind(invited_by.map(|u| u.to_string()))
        .bind(ms(now))
        .bind(ms(expires_at))
        .execute(&mut *self.inner)
        .await?;
        Ok(id)
    }

    pub async fn revoke_invitations(&mut self, user: UserId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE invitations SET revoked_at = $1 WHERE user_id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(ms(now))
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn invitation_by_token_hash(&mut self, token_hash: &str) -> Result<InvitationRow> {
        let row = sqlx::query(
            "SELECT id, org_id, user_id, created_at, expires_at, used_at, revoked_at \
             FROM invitations WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// Marks the invitation used; `false` if it was already used or revoked meanwhile
    /// (two tabs submitting the same link: only one wins).
    pub async fn use_invitation(&mut self, id: InvitationId, now: Timestamp) -> Result<bool> {
        let done = sqlx::query("UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL")
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The newest invitation of a user, to show when it was sent and until when it works.
    pub async fn latest_invitation(&mut self, user: UserId) -> Result<Option<InvitationRow>> {
        let row = sqlx::query(
            "SELECT id, org_id, user_id, created_at, expires_at, used_at, revoked_at \
             FROM invitations WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(user.to_string())
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(from_row).transpose()
    }
}
