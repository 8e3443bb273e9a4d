//! The durable job queue. A job is enqueued in the transaction of the change that
//! causes it, claimed under a lease (so a crashed worker's job is picked up again),
//! deleted when done, rescheduled with backoff when it fails, and kept as `dead` when
//! it has no attempts left.

use crate::{
    get_opt_parsed, get_parsed, get_ts, ms, Dialect, JobRow, JobStatus, NewJob, Result, StoreError,
    Tx,
};
use convene_domain::{JobId, OrgId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str = "id, kind, payload, dedupe_key, org_id, status, attempts, max_attempts, run_at, last_error, created_at";

fn from_row(r: &AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: get_parsed(r, "id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        dedupe_key: r.try_get("dedupe_key")?,
        org_id: get_opt_parsed(r, "org_id")?,
        status: get_parsed(r, "status")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        run_at: get_ts(r, "run_at")?,
        last_error: r.try_get("last_error")?,
        created_at: get_ts(r, "created_at")?,
    })
}

impl Tx {
    /// Enqueues a job; `None` when a job with the same dedupe key already exists.
    pub async fn enqueue(&mut self, job: &NewJob, now: Timestamp) -> Result<Option<JobId>> {
        let id = JobId::new();
        let done = sqlx::query(
            "INSERT INTO jobs (id, kind, payload, dedupe_key, org_id, status, attempts, max_attempts, \
             run_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $7, $8, $8) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(id.to_string())
        .bind(&job.kind)
        .bind(&job.payload)
        .bind(job.dedupe_key.as_deref())
        .bind(job.org_id.map(|o| o.to_string()))
        .bind(job.max_attempts)
        .bind(ms(job.run_at))
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok((done.rows_affected() == 1).then_some(id))
    }

    /// Claims the next due job (or one whose worker's lease ran out) until `lease_until`.
    pub async fn claim_job(
        &mut self,
        now: Timestamp,
        lease_until: Timestamp,
    ) -> Result<Option<JobRow>> {
        let lock = if self.dialect == Dialect::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let row = sqlx::query(&format!(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = $2, updated_at = $1 \
             WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $1) \
             OR (status = 'running' AND locked_until < $1) ORDER BY run_at, id LIMIT 1{lock}) \
             RETURNING {COLS}"
        ))
        .bind(ms(now))
        .bind(ms(lease_until))
        .fetch_optional(&mut *self.inner)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn complete_job(&mut self, id: JobId) -> Result<()> {
        sqlx::query("DELETE FROM jobs WHERE id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// Records a failure: retried at `retry_at`, or dead when `None`.
    pub async fn fail_job(
        &mut self,
        id: JobId,
        error: &str,
        retry_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let error: String = error.chars().take(2000).collect();
        match retry_at {
            Some(at) => sqlx::query(
                "UPDATE jobs SET status = 'queued', run_at = $1, locked_until = NULL, last_error = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(ms(at))
            .bind(error)
            .bind(ms(now))
            .bind(id.to_string()),
            None => sqlx::query(
                "UPDATE jobs SET status = 'dead', locked_until = NULL, last_error = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(error)
            .bind(ms(now))
            .bind(id.to_string()),
        }
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }

    pub async fn jobs(
        &mut self,
        org: Option<OrgId>,
        status: Option<JobStatus>,
        limit: u32,
    ) -> Result<Vec<JobRow>> {
        let mut sql = format!("SELECT {COLS} FROM jobs WHERE 1 = 1");
        let mut binds = Vec::new();
        if let Some(o) = org {
            binds.push(o.to_string());
            sql.push_str(&format!(" AND org_id = ${}", binds.len()));
        }
        if let Some(s) = status {
            binds.push(s.as_str().to_string());
            sql.push_str(&format!(" AND status = ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit.clamp(1, 1000)));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter().map(from_row).collect()
    }

    /// Puts a dead job of `org` back in the queue with fresh attempts.
    pub async fn retry_dead_job(&mut self, org: OrgId, id: JobId, now: Timestamp) -> Result<()> {
        let done = sqlx::query(
            "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, updated_at = $1 \
             WHERE id = $2 AND org_id = $3 AND status = 'dead'",
        )
        .bind(ms(now))
        .bind(id.to_string())
        .bind(org.to_string())
        .execute(&mut *self.inner)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Jobs waiting or running, and dead ones.
    pub async fn queue_depth(&mut self) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN status <> 'dead' THEN 1 ELSE 0 END), 0) AS live, \
             COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) AS dead FROM jobs",
        )
        .fetch_one(&mut *self.inner)
        .await?;
        Ok((row.try_get("live")?, row.try_get("dead")?))
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
