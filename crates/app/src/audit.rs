//! Audit-log entries, written in the same transaction as the change they describe.

use crate::actor::Actor;
use crate::error::AppResult;
use crate::App;
use convene_domain::AuditId;
use convene_store::{AuditRow, NewAudit, Tx};

/// What an entry is about.
pub struct Target<'a> {
    pub kind: &'static str,
    pub id: Option<String>,
    pub label: &'a str,
}

pub async fn record(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    target: Target<'_>,
    details: serde_json::Value,
    now: jiff::Timestamp,
) -> AppResult<()> {
    tx.insert_audit(
        &NewAudit {
            org_id: actor.org_id,
            actor_user_id: Some(actor.user_id),
            actor_label: format!("{} <{}>", actor.name, actor.email),
            action: action.to_string(),
            target_type: target.kind.to_string(),
            target_id: target.id,
            target_label: target.label.to_string(),
            details,
        },
        now,
    )
    .await?;
    Ok(())
}

/// An entry whose actor is not a person (a provider, the token service).
pub async fn record_system(
    tx: &mut Tx,
    org: convene_domain::OrgId,
    actor_label: &str,
    action: &str,
    target: Target<'_>,
    details: serde_json::Value,
    now: jiff::Timestamp,
) -> AppResult<()> {
    tx.insert_audit(
        &NewAudit {
            org_id: org,
            actor_user_id: None,
            actor_label: actor_label.to_string(),
            action: action.to_string(),
            target_type: target.kind.to_string(),
            target_id: target.id,
            target_label: target.label.to_string(),
            details,
        },
        now,
    )
    .await?;
    Ok(())
}

pub struct AuditPage {
    pub entries: Vec<AuditRow>,
    pub next: Option<AuditId>,
}

impl App {
    pub async fn audit_log(
        &self,
        actor: &Actor,
        action_prefix: Option<&str>,
        before: Option<AuditId>,
        limit: u32,
    ) -> AppResult<AuditPage> {
        actor.require(convene_domain::Permission::ViewAuditLog)?;
        let limit = limit.clamp(1, 200);
        let mut tx = self.store.read().await?;
        let entries = tx
            .audit_log(actor.org_id, action_prefix, before, limit)
            .await?;
        let next = (entries.len() == limit as usize)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage { entries, next })
    }
}
