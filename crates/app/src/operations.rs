//! What admins see of the machinery: the job queue (dead jobs and retrying them) and
//! the local mail outbox.

use crate::actor::Actor;
use crate::error::{AppResult, NotFoundAs};
use crate::App;
use convene_domain::{JobId, OutboxId, Permission};
use convene_store::{JobRow, JobStatus, OutboxRow};

impl App {
    /// Jobs of the caller's org (newest first), e.g. the dead ones.
    pub async fn jobs(&self, actor: &Actor, status: Option<JobStatus>) -> AppResult<Vec<JobRow>> {
        actor.require(Permission::ManageIntegrations)?;
        Ok(self
            .store
            .read()
            .await?
            .jobs(Some(actor.org_id), status, 200)
            .await?)
    }

    /// Puts a dead job back in the queue with fresh attempts.
    pub async fn retry_job(&self, actor: &Actor, id: JobId) -> AppResult<()> {
        actor.require(Permission::ManageIntegrations)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.retry_dead_job(actor.org_id, id, now)
            .await
            .or_not_found("dead job")?;
        crate::audit::record(
            &mut tx,
            actor,
            "job.retried",
            crate::audit::Target {
                kind: "job",
                id: Some(id.to_string()),
                label: "job",
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }

    /// The local outbox of the caller's org (when no SMTP server is configured). Admins
    /// only: it holds every Join Now link, including those of invited admins, which
    /// would let a custom admin who manages users become an admin.
    pub async fn outbox(&self, actor: &Actor, to: Option<&str>) -> AppResult<Vec<OutboxRow>> {
        actor.require_full_admin("read the mail outbox")?;
        Ok(self
            .store
            .read()
            .await?
            .outbox(actor.org_id, to, 200)
            .await?)
    }

    pub async fn outbox_message(&self, actor: &Actor, id: OutboxId) -> AppResult<OutboxRow> {
        actor.require_full_admin("read the mail outbox")?;
        self.store
            .read()
            .await?
            .outbox_message(actor.org_id, id)
            .await
            .or_not_found("message")
    }
}
