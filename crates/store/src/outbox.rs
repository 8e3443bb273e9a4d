//! The local mail outbox: where email lands when no SMTP server is configured.

use crate::{
    get_opt_parsed, get_parsed, get_ts, ms, NewOutboxMessage, OutboxRow, Result, StoreError, Tx,
};
use convene_domain::{OrgId, OutboxId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str =
    "id, org_id, to_addr, subject, text_body, html_body, calendar, message_key, created_at";

fn from_row(r: &AnyRow) -> Result<OutboxRow> {
    Ok(OutboxRow {
        id: get_parsed(r, "id")?,
        org_id: get_opt_parsed(r, "org_id")?,
        to: r.try_get("to_addr")?,
        subject: r.try_get("subject")?,
        text_body: r.try_get("text_body")?,
        html_body: r.try_get("html_body")?,
        calendar: r.try_get("calendar")?,
        created_at: get_ts(r, "created_at")?,
    })
}

impl Tx {
    pub async fn insert_outbox(
        &mut self,
        m: &NewOutboxMessage,
        now: Timestamp,
    ) -> Result<OutboxId> {
        let id = OutboxId::new();
        sqlx::query(&format!(
            // A message key makes a redelivered message (a job retried after a crash)
            // a no-op, so each message lands once.
            "INSERT INTO outbox ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (message_key) DO NOTHING"
        ))
        .bind(id.to_string())
        .bind(m.org_id.map(|o| o.to_string()))
        .bind(&m.to)
        .bind(&m.subject)
        .bind(&m.text_body)
        .bind(m.html_body.as_deref())
        .bind(m.calendar.as_deref())
        .bind(m.message_key.as_deref())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(id)
    }

    /// Newest first.
    pub async fn outbox(
        &mut self,
        org: OrgId,
        to: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let limit = limit.clamp(1, 500);
        let to_filter = if to.is_some() {
            " AND LOWER(to_addr) = $2"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLS} FROM outbox WHERE org_id = $1{to_filter} ORDER BY id DESC LIMIT {limit}"
        );
        let mut q = sqlx::query(&sql).bind(org.to_string());
        if let Some(to) = to {
            q = q.bind(to.to_lowercase());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn outbox_message(&mut self, org: OrgId, id: OutboxId) -> Result<OutboxRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM outbox WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }
}
