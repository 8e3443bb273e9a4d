//! API keys: shown once, stored as a lookup prefix plus a hash of the whole key.

use crate::{conflict, get_opt_ts, get_parsed, get_ts, ms, ApiKeyRow, Result, StoreError, Tx};
use convene_domain::{ApiKeyId, OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str =
    "id, org_id, user_id, name, prefix, key_hash, created_at, last_used_at, revoked_at";

fn from_row(r: &AnyRow) -> Result<ApiKeyRow> {
    Ok(ApiKeyRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        user_id: get_parsed(r, "user_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        key_hash: r.try_get("key_hash")?,
        created_at: get_ts(r, "created_at")?,
        last_used_at: get_opt_ts(r, "last_used_at")?,
        revoked_at: get_opt_ts(r, "revoked_at")?,
    })
}

impl Tx {
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_api_key(
        &mut self,
        id: ApiKeyId,
        org: OrgId,
        user: UserId,
        name: &str,
        prefix: &str,
        key_hash: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO api_keys ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, NULL)"
        ))
        .bind(id.to_string())
        .bind(org.to_string())
        .bind(user.to_string())
        .bind(name)
        .bind(prefix)
        .bind(key_hash)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("an API key with this prefix"))?;
        Ok(())
    }

    pub async fn api_key_by_prefix(&mut self, prefix: &str) -> Result<ApiKeyRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM api_keys WHERE prefix = $1"))
            .bind(prefix)
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn touch_api_key(&mut self, id: ApiKeyId, now: Timestamp) -> Result<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(ms(now))
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    pub async fn api_keys(&mut self, org: OrgId) -> Result<Vec<ApiKeyRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM api_keys WHERE org_id = $1 ORDER BY id DESC"
        ))
        .bind(org.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn api_key(&mut self, org: OrgId, id: ApiKeyId) -> Result<ApiKeyRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM api_keys WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn revoke_api_key(&mut self, org: OrgId, id: ApiKeyId, now: Timestamp) -> Result<()> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL")
            .bind(ms(now))
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn revoke_api_keys_of_user(&mut self, user: UserId, now: Timestamp) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(user.to_string())
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected())
    }
}
