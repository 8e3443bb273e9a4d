//! Event types: create, edit (under the event type's admin lock), list, and the hosts
//! that serve them.

use super::location::{self, ResolvedLocation, Unbookable};
use crate::actor::Actor;
use crate::connections::{CONFERENCING, ZOOM};
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, App};
use convene_domain::{
    EventLocation, EventSlug, EventTitle, EventTypeId, EventTypeKind, LockResource, Permission,
    Question, Timing, UserId,
};
use convene_store::{EventHostRow, EventTypeFields, EventTypeRow, Tx, UserRow};

/// A host as given in a form or request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostInput {
    pub user_id: UserId,
    /// Higher is offered first in Round Robin.
    pub priority: i64,
    /// Share of Round Robin bookings among hosts of equal priority (1–100).
    pub weight: i64,
    /// Collective: whose conferencing account the meeting uses.
    pub is_primary: bool,
}

/// A parsed event type definition.
#[derive(Debug, Clone)]
pub struct EventTypeInput {
    pub kind: EventTypeKind,
    pub title: EventTitle,
    pub slug: EventSlug,
    pub description: String,
    pub timing: Timing,
    pub location: EventLocation,
    pub questions: Vec<Question>,
    pub hosts: Vec<HostInput>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct HostView {
    pub user: UserRow,
    pub priority: i64,
    pub weight: i64,
    pub is_primary: bool,
    /// Where this host's meetings of this event type happen, or why they cannot be booked.
    pub location: Result<ResolvedLocation, Unbookable>,
}

#[derive(Debug, Clone)]
pub struct EventTypeView {
    pub row: EventTypeRow,
    pub timing: Timing,
    pub location: EventLocation,
    pub questions: Vec<Question>,
    pub hosts: Vec<HostView>,
}

impl EventTypeView {
    /// The host whose account a Collective meeting uses (the first host otherwise).
    pub fn primary_host(&self) -> Option<&HostView> {
        self.hosts
            .iter()
            .find(|h| h.is_primary)
            .or_else(|| self.hosts.first())
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("stored {what} does not parse: {e}"))
}

/// Loads an event type's settings and its hosts with their bookability.
pub(crate) async fn view(tx: &mut Tx, row: EventTypeRow) -> AppResult<EventTypeView> {
    let timing = Timing::parse(convene_domain::TimingInput {
        duration_min: row.duration_min,
        interval_min: Some(row.interval_min),
        buffer_before_min: row.buffer_before_min,
        buffer_after_min: row.buffer_after_min,
        min_notice_min: row.min_notice_min,
        window_days: row.window_days,
        daily_limit: row.daily_limit,
    })
    .map_err(|e| corrupt("timing", e))?;
    let location: EventLocation =
        serde_json::from_str(&row.location).map_err(|e| corrupt("location", e))?;
    let questions: Vec<Question> =
        serde_json::from_str(&row.questions).map_err(|e| corrupt("questions", e))?;
    // One query per kind of data, not per host: a team can have dozens of hosts.
    let ids: Vec<UserId> = row.hosts.iter().map(|h| h.user_id).collect();
    let users = tx.users_by_ids(row.org_id, &ids).await?;
    let zooms = tx.connections_of_users(&ids, ZOOM, CONFERENCING).await?;
    let mut hosts = Vec::with_capacity(row.hosts.len());
    for h in &row.hosts {
        let user = users
            .iter()
            .find(|u| u.id == h.user_id)
            .cloned()
            .ok_or(AppError::NotFound("host"))?;
        let zoom = zooms.iter().find(|c| c.user_id == h.user_id);
        hosts.push(HostView {
            location: location::resolve(&location, &user, zoom),
            user,
            priority: h.priority,
            weight: h.weight,
            is_primary: h.is_primary,
        });
    }
    Ok(EventTypeView {
        row,
        timing,
        location,
        questions,
        hosts,
    })
}

fn fields(input: &EventTypeInput) -> AppResult<EventTypeFields> {
    let t = input.timing.input();
    Ok(EventTypeFields {
        kind: input.kind,
        slug: input.slug.as_str().to_string(),
        title: input.title.as_str().to_string(),
        description: input.description.clone(),
        duration_min: t.duration_min,
        interval_min: t.interval_min.unwrap_or(t.duration_min),
        buffer_before_min: t.buffer_before_min,
        buffer_after_min: t.buffer_after_min,
        min_notice_min: t.min_notice_min,
        window_days: t.window_days,
        daily_limit: t.daily_limit,
        location: serde_json::to_string(&input.location)
            .map_err(|e| AppError::Unexpected(e.into()))?,
        questions: serde_json::to_string(&input.questions)
            .map_err(|e| AppError::Unexpected(e.into()))?,
        active: input.active,
    })
}

/// Checks the hosts against the kind and the org; returns them as stored.
async fn check_hosts(
    tx: &mut Tx,
    actor: &Actor,
    input: &EventTypeInput,
) -> AppResult<Vec<EventHostRow>> {
    // Callers parse the texts; whatever they did, none with a NUL byte or another control
    // character is stored (PostgreSQL cannot even hold a NUL).
    convene_domain::parse_description(&input.description)
        .map_err(|e| AppError::invalid("description", e))?;
    input
        .location
        .clone()
        .checked()
        .map_err(|e| AppError::invalid("location", e))?;
    convene_domain::parse_questions(input.questions.clone())
        .map_err(|e| AppError::invalid("questions", e))?;
    if input.hosts.is_empty() {
        return Err(AppError::invalid("hosts", "choose at least one host"));
    }
    if input.kind == EventTypeKind::Personal && input.hosts.len() != 1 {
        return Err(AppError::invalid(
            "hosts",
            "a personal event type has exactly one host",
        ));
    }
    if input.hosts.len() > 200 {
        return Err(AppError::invalid("hosts", "at most 200 hosts"));
    }
    if input.hosts.iter().filter(|h| h.is_primary).count() > 1 {
        return Err(AppError::invalid(
            "hosts",
            "only one host can be the primary host",
        ));
    }
    let mut out = Vec::with_capacity(input.hosts.len());
    for (i, h) in input.hosts.iter().enumerate() {
        if !(1..=100).contains(&h.weight) {
            return Err(AppError::invalid(
                "hosts",
                "a host's weight must be between 1 and 100",
            ));
        }
        if !(-100..=100).contains(&h.priority) {
            return Err(AppError::invalid(
                "hosts",
                "a host's priority must be between -100 and 100",
            ));
        }
        if out.iter().any(|o: &EventHostRow| o.user_id == h.user_id) {
            return Err(AppError::invalid("hosts", "a host is listed twice"));
        }
        tx.user(actor.org_id, h.user_id).await.map_err(|_| {
            AppError::invalid(
                "hosts",
                format!("host {} is not a user of this organization", i + 1),
            )
        })?;
        out.push(EventHostRow {
            user_id: h.user_id,
            priority: h.priority,
            weight: h.weight,
            // Collective needs a primary: the first host unless one is marked.
            is_primary: h.is_primary || (i == 0 && !input.hosts.iter().any(|h| h.is_primary)),
        });
    }
    Ok(out)
}

impl App {
    /// Members may create personal event types for themselves; everything else needs
    /// the Manage event types permission.
    fn may_define(actor: &Actor, input: &EventTypeInput) -> AppResult<()> {
        let own_personal = input.kind == EventTypeKind::Personal
            && input.hosts.len() == 1
            && input.hosts[0].user_id == actor.user_id;
        if own_personal || actor.can(Permission::ManageEventTypes) {
            Ok(())
        } else {
            Err(AppError::Forbidden("manage event types".into()))
        }
    }

