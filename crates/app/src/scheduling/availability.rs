//! Each user's weekly working hours, date overrides and meeting location (User
//! availability in the UI). Hours are civil times in the user's own time zone.

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, App};
use convene_domain::schedule::{DateOverrides, WeeklyHours};
use convene_domain::{ManualDetails, MeetingLocationKind, Permission, UserId};
use convene_store::{Tx, UserRow};

#[derive(Debug, Clone)]
pub struct AvailabilityView {
    pub user: UserRow,
    pub weekly: WeeklyHours,
    pub overrides: DateOverrides,
    pub manual_details: Option<ManualDetails>,
}

/// A user's hours as stored, or business hours for a user who never set any.
pub(crate) async fn load_hours(
    tx: &mut Tx,
    user: UserId,
) -> AppResult<(WeeklyHours, DateOverrides)> {
    match tx.availability(user).await? {
        Some((weekly, overrides)) => parse_hours(user, &weekly, &overrides),
        None => Ok((WeeklyHours::business_hours(), DateOverrides::default())),
    }
}

/// Stored hours, parsed; stored text that does not parse is a bug, not user input.
pub(crate) fn parse_hours(
    user: UserId,
    weekly: &str,
    overrides: &str,
) -> AppResult<(WeeklyHours, DateOverrides)> {
    let weekly: WeeklyHours = weekly
        .parse()
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("stored hours of {user}: {e}")))?;
    let overrides: DateOverrides = serde_json::from_str(overrides)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("stored overrides of {user}: {e}")))?;
    Ok((weekly, overrides))
}

impl App {
    /// Users manage their own availability; admins who manage users or event types may
    /// manage anyone's in their org.
    fn may_edit_availability(actor: &Actor, user: UserId) -> AppResult<()> {
        if actor.user_id == user
            || actor.can(Permission::ManageUsers)
            || actor.can(Permission::ManageEventTypes)
        {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "change another user's availability".into(),
            ))
        }
    }

    pub async fn availability(&self, actor: &Actor, user: UserId) -> AppResult<AvailabilityView> {
        Self::may_edit_availability(actor, user)?;
        let mut tx = self.store.read().await?;
        let row = tx.user(actor.org_id, user).await.or_not_found("user")?;
        let (weekly, overrides) = load_hours(&mut tx, user).await?;
        Ok(AvailabilityView {
            manual_details: super::location::manual_details(&row),
            user: row,
            weekly,
            overrides,
        })
    }

    pub async fn set_availability(
        &self,
        actor: &Actor,
        user: UserId,
        weekly: WeeklyHours,
        overrides: DateOverrides,
    ) -> AppResult<AvailabilityView> {
        Self::may_edit_availability(actor, user)?;
        let now = self.now();
        let overrides_json =
            serde_json::to_string(&overrides).map_err(|e| AppError::Unexpected(e.into()))?;
        let mut tx = self.store.write().await?;
        let row = tx.user(actor.org_id, user).await.or_not_found("user")?;
        tx.set_availability(user, &weekly.to_string(), &overrides_json, now)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "availability.updated",
            audit::Target {
                kind: "user",
                id: Some(user.to_string()),
                label: row.display_name(),
            },
            serde_json::json!({"weekly": weekly.to_string(), "overrides": overrides.len()}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(AvailabilityView {
            manual_details: super::location::manual_details(&row),
            user: row,
            weekly,
            overrides,
        })
    }

    /// Chooses where the user's meetings happen. Manual details are kept when another
    /// kind is chosen, so switching back does not lose them.
    pub async fn set_meeting_location(
        &self,
        actor: &Actor,
        user: UserId,
        kind: MeetingLocationKind,
        details: Option<ManualDetails>,
    ) -> AppResult<UserRow> {
        Self::may_edit_availability(actor, user)?;
        if kind == MeetingLocationKind::Manual
            && details.as_ref().is_none_or(ManualDetails::is_empty)
        {
            return Err(AppError::invalid(
                "manual_details",
                "enter at least one of: meeting link, dial-in details, phone number, address",
            ));
        }
        let now = self.now();
        let mut tx = self.store.write().await?;
        let before = tx.user(actor.org_id, user).await.or_not_found("user")?;
        let details_json = match &details {
            Some(d) => Some(serde_json::to_string(d).map_err(|e| AppError::Unexpected(e.into()))?),
            None => before.manual_details.clone(),
        };
        tx.set_meeting_location(actor.org_id, user, kind, details_json.as_deref(), now)
            .await?;
        audit::record(
            &mut tx,
            actor,
            "meeting_location.updated",
            audit::Target {
                kind: "user",
                id: Some(user.to_string()),
                label: before.display_name(),
            },
            serde_json::json!({"from": before.meeting_location.as_str(), "to": kind.as_str()}),
            now,
        )
        .await?;
        let after = tx.user(actor.org_id, user).await?;
        tx.commit().await?;
        Ok(after)
    }
}
