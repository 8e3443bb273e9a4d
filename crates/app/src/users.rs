//! The Users table and what admins do to users: roles, deactivation, reactivation.
//! Also what users do to their own profile.

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::jobs::{self, Job};
use crate::mail::templates;
use crate::{audit, App};
use convene_domain::{
    Permission, PermissionSet, PersonName, Role, TimeZoneName, UserFilter, UserId, UserStatus,
};
use convene_store::{ConnectionRow, FilterCount, GroupRow, UserQuery, UserRow};

pub struct UsersPage {
    pub users: Vec<UserRow>,
    pub counts: Vec<FilterCount>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A user with what their detail page shows.
pub struct UserDetail {
    pub user: UserRow,
    pub groups: Vec<GroupRow>,
    pub connections: Vec<ConnectionRow>,
}

pub const MAX_PHOTO_BYTES: usize = 2 * 1024 * 1024;

/// The image type of `bytes`, judged by its signature, not by what the client claims.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

impl App {
    fn require_user_directory(actor: &Actor) -> AppResult<()> {
        if actor.can(Permission::ManageUsers) || actor.can(Permission::ManageGroups) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "view the users of the organization".into(),
            ))
        }
    }

    pub async fn users_page(&self, actor: &Actor, query: UserQuery) -> AppResult<UsersPage> {
        Self::require_user_directory(actor)?;
        if query
            .search
            .as_ref()
            .is_some_and(|s| s.chars().count() > 200)
        {
            return Err(AppError::invalid(
                "q",
                "the search text must be at most 200 characters",
            ));
        }
        let limit = query.limit.clamp(1, 500);
        let mut tx = self.store.read().await?;
        let users = tx
            .list_users(actor.org_id, &UserQuery { limit, ..query })
            .await?;
        let counts = tx.user_counts(actor.org_id).await?;
        let next = (users.len() == limit as usize)
            .then(|| users.last().map(|u| u.email.to_lowercase()))
            .flatten();
        Ok(UsersPage {
            users,
            counts,
            next,
        })
    }

    pub async fn user_counts(&self, actor: &Actor) -> AppResult<Vec<FilterCount>> {
        Self::require_user_directory(actor)?;
        Ok(self.store.read().await?.user_counts(actor.org_id).await?)
    }

    /// A user's details: one's own, or anyone's for those who manage users or groups.
    pub async fn user_detail(&self, actor: &Actor, id: UserId) -> AppResult<UserDetail> {
        if id != actor.user_id {
            Self::require_user_directory(actor)?;
        }
        let mut tx = self.store.read().await?;
        let user = tx.user(actor.org_id, id).await.or_not_found("user")?;
        let groups = tx.groups_of_user(id).await?;
        let connections = tx.connections_of_user(id).await?;
        Ok(UserDetail {
            user,
            groups,
            connections,
        })
    }

    /// Changes a user's role (and a custom admin's permissions). Only admins may make
    /// or unmake admins; the last active admin cannot be demoted.
    pub async fn change_role(
        &self,
        actor: &Actor,
        id: UserId,
        role: Role,
        permissions: PermissionSet,
    ) -> AppResult<UserRow> {
        actor.require(Permission::ManageUsers)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let target = tx.user(actor.org_id, id).await.or_not_found("user")?;
        if role.is_admin_like() || target.role.is_admin_like() {
            actor.require_full_admin("change the role or permissions of an admin")?;
        }
        if target.status == UserStatus::Deactivated {
            return Err(AppError::Conflict {
                code: "user_deactivated",
                message: "reactivate the user before changing their role".into(),
            });
        }
        if target.role == Role::Admin
            && role != Role::Admin
            && target.status == UserStatus::Active
            && tx.count_active_admins(actor.org_id).await? <= 1
        {
            return Err(AppError::Conflict {
                code: "last_admin",
                message: "the organization needs at least one active admin".into(),
            });
        }
        let permissions = if role == Role::CustomAdmin {
            permissions
        } else {
            PermissionSet::empty()
        };
        tx.set_user_role(actor.org_id, id, role, permissions, now)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "user.role_changed",
            audit::Target {
                kind: "user",
                id: Some(id.to_string()),
                label: &target.email,
            },
            serde_json::json!({
                "from": target.role.as_str(),
                "to": role.as_str(),
                "permissions": permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            }),
            now,
        )
        .await?;
        let user = tx.user(actor.org_id, id).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Deactivates a user: ends all their sessions at once, revokes their API keys and
    /// pending invitations, removes every connection, and frees their seat. Their past
    /// records stay.
    pub async fn deactivate_user(&self, actor: &Actor, id: UserId) -> AppResult<UserRow> {
        actor.require(Permission::ManageUsers)?;
        if id == actor.user_id {
            return Err(AppError::Conflict {
                code: "self",
                message: "you cannot deactivate yourself".into(),
            });
        }
        let now = self.now();
        let mut tx = self.store.write().await?;
        let target = tx.user(actor.org_id, id).await.or_not_found("user")?;
        if target.role.is_admin_like() {
            actor.require_full_admin("deactivate an admin")?;
        }
        if target.status == UserStatus::Deactivated {
            return Ok(target);
        }
        if target.role == Role::Admin
            && target.status == UserStatus::Active
            && tx.count_active_admins(actor.org_id).await? <= 1
        {
            return Err(AppError::Conflict {
                code: "last_admin",
                message: "the organization needs at least one active admin".into(),
            });
        }
        tx.set_user_status(actor.org_id, id, UserStatus::Deactivated, now)
            .await?;
        let sessions = tx.delete_sessions_of_user(id).await?;
        let keys = tx.revoke_api_keys_of_user(id, now).await?;
        tx.revoke_invitations(id, now).await?;
        let removed = self.remove_connections_in(&mut tx, id, now).await?;
        let org = tx.org(actor.org_id).await?;
        if target.status == UserStatus::Active {
            jobs::enqueue(
                &mut tx,
                &Job::SendEmail(templates::deactivated(org.id, &org.name, &target.email)),
                None,
                now,
            )
            .await?;
        }
        audit::record(
            &mut tx,
            actor,
            "user.deactivated",
            audit::Target { kind: "user", id: Some(id.to_string()), label: &target.email },
            serde_json::json!({
                "sessions_ended": sessions,
                "api_keys_revoked": keys,
                "connections_removed": removed.iter().map(|c| format!("{}:{}", c.provider, c.purpose)).collect::<Vec<_>>(),
            }),
            now,
        )
        .await?;
        let user = tx.user(actor.org_id, id).await?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(user)
    }

    /// Gives a deactivated user their seat back as pending and sends a new invitation;
    /// they choose a new password when they accept it.
    pub async fn reactivate_user(&self, actor: &Actor, id: UserId) -> AppResult<UserRow> {
        actor.require(Permission::ManageUsers)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let target = tx.user(actor.org_id, id).await.or_not_found("user")?;
        if target.role.is_admin_like() {
            actor.require_full_admin("reactivate an admin")?;
        }
        if target.status != UserStatus::Deactivated {
            return Err(AppError::Conflict {
                code: "not_deactivated",
                message: format!("{} is not deactivated", target.email),
            });
        }
        tx.set_user_status(actor.org_id, id, UserStatus::Pending, now)
            .await?;
        self.reinvite_in(&mut tx, actor, &target).await?;
        audit::record(
            &mut tx,
            actor,
            "user.reactivated",
            audit::Target {
                kind: "user",
                id: Some(id.to_string()),
                label: &target.email,
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        let user = tx.user(actor.org_id, id).await?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(user)
    }

    /// A user edits their own name and time zone.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        name: PersonName,
        time_zone: TimeZoneName,
    ) -> AppResult<UserRow> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.set_user_profile(
            actor.org_id,
            actor.user_id,
            name.as_str(),
            time_zone.as_str(),
            now,
        )
        .await?;
        let user = tx.user(actor.org_id, actor.user_id).await?;
        tx.commit().await?;
        Ok(user)
    }

    fn require_self_or_manager(actor: &Actor, id: UserId) -> AppResult<()> {
        if id == actor.user_id {
            Ok(())
        } else {
            actor.require(Permission::ManageUsers)
        }
    }

    /// Sets a profile photo (PNG, JPEG, GIF or WebP, at most 2 MiB).
    pub async fn set_photo(&self, actor: &Actor, id: UserId, bytes: &[u8]) -> AppResult<()> {
        Self::require_self_or_manager(actor, id)?;
        if bytes.is_empty() {
            return Err(AppError::invalid("photo", "the photo is empty"));
        }
        if bytes.len() > MAX_PHOTO_BYTES {
            return Err(AppError::invalid(
                "photo",
                "the photo must be at most 2 MiB",
            ));
        }
        let content_type = sniff_image(bytes).ok_or_else(|| {
            AppError::invalid("photo", "the photo must be a PNG, JPEG, GIF or WebP image")
        })?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.set_photo(actor.org_id, id, content_type, bytes, now)
            .await
            .or_not_found("user")?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_photo(&self, actor: &Actor, id: UserId) -> AppResult<()> {
        Self::require_self_or_manager(actor, id)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.delete_photo(actor.org_id, id, now)
            .await
            .or_not_found("user")?;
        tx.commit().await?;
        Ok(())
    }

    /// Any member of the org may see a colleague's photo.
    pub async fn photo(&self, actor: &Actor, id: UserId) -> AppResult<(String, Vec<u8>)> {
        self.store
            .read()
            .await?
            .photo(actor.org_id, id)
            .await
            .or_not_found("photo")
    }
}

/// The filter a page asks for, with "all" as the default.
pub fn parse_filter(s: Option<&str>) -> AppResult<UserFilter> {
    match s {
        None | Some("") => Ok(UserFilter::All),
        Some(s) => s.parse().map_err(|e| AppError::invalid("filter", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_sniffed_by_signature() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
    }
}