    fn may_edit(actor: &Actor, row: &EventTypeRow) -> AppResult<()> {
        let own = row.kind == EventTypeKind::Personal
            && row.hosts.len() == 1
            && row.hosts[0].user_id == actor.user_id;
        if own || actor.can(Permission::ManageEventTypes) {
            Ok(())
        } else {
            Err(AppError::Forbidden("manage event types".into()))
        }
    }

    /// All event types for those who manage them; otherwise those the actor hosts.
    pub async fn event_types(&self, actor: &Actor) -> AppResult<Vec<EventTypeView>> {
        let mut tx = self.store.read().await?;
        let rows = if actor.can(Permission::ManageEventTypes) {
            tx.event_types(actor.org_id).await?
        } else {
            tx.event_types_of_host(actor.user_id).await?
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(view(&mut tx, r).await?);
        }
        Ok(out)
    }

    pub async fn event_type(&self, actor: &Actor, id: EventTypeId) -> AppResult<EventTypeView> {
        let mut tx = self.store.read().await?;
        let row = tx
            .event_type(actor.org_id, id)
            .await
            .or_not_found("event type")?;
        let hosts_it = row.hosts.iter().any(|h| h.user_id == actor.user_id);
        if !(hosts_it || actor.can(Permission::ManageEventTypes)) {
            return Err(AppError::NotFound("event type"));
        }
        view(&mut tx, row).await
    }

