//! Organizations (tenants).

use crate::{conflict, get_parsed, get_ts, ms, OrgRow, Result, StoreError, Tx};
use convene_domain::OrgId;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

fn org_from_row(r: &AnyRow) -> Result<OrgRow> {
    Ok(OrgRow {
        id: get_parsed(r, "id")?,
        slug: r.try_get("slug")?,
        name: r.try_get("name")?,
        uses_salesforce: crate::users::get_bool(r, "uses_salesforce")?,
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

const COLS: &str = "id, slug, name, uses_salesforce, created_at, updated_at";

impl Tx {
    pub async fn insert_org(
        &mut self,
        id: OrgId,
        slug: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO orgs (id, slug, name, uses_salesforce, created_at, updated_at) \
             VALUES ($1, $2, $3, FALSE, $4, $4)",
        )
        .bind(id.to_string())
        .bind(slug)
        .bind(name)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("organization slug"))?;
        Ok(())
    }

    pub async fn org(&mut self, id: OrgId) -> Result<OrgRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM orgs WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }

    pub async fn org_by_slug(&mut self, slug: &str) -> Result<OrgRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM orgs WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        org_from_row(&row)
    }

    pub async fn update_org(
        &mut self,
        id: OrgId,
        name: &str,
        uses_salesforce: bool,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE orgs SET name = $1, uses_salesforce = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(uses_salesforce)
        .bind(ms(now))
        .bind(id.to_string())
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Whether any user exists at all: a fresh install offers the setup page.
    pub async fn any_user_exists(&mut self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) t")
            .fetch_one(&mut *self.inner)
            .await?;
        Ok(n > 0)
    }
}
