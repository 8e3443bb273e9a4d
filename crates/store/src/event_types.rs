//! Event types, their hosts, and each user's weekly availability.

use crate::users::get_bool;
use crate::{conflict, get_parsed, get_ts, ms, Result, StoreError, Tx};
use convene_domain::{EventTypeId, EventTypeKind, OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

/// An event type as stored. Location and questions are JSON the app parses.
#[derive(Debug, Clone)]
pub struct EventTypeRow {
    pub id: EventTypeId,
    pub org_id: OrgId,
    pub kind: EventTypeKind,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub duration_min: i64,
    pub interval_min: i64,
    pub buffer_before_min: i64,
    pub buffer_after_min: i64,
    pub min_notice_min: i64,
    pub window_days: i64,
    pub daily_limit: Option<i64>,
    pub location: String,
    pub questions: String,
    pub active: bool,
    pub hosts: Vec<EventHostRow>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHostRow {
    pub user_id: UserId,
    pub priority: i64,
    pub weight: i64,
    pub is_primary: bool,
}

/// The settings columns, for insert and update alike.
#[derive(Debug, Clone)]
pub struct EventTypeFields {
    pub kind: EventTypeKind,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub duration_min: i64,
    pub interval_min: i64,
    pub buffer_before_min: i64,
    pub buffer_after_min: i64,
    pub min_notice_min: i64,
    pub window_days: i64,
    pub daily_limit: Option<i64>,
    pub location: String,
    pub questions: String,
    pub active: bool,
}

const COLS: &str = "id, org_id, kind, slug, title, description, duration_min, interval_min, \
    buffer_before_min, buffer_after_min, min_notice_min, window_days, daily_limit, location, \
    questions, active, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<EventTypeRow> {
    Ok(EventTypeRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        kind: get_parsed(r, "kind")?,
        slug: r.try_get("slug")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        duration_min: r.try_get("duration_min")?,
        interval_min: r.try_get("interval_min")?,
        buffer_before_min: r.try_get("buffer_before_min")?,
        buffer_after_min: r.try_get("buffer_after_min")?,
        min_notice_min: r.try_get("min_notice_min")?,
        window_days: r.try_get("window_days")?,
        daily_limit: r.try_get("daily_limit")?,
        location: r.try_get("location")?,
        questions: r.try_get("questions")?,
        active: get_bool(r, "active")?,
        hosts: Vec::new(),
        created_at: get_ts(r, "created_at")?,
        updated_at: get_ts(r, "updated_at")?,
    })
}

