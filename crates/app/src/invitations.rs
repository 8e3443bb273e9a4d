//! Inviting users by email, resending invitations, and joining.

use crate::accounts::NewSession;
use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::jobs::{self, Job};
use crate::mail::templates;
use crate::{audit, passwords, tokens, App};
use convene_domain::{
    parse_invite_list, Email, GroupId, InviteRejection, OrgId, Password, Permission, PermissionSet,
    PersonName, Role, TimeZoneName, UserId, UserStatus,
};
use convene_store::{InvitationRow, OrgRow, StoreError, Tx, UserRow};
use jiff::SignedDuration;

/// The outcome of one invitation box: each address invited or rejected, in order.
#[derive(Debug, Clone)]
pub struct InviteReport {
    pub invited: Vec<(Email, UserId)>,
    pub rejected: Vec<(String, InviteRejection)>,
}

/// What the join page shows before the invitee accepts.
#[derive(Debug, Clone)]
pub struct PendingInvitation {
    pub org: OrgRow,
    pub user: UserRow,
    pub invitation: InvitationRow,
}

/// At most this many addresses in one box; bigger lists are split by the caller.
pub const MAX_INVITES_PER_REQUEST: usize = 5000;

impl App {
    /// When an invitation sent at `now` stops working.
    fn invitation_expiry(&self, now: jiff::Timestamp) -> AppResult<jiff::Timestamp> {
        let ttl = SignedDuration::try_from(self.settings.invite_ttl)
            .map_err(|e| AppError::Unexpected(e.into()))?;
        now.saturating_add(ttl)
            .map_err(|e| AppError::Unexpected(e.into()))
    }

    /// Invites every valid, new address of `addresses` with `role` (and the custom
    /// admin's `permissions`), optionally into `group`. Invalid ones come back with
    /// their reason; the valid ones are invited all together or not at all.
    pub async fn invite(
        &self,
        actor: &Actor,
        addresses: &str,
        role: Role,
        permissions: PermissionSet,
        group: Option<GroupId>,
    ) -> AppResult<InviteReport> {
        actor.require(Permission::ManageUsers)?;
        if role.is_admin_like() {
            actor.require_full_admin("invite admins")?;
        }
        let candidates = parse_invite_list(addresses);
        if candidates.is_empty() {
            return Err(AppError::invalid(
                "emails",
                "enter at least one email address",
            ));
        }
        if candidates.len() > MAX_INVITES_PER_REQUEST {
            return Err(AppError::invalid(
                "emails",
                format!("at most {MAX_INVITES_PER_REQUEST} addresses per invitation"),
            ));
        }
        let permissions = if role == Role::CustomAdmin {
            permissions
        } else {
            PermissionSet::empty()
        };
        let now = self.now();
        let expires_at = self.invitation_expiry(now)?;

        let mut tx = self.store.write().await?;
        let org = tx.org(actor.org_id).await?;
        let group_row = match group {
            Some(g) => Some(tx.group(actor.org_id, g).await.or_not_found("group")?),
            None => None,
        };
        let wanted: Vec<String> = candidates
            .iter()
            .filter_map(|c| c.result.as_ref().ok().map(|e| e.normalized().to_string()))
            .collect();
        let existing = tx.existing_emails(actor.org_id, &wanted).await?;

        let mut report = InviteReport {
            invited: vec![],
            rejected: vec![],
        };
        for c in candidates {
            let email = match c.result {
                Ok(e) if existing.contains(e.normalized()) => {
                    report
                        .rejected
                        .push((c.raw, InviteRejection::AlreadyMember));
                    continue;
                }
                Ok(e) => e,
                Err(why) => {
                    report.rejected.push((c.raw, why));
                    continue;
                }
            };
            let id = UserId::new();
            tx.insert_user(
                &convene_store::NewUser {
                    id,
                    org_id: actor.org_id,
                    email: email.clone(),
                    name: None,
                    time_zone: "UTC".into(),
                    role,
                    permissions,
                    status: UserStatus::Pending,
                    password_hash: None,
                },
                now,
            )
            .await?;
            if let Some(g) = &group_row {
                tx.add_group_member(g.id, id, now).await?;
            }
            self.send_invitation(&mut tx, &org, actor, id, &email, now, expires_at)
                .await?;
            audit::record(
                &mut tx,
                actor,
                "user.invited",
                audit::Target { kind: "user", id: Some(id.to_string()), label: email.as_str() },
                serde_json::json!({"role": role.as_str(), "group": group_row.as_ref().map(|g| g.name.clone())}),
                now,
            )
            .await?;
            report.invited.push((email, id));
        }
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_invitation(
        &self,
        tx: &mut Tx,
        org: &OrgRow,
        actor: &Actor,
        user: UserId,
        email: &Email,
        now: jiff::Timestamp,
        expires_at: jiff::Timestamp,
    ) -> AppResult<()> {
        let token = tokens::new_token();
        tx.insert_invitation(
            org.id,
            user,
            &tokens::hash_token(&token),
            Some(actor.user_id),
            now,
            expires_at,
        )
        .await?;
        let url = format!("{}/join/{token}", self.settings.base_url);
        let expires = expires_at.strftime("%Y-%m-%d %H:%M UTC").to_string();
        let mail = templates::invitation(
            org.id,
            &org.name,
            &actor.name,
            email.as_str(),
            &url,
            &expires,
        );
        jobs::enqueue(tx, &Job::SendEmail(mail), None, now).await
    }

    /// Sends a fresh invitation to a pending user; the previous link stops working.
    pub async fn resend_invitation(&self, actor: &Actor, user: UserId) -> AppResult<()> {
        actor.require(Permission::ManageUsers)?;
        let now = self.now();
        let expires_at = self.invitation_expiry(now)?;
        let mut tx = self.store.write().await?;
        let target = tx.user(actor.org_id, user).await.or_not_found("user")?;
        if target.role.is_admin_like() {
            // The new link makes whoever holds it an admin, as inviting one does.
            actor.require_full_admin("re-invite an admin")?;
        }
        if target.status != UserStatus::Pending {
            return Err(AppError::Conflict {
                code: "not_pending",
                message: format!(
                    "{} has already joined; only pending users can be re-invited",
                    target.email
                ),
            });
        }
        let org = tx.org(actor.org_id).await?;
        let email = Email::parse(&target.email)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("stored email: {e}")))?;
        self.send_invitation(&mut tx, &org, actor, user, &email, now, expires_at)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "user.invitation_resent",
            audit::Target {
                kind: "user",
                id: Some(user.to_string()),
                label: &target.email,
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.job_signal.notify_waiters();
        Ok(())
    }

