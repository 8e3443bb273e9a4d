//! Background jobs: every side effect of a state change runs as one of these.
//!
//! A job is enqueued with [`enqueue`] on the caller's transaction, so it exists if and
//! only if the change committed. Workers ([`runner`]) claim jobs under a lease, run
//! them, and retry failures with exponential backoff until the job's attempts are
//! spent; then it is kept as `dead`, visible to admins, and can be retried by hand.
//! Handlers must be idempotent: a worker that crashes after doing the work but before
//! recording it makes the job run again.

pub mod runner;

use crate::error::{AppError, AppResult};
use crate::mail::OutgoingEmail;
use convene_domain::BookingId;
use convene_store::{NewJob, Tx};
use serde::{Deserialize, Serialize};

/// Every kind of job, with its payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Job {
    SendEmail(OutgoingEmail),
    /// Revokes a (sealed) token at its provider after its connection was removed.
    RevokeToken {
        provider: String,
        sealed_token: String,
    },
    /// Makes a booking's provider meeting match the booking (create, move, delete).
    SyncMeeting {
        booking_id: BookingId,
    },
}

/// A job error that says when to try again (a provider's `Retry-After`); the runner
/// waits at least this long instead of its usual backoff.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("retry after {0:?}")]
pub struct RetryAfter(pub std::time::Duration);

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::SendEmail(_) => "send_email",
            Job::RevokeToken { .. } => "revoke_token",
            Job::SyncMeeting { .. } => "sync_meeting",
        }
    }

    /// How often a job is tried before it is declared dead.
    fn max_attempts(&self) -> i64 {
        match self {
            // About a day of retries with the backoff below.
            Job::SendEmail(_) => 30,
            Job::RevokeToken { .. } => 12,
            // Two days of retries: a link that was promised is still sent once the
            // host reconnects Zoom.
            Job::SyncMeeting { .. } => 40,
        }
    }

    /// Payloads are stored without the enum tag: the kind column names it.
    fn payload(&self) -> AppResult<String> {
        let value = match self {
            Job::SendEmail(m) => serde_json::to_string(m),
            Job::RevokeToken {
                provider,
                sealed_token,
            } => serde_json::to_string(
                &serde_json::json!({"provider": provider, "sealed_token": sealed_token}),
            ),
            Job::SyncMeeting { booking_id } => {
                serde_json::to_string(&serde_json::json!({ "booking_id": booking_id }))
            }
        };
        value.map_err(|e| AppError::Unexpected(e.into()))
    }

    pub fn parse(kind: &str, payload: &str) -> Result<Self, String> {
        match kind {
            "send_email" => serde_json::from_str(payload)
                .map(Job::SendEmail)
                .map_err(|e| format!("bad send_email payload: {e}")),
            "revoke_token" => {
                #[derive(Deserialize)]
                struct Payload {
                    provider: String,
                    sealed_token: String,
                }
                serde_json::from_str::<Payload>(payload)
                    .map(|p| Job::RevokeToken {
                        provider: p.provider,
                        sealed_token: p.sealed_token,
                    })
                    .map_err(|e| format!("bad revoke_token payload: {e}"))
            }
            "sync_meeting" => {
                #[derive(Deserialize)]
                struct Payload {
                    booking_id: BookingId,
                }
                serde_json::from_str::<Payload>(payload)
                    .map(|p| Job::SyncMeeting {
                        booking_id: p.booking_id,
                    })
                    .map_err(|e| format!("bad sync_meeting payload: {e}"))
            }
            other => Err(format!("unknown job kind '{other}'")),
        }
    }
}

/// Enqueues `job` in the caller's transaction; `dedupe_key` makes a repeat a no-op.
pub async fn enqueue(
    tx: &mut Tx,
    job: &Job,
    dedupe_key: Option<String>,
    now: jiff::Timestamp,
) -> AppResult<()> {
    let org_id = match job {
        Job::SendEmail(m) => m.org_id,
        Job::RevokeToken { .. } | Job::SyncMeeting { .. } => None,
    };
    tx.enqueue(
        &NewJob {
            kind: job.kind().to_string(),
            payload: job.payload()?,
            dedupe_key,
            org_id,
            max_attempts: job.max_attempts(),
            run_at: now,
        },
        now,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_through_kind_and_text() {
        let job = Job::SendEmail(OutgoingEmail {
            org_id: None,
            to: "a@b.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            calendar: None,
            message_key: None,
        });
        assert_eq!(
            Job::parse(job.kind(), &job.payload().unwrap()).unwrap(),
            job
        );
        assert!(Job::parse("nope", "{}").is_err());
        assert!(Job::parse("send_email", "{").is_err());
    }
}
