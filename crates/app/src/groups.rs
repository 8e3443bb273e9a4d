//! Groups: named sets of users.

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, App};
use convene_domain::{GroupId, GroupName, Permission, UserId, UserStatus};
use convene_store::{GroupRow, UserRow};

impl App {
    /// Anyone who manages users (to invite into a group) or groups may list them.
    pub async fn groups(&self, actor: &Actor) -> AppResult<Vec<GroupRow>> {
        if !(actor.can(Permission::ManageGroups) || actor.can(Permission::ManageUsers)) {
            return Err(AppError::Forbidden("view groups".into()));
        }
        Ok(self.store.read().await?.groups(actor.org_id).await?)
    }

    pub async fn group(&self, actor: &Actor, id: GroupId) -> AppResult<(GroupRow, Vec<UserRow>)> {
        if !(actor.can(Permission::ManageGroups) || actor.can(Permission::ManageUsers)) {
            return Err(AppError::Forbidden("view groups".into()));
        }
        let mut tx = self.store.read().await?;
        let group = tx.group(actor.org_id, id).await.or_not_found("group")?;
        let members = tx.group_members(id).await?;
        Ok((group, members))
    }

    pub async fn create_group(&self, actor: &Actor, name: GroupName) -> AppResult<GroupRow> {
        actor.require(Permission::ManageGroups)?;
        let now = self.now();
        let id = GroupId::new();
        let mut tx = self.store.write().await?;
        tx.insert_group(actor.org_id, id, name.as_str(), now)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "group.created",
            audit::Target {
                kind: "group",
                id: Some(id.to_string()),
                label: name.as_str(),
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        let group = tx.group(actor.org_id, id).await?;
        tx.commit().await?;
        Ok(group)
    }

    pub async fn rename_group(
        &self,
        actor: &Actor,
        id: GroupId,
        name: GroupName,
    ) -> AppResult<GroupRow> {
        actor.require(Permission::ManageGroups)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let old = tx.group(actor.org_id, id).await.or_not_found("group")?;
        tx.rename_group(actor.org_id, id, name.as_str()).await?;
        audit::record(
            &mut tx,
            actor,
            "group.renamed",
            audit::Target {
                kind: "group",
                id: Some(id.to_string()),
                label: name.as_str(),
            },
            serde_json::json!({"from": old.name}),
            now,
        )
        .await?;
        let group = tx.group(actor.org_id, id).await?;
        tx.commit().await?;
        Ok(group)
    }

    pub async fn delete_group(&self, actor: &Actor, id: GroupId) -> AppResult<()> {
        actor.require(Permission::ManageGroups)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let old = tx.group(actor.org_id, id).await.or_not_found("group")?;
        tx.delete_group(actor.org_id, id).await?;
        audit::record(
            &mut tx,
            actor,
            "group.deleted",
            audit::Target {
                kind: "group",
                id: Some(id.to_string()),
                label: &old.name,
            },
            serde_json::json!({"members": old.member_count}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a (non-deactivated) user of the same org to the group.
    pub async fn add_group_member(
        &self,
        actor: &Actor,
        id: GroupId,
        user: UserId,
    ) -> AppResult<()> {
        actor.require(Permission::ManageGroups)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let group = tx.group(actor.org_id, id).await.or_not_found("group")?;
        let member = tx.user(actor.org_id, user).await.or_not_found("user")?;
        if member.status == UserStatus::Deactivated {
            return Err(AppError::Conflict {
                code: "user_deactivated",
                message: format!("{} is deactivated", member.email),
            });
        }
        if tx.add_group_member(id, user, now).await? {
            audit::record(
                &mut tx,
                actor,
                "group.member_added",
                audit::Target {
                    kind: "group",
                    id: Some(id.to_string()),
                    label: &group.name,
                },
                serde_json::json!({"user": member.email}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn remove_group_member(
        &self,
        actor: &Actor,
        id: GroupId,
        user: UserId,
    ) -> AppResult<()> {
        actor.require(Permission::ManageGroups)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let group = tx.group(actor.org_id, id).await.or_not_found("group")?;
        let member = tx.user(actor.org_id, user).await.or_not_found("user")?;
        if !tx.remove_group_member(id, user).await? {
            return Err(AppError::NotFound("group member"));
        }
        audit::record(
            &mut tx,
            actor,
            "group.member_removed",
            audit::Target {
                kind: "group",
                id: Some(id.to_string()),
                label: &group.name,
            },
            serde_json::json!({"user": member.email}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