impl Tx {
    pub async fn insert_event_type(
        &mut self,
        org: OrgId,
        id: EventTypeId,
        f: &EventTypeFields,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO event_types ({COLS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)"
        ))
        .bind(id.to_string())
        .bind(org.to_string())
        .bind(f.kind.as_str())
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.duration_min)
        .bind(f.interval_min)
        .bind(f.buffer_before_min)
        .bind(f.buffer_after_min)
        .bind(f.min_notice_min)
        .bind(f.window_days)
        .bind(f.daily_limit)
        .bind(&f.location)
        .bind(&f.questions)
        .bind(f.active)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("an event type with this slug"))?;
        Ok(())
    }

    pub async fn update_event_type(
        &mut self,
        org: OrgId,
        id: EventTypeId,
        f: &EventTypeFields,
        now: Timestamp,
    ) -> Result<()> {
        let done = sqlx::query(
            "UPDATE event_types SET slug = $3, title = $4, description = $5, duration_min = $6, \
             interval_min = $7, buffer_before_min = $8, buffer_after_min = $9, \
             min_notice_min = $10, window_days = $11, daily_limit = $12, location = $13, \
             questions = $14, active = $15, updated_at = $16 WHERE org_id = $1 AND id = $2",
        )
        .bind(org.to_string())
        .bind(id.to_string())
        .bind(&f.slug)
        .bind(&f.title)
        .bind(&f.description)
        .bind(f.duration_min)
        .bind(f.interval_min)
        .bind(f.buffer_before_min)
        .bind(f.buffer_after_min)
        .bind(f.min_notice_min)
        .bind(f.window_days)
        .bind(f.daily_limit)
        .bind(&f.location)
        .bind(&f.questions)
        .bind(f.active)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("an event type with this slug"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Replaces an event type's hosts.
    pub async fn set_event_type_hosts(
        &mut self,
        id: EventTypeId,
        hosts: &[EventHostRow],
    ) -> Result<()> {
        sqlx::query("DELETE FROM event_type_hosts WHERE event_type_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        for h in hosts {
            sqlx::query(
                "INSERT INTO event_type_hosts (event_type_id, user_id, priority, weight, is_primary) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.to_string())
            .bind(h.user_id.to_string())
            .bind(h.priority)
            .bind(h.weight)
            .bind(h.is_primary)
            .execute(&mut *self.inner)
            .await
            .map_err(conflict("this host twice"))?;
        }
        Ok(())
    }

    async fn with_hosts(&mut self, mut types: Vec<EventTypeRow>) -> Result<Vec<EventTypeRow>> {
        for t in &mut types {
            let rows = sqlx::query(
                "SELECT user_id, priority, weight, is_primary FROM event_type_hosts \
                 WHERE event_type_id = $1 ORDER BY is_primary DESC, priority DESC, user_id",
            )
            .bind(t.id.to_string())
            .fetch_all(&mut *self.inner)
            .await?;
            t.hosts = rows
                .iter()
                .map(|r| {
                    Ok(EventHostRow {
                        user_id: get_parsed(r, "user_id")?,
                        priority: r.try_get("priority")?,
                        weight: r.try_get("weight")?,
                        is_primary: get_bool(r, "is_primary")?,
                    })
                })
                .collect::<Result<_>>()?;
        }
        Ok(types)
    }

    pub async fn event_types(&mut self, org: OrgId) -> Result<Vec<EventTypeRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM event_types WHERE org_id = $1 ORDER BY title, id"
        ))
        .bind(org.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        let types = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        self.with_hosts(types).await
    }

    /// The event types `user` hosts.
    pub async fn event_types_of_host(&mut self, user: UserId) -> Result<Vec<EventTypeRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM event_types WHERE id IN \
             (SELECT event_type_id FROM event_type_hosts WHERE user_id = $1) ORDER BY title, id"
        ))
        .bind(user.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        let types = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
        self.with_hosts(types).await
    }

    pub async fn event_type(&mut self, org: OrgId, id: EventTypeId) -> Result<EventTypeRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM event_types WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        let t = from_row(&row)?;
        Ok(self.with_hosts(vec![t]).await?.remove(0))
    }

    /// An event type by id in any org: for public booking requests, which name the
    /// event type but not the org.
    pub async fn event_type_by_id_any_org(&mut self, id: EventTypeId) -> Result<EventTypeRow> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM event_types WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        let t = from_row(&row)?;
        Ok(self.with_hosts(vec![t]).await?.remove(0))
    }

    pub async fn event_type_by_slug(&mut self, org: OrgId, slug: &str) -> Result<EventTypeRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM event_types WHERE org_id = $1 AND slug = $2"
        ))
        .bind(org.to_string())
        .bind(slug)
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        let t = from_row(&row)?;
        Ok(self.with_hosts(vec![t]).await?.remove(0))
    }

    /// A user's weekly hours and date overrides, as the app stored them.
    pub async fn availability(&mut self, user: UserId) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT weekly, overrides FROM availability WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_optional(&mut *self.inner)
            .await?;
        row.map(|r| Ok((r.try_get("weekly")?, r.try_get("overrides")?)))
            .transpose()
    }

    /// The stored hours of several users: (user, weekly, overrides).
    pub async fn availabilities(
        &mut self,
        users: &[UserId],
    ) -> Result<Vec<(UserId, String, String)>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..users.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "SELECT user_id, weekly, overrides FROM availability WHERE user_id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for u in users {
            q = q.bind(u.to_string());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter()
            .map(|r| {
                Ok((
                    get_parsed(r, "user_id")?,
                    r.try_get("weekly")?,
                    r.try_get("overrides")?,
                ))
            })
            .collect()
    }

    pub async fn set_availability(
        &mut self,
        user: UserId,
        weekly: &str,
        overrides: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO availability (user_id, weekly, overrides, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET weekly = $2, overrides = $3, updated_at = $4",
        )
        .bind(user.to_string())
        .bind(weekly)
        .bind(overrides)
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(())
    }
}
