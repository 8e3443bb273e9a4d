//! The workers that run queued jobs.

use super::{Job, RetryAfter};
use crate::App;
use convene_store::JobRow;
use jiff::SignedDuration;
use std::time::Duration;
use tokio::sync::watch;

/// Retry delay after the `attempt`-th failure: 5 s doubling per attempt up to one hour,
/// with ±20 % jitter so retries of a failed batch do not arrive together.
pub fn backoff(attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let base = 5u64.saturating_mul(1u64 << exp).min(3600);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    Duration::from_millis((base as f64 * 1000.0 * jitter) as u64)
}

/// Claims and runs one due job; `false` when none was due.
pub async fn run_one(app: &App) -> anyhow::Result<bool> {
    let now = app.now();
    let lease = SignedDuration::try_from(app.settings.job_lease)?;
    let mut tx = app.store.write().await?;
    let Some(row) = tx.claim_job(now, now.saturating_add(lease)?).await? else {
        return Ok(false);
    };
    tx.commit().await?;
    execute(app, row).await?;
    Ok(true)
}

async fn execute(app: &App, row: JobRow) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let outcome = match Job::parse(&row.kind, &row.payload) {
        Ok(job) => run(app, &job, row.attempts).await.map_err(|e| {
            let wait = e
                .chain()
                .find_map(|c| c.downcast_ref::<RetryAfter>())
                .map(|r| r.0);
            (format!("{e:#}"), true, wait)
        }),
        // A job this version cannot read will not get better by retrying.
        Err(e) => Err((e, false, None)),
    };
    let now = app.now();
    let mut tx = app.store.write().await?;
    match outcome {
        Ok(()) => {
            tx.complete_job(row.id).await?;
            metrics::counter!("convene_jobs_completed_total", "kind" => row.kind.clone())
                .increment(1);
        }
        Err((error, retryable, wait)) => {
            let delay = match wait {
                // The provider said when: honour it (a little later, never sooner).
                Some(w) => w.max(Duration::from_secs(1)),
                None => backoff(row.attempts),
            };
            let retry_at = (retryable && row.attempts < row.max_attempts)
                .then(|| now.saturating_add(SignedDuration::try_from(delay).unwrap_or_default()))
                .transpose()?;
            tracing::warn!(job = %row.id, kind = %row.kind, attempt = row.attempts, dead = retry_at.is_none(), %error, "job failed");
            tx.fail_job(row.id, &error, retry_at, now).await?;
            metrics::counter!("convene_jobs_failed_total", "kind" => row.kind.clone()).increment(1);
        }
    }
    tx.commit().await?;
    metrics::histogram!("convene_job_duration_seconds", "kind" => row.kind)
        .record(started.elapsed().as_secs_f64());
    Ok(())
}

async fn run(app: &App, job: &Job, attempt: i64) -> anyhow::Result<()> {
    match job {
        Job::SyncMeeting { booking_id } => app.sync_meeting(*booking_id, attempt).await,
        Job::SendEmail(m) => app.mailer.deliver(&app.store, app.now(), m).await,
        Job::RevokeToken {
            provider,
            sealed_token,
        } => {
            match app.revoke_sealed(provider, Some(sealed_token)).await {
                Ok(()) => Ok(()),
                // Already revoked or expired at the provider: nothing left to revoke.
                Err(e) if e.contains("invalid_grant") || e.contains("not found") => Ok(()),
                Err(e) => Err(anyhow::anyhow!("revoking a {provider} token: {e}")),
            }
        }
    }
}

/// Runs every job that is due now, one after another; returns how many ran. Tests use
/// it to drain the queue without waiting for the background workers.
pub async fn run_pending(app: &App) -> anyhow::Result<usize> {
    let mut n = 0;
    while run_one(app).await? {
        n += 1;
    }
    Ok(n)
}

/// A worker loop: runs due jobs, sleeps when there are none until woken or the poll
/// interval passes, and stops claiming when `shutdown` turns true (the job in hand is
/// finished first).
pub async fn worker(app: App, mut shutdown: watch::Receiver<bool>) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match run_one(&app).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "job worker error"),
        }
        tokio::select! {
            _ = app.job_signal.notified() => {}
            _ = tokio::time::sleep(app.settings.job_poll_interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_secs(4) && backoff(1) <= Duration::from_secs(6));
        assert!(backoff(3) >= Duration::from_secs(16));
        assert!(backoff(50) <= Duration::from_secs(3600 * 6 / 5));
    }
}
