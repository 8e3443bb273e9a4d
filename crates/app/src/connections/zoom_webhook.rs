//! Zoom's incoming webhooks: endpoint validation and app deauthorization (the user or
//! their admin removed the app in the Zoom Marketplace).

use super::ZOOM;
use crate::jobs::{self, Job};
use crate::mail::templates;
use crate::{audit, App};
pub use convene_providers::zoom::webhook::WebhookError;
use convene_providers::zoom::webhook::{self, ZoomEvent};
use std::time::Duration;

/// Deliveries older (or newer) than this are refused as replays.
pub const WEBHOOK_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// Why a delivery was not processed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookFailure {
    /// The delivery itself is bad (signature, timestamp, body): refused, nothing changed.
    #[error(transparent)]
    Refused(#[from] WebhookError),
    /// We could not process a good delivery; the provider should deliver it again.
    #[error("processing the webhook failed: {0:#}")]
    Internal(anyhow::Error),
}

#[derive(Debug)]
pub enum WebhookOutcome {
    /// Answer this JSON (endpoint URL validation).
    Respond(serde_json::Value),
    /// Processed, or a harmless duplicate or an event we do not use.
    Accepted,
}

impl App {
    /// Verifies and handles one delivery. The signature is checked over the raw body
    /// before anything is parsed; a bad one changes nothing.
    pub async fn zoom_webhook(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        raw_body: &[u8],
    ) -> Result<WebhookOutcome, WebhookFailure> {
        let secret = &self.settings.zoom_webhook_secret;
        webhook::verify(
            secret,
            timestamp,
            signature,
            raw_body,
            self.now(),
            WEBHOOK_TOLERANCE,
        )?;
        match webhook::parse_event(raw_body)? {
            ZoomEvent::UrlValidation { plain_token } => Ok(WebhookOutcome::Respond(
                webhook::url_validation_response(secret, &plain_token),
            )),
            ZoomEvent::AppDeauthorized {
                account_id,
                user_id,
                event_ts,
                ..
            } => {
                self.zoom_deauthorized(&account_id, &user_id, event_ts)
                    .await
                    .map_err(WebhookFailure::Internal)?;
                Ok(WebhookOutcome::Accepted)
            }
            ZoomEvent::Other { .. } => Ok(WebhookOutcome::Accepted),
        }
    }

    /// Deletes the Zoom user's credentials, marks the connection revoked, and tells the
    /// user and the org's admins — once, however often Zoom delivers the event.
    async fn zoom_deauthorized(
        &self,
        account_id: &str,
        zoom_user: &str,
        event_ts: i64,
    ) -> anyhow::Result<()> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        if !tx
            .record_webhook(
                ZOOM,
                &format!("app_deauthorized:{account_id}:{zoom_user}:{event_ts}"),
                now,
            )
            .await?
        {
            return Ok(());
        }
        let Some(conn) = tx.connection_by_external(ZOOM, zoom_user).await? else {
            tx.commit().await?;
            return Ok(());
        };
        tx.revoke_connection(
            &conn.id,
            "Convene was removed from this Zoom account in the Zoom App Marketplace",
            now,
        )
        .await?;
        let user = tx.user(conn.org_id, conn.user_id).await?;
        let org = tx.org(conn.org_id).await?;
        let profile = format!("{}/settings/profile", self.settings.base_url);
        jobs::enqueue(
            &mut tx,
            &Job::SendEmail(templates::zoom_revoked_user(org.id, &user.email, &profile)),
            None,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        for admin in tx.active_admins(org.id).await? {
            if admin.id != user.id {
                let mail = templates::zoom_revoked_admin(
                    org.id,
                    &admin.email,
                    user.display_name(),
                    &format!(
                        "{}/settings/organization/users?action_required=1",
                        self.settings.base_url
                    ),
                );
                jobs::enqueue(&mut tx, &Job::SendEmail(mail), None, now)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        }
        audit::record_system(
            &mut tx,
            org.id,
            "Zoom (app deauthorized)",
            "connection.revoked_by_provider",
            audit::Target {
                kind: "connection",
                id: Some(conn.id.clone()),
                label: &user.email,
            },
            serde_json::json!({"provider": ZOOM, "zoom_user_id": zoom_user}),
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }
}