    pub async fn create_event_type(
        &self,
        actor: &Actor,
        input: EventTypeInput,
    ) -> AppResult<EventTypeView> {
        Self::may_define(actor, &input)?;
        let now = self.now();
        let id = EventTypeId::new();
        let mut tx = self.store.write().await?;
        let hosts = check_hosts(&mut tx, actor, &input).await?;
        tx.insert_event_type(actor.org_id, id, &fields(&input)?, now)
            .await?;
        tx.set_event_type_hosts(id, &hosts).await?;
        audit::record(
            &mut tx,
            actor,
            "event_type.created",
            audit::Target {
                kind: "event_type",
                id: Some(id.to_string()),
                label: input.title.as_str(),
            },
            serde_json::json!({"kind": input.kind.as_str(), "slug": input.slug.as_str(), "hosts": hosts.len()}),
            now,
        )
        .await?;
        let row = tx.event_type(actor.org_id, id).await?;
        let v = view(&mut tx, row).await?;
        tx.commit().await?;
        Ok(v)
    }

    /// Saves an event type if the caller holds its edit lock (admins) or owns it.
    pub async fn update_event_type(
        &self,
        actor: &Actor,
        id: EventTypeId,
        lock_token: Option<&str>,
        input: EventTypeInput,
    ) -> AppResult<EventTypeView> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let before = tx
            .event_type(actor.org_id, id)
            .await
            .or_not_found("event type")?;
        Self::may_edit(actor, &before)?;
        Self::may_define(actor, &input)?;
        if input.kind != before.kind {
            return Err(AppError::invalid(
                "kind",
                "the kind of an event type cannot change; create a new one",
            ));
        }
        // Shared event types are admin resources: edited under their lock.
        if before.kind != EventTypeKind::Personal || actor.user_id != before.hosts[0].user_id {
            let token = lock_token.ok_or_else(|| {
                AppError::invalid(
                    "lock_token",
                    "open the event type for editing first (take its edit lock)",
                )
            })?;
            self.check_lock(
                &mut tx,
                actor,
                &LockResource::EventType(id.to_string()),
                token,
            )
            .await?;
        }
        let hosts = check_hosts(&mut tx, actor, &input).await?;
        tx.update_event_type(actor.org_id, id, &fields(&input)?, now)
            .await?;
        tx.set_event_type_hosts(id, &hosts).await?;
        audit::record(
            &mut tx,
            actor,
            "event_type.updated",
            audit::Target {
                kind: "event_type",
                id: Some(id.to_string()),
                label: input.title.as_str(),
            },
            serde_json::json!({"title": {"from": before.title, "to": input.title.as_str()}, "active": input.active}),
            now,
        )
        .await?;
        let row = tx.event_type(actor.org_id, id).await?;
        let v = view(&mut tx, row).await?;
        tx.commit().await?;
        Ok(v)
    }
}
