//! Admin edit locks (seed 002): one admin edits an admin resource at a time; another
//! sees who holds it and may take over; the displaced admin's next save is refused.

use crate::actor::Actor;
use crate::error::{AppError, AppResult};
use crate::{audit, tokens, App};
use convene_domain::{LockResource, Permission};
use convene_store::{LockOutcome, LockRow, Tx};
use jiff::SignedDuration;

/// What an admin sees when opening a locked resource.
#[derive(Debug, Clone)]
pub enum LockState {
    /// The caller holds it; saves must present this token.
    Mine { token: String, lock: LockRow },
    /// Another admin holds it.
    Theirs(LockRow),
}

fn permission_for(resource: &LockResource) -> Permission {
    match resource {
        LockResource::OrgSettings => Permission::ManageIntegrations,
        LockResource::EventType(_) => Permission::ManageEventTypes,
    }
}

impl App {
    fn idle_cutoff(&self, now: jiff::Timestamp) -> AppResult<jiff::Timestamp> {
        let idle = SignedDuration::try_from(self.settings.lock_idle_ttl)
            .map_err(|e| AppError::Unexpected(e.into()))?;
        now.checked_sub(idle)
            .map_err(|e| AppError::Unexpected(e.into()))
    }

    /// Takes the lock if it is free, idle or already the caller's; with `takeover`, takes
    /// it from another admin (who is told on their next save).
    pub async fn acquire_lock(
        &self,
        actor: &Actor,
        resource: &LockResource,
        takeover: bool,
    ) -> AppResult<LockState> {
        actor.require(permission_for(resource))?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let before = tx.lock(actor.org_id, &resource.key()).await?;
        let outcome = tx
            .acquire_lock(
                actor.org_id,
                &resource.key(),
                actor.user_id,
                &tokens::new_token(),
                now,
                self.idle_cutoff(now)?,
                takeover,
            )
            .await?;
        let state = match outcome {
            LockOutcome::Held(lock) => {
                if let Some(prev) = before.filter(|b| b.holder_user_id != actor.user_id) {
                    audit::record(
                        &mut tx,
                        actor,
                        "lock.taken_over",
                        audit::Target {
                            kind: "lock",
                            id: Some(resource.key()),
                            label: &resource.to_string(),
                        },
                        serde_json::json!({"from": prev.holder_name}),
                        now,
                    )
                    .await?;
                }
                LockState::Mine {
                    token: lock.token.clone(),
                    lock,
                }
            }
            LockOutcome::HeldByOther(lock) => LockState::Theirs(lock),
        };
        tx.commit().await?;
        Ok(state)
    }

    pub async fn lock_status(
        &self,
        actor: &Actor,
        resource: &LockResource,
    ) -> AppResult<Option<LockRow>> {
        actor.require(permission_for(resource))?;
        Ok(self
            .store
            .read()
            .await?
            .lock(actor.org_id, &resource.key())
            .await?)
    }

    pub async fn release_lock(
        &self,
        actor: &Actor,
        resource: &LockResource,
        token: &str,
    ) -> AppResult<()> {
        actor.require(permission_for(resource))?;
        let mut tx = self.store.write().await?;
        tx.release_lock(actor.org_id, &resource.key(), token)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inside a save's transaction: the caller must still hold the lock with `token`.
    /// Otherwise nothing is saved and the caller learns who has it.
    pub(crate) async fn check_lock(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        resource: &LockResource,
        token: &str,
    ) -> AppResult<()> {
        let now = self.now();
        match tx.lock(actor.org_id, &resource.key()).await? {
            Some(l) if l.holder_user_id == actor.user_id && tokens::constant_time_eq(&l.token, token) => {
                tx.heartbeat_lock(actor.org_id, &resource.key(), token, now).await?;
                Ok(())
            }
            Some(l) if l.holder_user_id != actor.user_id => Err(AppError::Locked {
                holder: l.holder_name.clone(),
                message: format!(
                    "{} took over editing the {} at {}; your changes were not saved. Reload to see the current settings.",
                    l.holder_name,
                    resource,
                    l.acquired_at.strftime("%Y-%m-%d %H:%M UTC")
                ),
            }),
            _ => Err(AppError::Locked {
                holder: String::new(),
                message: format!("your edit lock on the {resource} is no longer valid; your changes were not saved. Reload and try again."),
            }),
        }
    }
}
