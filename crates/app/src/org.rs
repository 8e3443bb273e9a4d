//! Organization settings (an admin resource, edited under the admin lock).

use crate::actor::Actor;
use crate::error::AppResult;
use crate::{audit, App};
use convene_domain::{LockResource, OrgName, Permission};
use convene_store::OrgRow;

#[derive(Debug, Clone)]
pub struct OrgSettingsChange {
    pub name: OrgName,
    pub uses_salesforce: bool,
}

impl App {
    /// Saves org settings if the caller still holds the org-settings lock.
    pub async fn update_org_settings(
        &self,
        actor: &Actor,
        lock_token: &str,
        change: OrgSettingsChange,
    ) -> AppResult<OrgRow> {
        actor.require(Permission::ManageIntegrations)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        self.check_lock(&mut tx, actor, &LockResource::OrgSettings, lock_token)
            .await?;
        let before = tx.org(actor.org_id).await?;
        tx.update_org(
            actor.org_id,
            change.name.as_str(),
            change.uses_salesforce,
            now,
        )
        .await?;
        if before.uses_salesforce != change.uses_salesforce {
            // Whether users need a Salesforce connection is an org-wide fact.
            tx.recompute_org_action_reasons(actor.org_id).await?;
        }
        audit::record(
            &mut tx,
            actor,
            "org.settings_updated",
            audit::Target {
                kind: "org",
                id: Some(actor.org_id.to_string()),
                label: change.name.as_str(),
            },
            serde_json::json!({
                "name": {"from": before.name, "to": change.name.as_str()},
                "uses_salesforce": {"from": before.uses_salesforce, "to": change.uses_salesforce},
            }),
            now,
        )
        .await?;
        let org = tx.org(actor.org_id).await?;
        tx.commit().await?;
        Ok(org)
    }
}
