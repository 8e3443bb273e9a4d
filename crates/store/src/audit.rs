//! The audit log: append-only, per org.

use crate::{get_opt_parsed, get_parsed, get_ts, ms, AuditRow, NewAudit, Result, StoreError, Tx};
use convene_domain::{AuditId, OrgId};
use jiff::Timestamp;
use sqlx::Row;

impl Tx {
    pub async fn insert_audit(&mut self, e: &NewAudit, now: Timestamp) -> Result<AuditId> {
        let id = AuditId::new();
        sqlx::query(
            "INSERT INTO audit_log (id, org_id, actor_user_id, actor_label, action, target_type, \
             target_id, target_label, details, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(e.org_id.to_string())
        .bind(e.actor_user_id.map(|u| u.to_string()))
        .bind(&e.actor_label)
        .bind(&e.action)
        .bind(&e.target_type)
        .bind(e.target_id.as_deref())
        .bind(&e.target_label)
        .bind(e.details.to_string())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(id)
    }

    /// Newest first; `before` is the id of the last entry of the previous page.
    pub async fn audit_log(
        &mut self,
        org: OrgId,
        action_prefix: Option<&str>,
        before: Option<AuditId>,
        limit: u32,
    ) -> Result<Vec<AuditRow>> {
        let mut sql = String::from(
            "SELECT id, org_id, actor_user_id, actor_label, action, target_type, target_id, \
             target_label, details, at FROM audit_log WHERE org_id = $1",
        );
        let mut binds = vec![org.to_string()];
        if let Some(p) = action_prefix.filter(|p| !p.is_empty()) {
            let escaped = p
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            binds.push(format!("{escaped}%"));
            sql.push_str(&format!(" AND action LIKE ${} ESCAPE '\\'", binds.len()));
        }
        if let Some(b) = before {
            binds.push(b.to_string());
            sql.push_str(&format!(" AND id < ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 500)));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter()
            .map(|r| {
                let details: String = r.try_get("details")?;
                Ok(AuditRow {
                    id: get_parsed(r, "id")?,
                    org_id: get_parsed(r, "org_id")?,
                    actor_user_id: get_opt_parsed(r, "actor_user_id")?,
                    actor_label: r.try_get("actor_label")?,
                    action: r.try_get("action")?,
                    target_type: r.try_get("target_type")?,
                    target_id: r.try_get("target_id")?,
                    target_label: r.try_get("target_label")?,
                    details: serde_json::from_str(&details)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    at: get_ts(r, "at")?,
                })
            })
            .collect()
    }
}