    pub(crate) async fn reinvite_in(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        target: &UserRow,
    ) -> AppResult<()> {
        let now = self.now();
        let expires_at = self.invitation_expiry(now)?;
        let org = tx.org(actor.org_id).await?;
        let email = Email::parse(&target.email)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("stored email: {e}")))?;
        self.send_invitation(tx, &org, actor, target.id, &email, now, expires_at)
            .await
    }

    /// The invitation behind a join link, if it can still be accepted.
    pub async fn pending_invitation(&self, token: &str) -> AppResult<PendingInvitation> {
        let mut tx = self.store.read().await?;
        let inv = match tx.invitation_by_token_hash(&tokens::hash_token(token)).await {
            Ok(i) => i,
            Err(StoreError::NotFound) => {
                return Err(AppError::Gone("This invitation link is not valid. Check that you opened the whole link from the email.".into()))
            }
            Err(e) => return Err(e.into()),
        };
        if inv.used_at.is_some() {
            return Err(AppError::Gone(
                "This invitation was already used. Sign in with the password you chose.".into(),
            ));
        }
        if inv.revoked_at.is_some() {
            return Err(AppError::Gone("This invitation was replaced by a newer one. Use the link in the most recent invitation email.".into()));
        }
        if inv.expires_at <= self.now() {
            return Err(AppError::Gone(
                "This invitation has expired. Ask an admin of your organization to resend it."
                    .into(),
            ));
        }
        let org = tx.org(inv.org_id).await?;
        let user = tx
            .user(inv.org_id, inv.user_id)
            .await
            .or_not_found("user")?;
        if user.status != UserStatus::Pending {
            return Err(AppError::Gone(
                "This invitation is no longer valid for this account.".into(),
            ));
        }
        Ok(PendingInvitation {
            org,
            user,
            invitation: inv,
        })
    }

    /// Accepts an invitation: sets name, password and time zone, activates the user
    /// and signs them in. The link works once.
    pub async fn accept_invitation(
        &self,
        token: &str,
        name: PersonName,
        password: Password,
        time_zone: TimeZoneName,
    ) -> AppResult<NewSession> {
        let pending = self.pending_invitation(token).await?;
        let hash = passwords::hash(&password, self.settings.password_hash).await?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        if !tx.use_invitation(pending.invitation.id, now).await? {
            return Err(AppError::Gone(
                "This invitation was already used. Sign in with the password you chose.".into(),
            ));
        }
        tx.activate_user(
            pending.org.id,
            pending.user.id,
            name.as_str(),
            time_zone.as_str(),
            &hash,
            now,
        )
        .await?;
        let user = tx.user(pending.org.id, pending.user.id).await?;
        let actor = Actor::from_user(&user);
        audit::record(
            &mut tx,
            &actor,
            "user.joined",
            audit::Target {
                kind: "user",
                id: Some(user.id.to_string()),
                label: &user.email,
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        let session = self.insert_session(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// The org a user belongs to (for pages that show its name).
    pub async fn org_of(&self, org: OrgId) -> AppResult<OrgRow> {
        Ok(self.store.read().await?.org(org).await?)
    }
}
