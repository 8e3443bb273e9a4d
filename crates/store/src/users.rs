//! Users, their profile photo, and the derived "Action Required" mask.

use crate::{
    conflict, get_opt_ts, get_parsed, get_ts, ms, FilterCount, NewUser, Result, StoreError, Tx,
    UserQuery, UserRow,
};
use convene_domain::{
    ActionFacts, ActionReasons, MeetingLocationKind, OrgId, PermissionSet, Role, UserFilter,
    UserId, UserStatus,
};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashSet;

pub(crate) const USER_COLS: &str = "u.id, u.org_id, u.email, u.name, u.time_zone, u.role, \
    u.permissions, u.status, u.has_photo, u.meeting_location, u.manual_details, \
    u.action_reasons, u.created_at, u.joined_at, u.deactivated_at";

/// Booleans come back as BOOLEAN from columns but as integers from SQLite expressions.
pub(crate) fn get_bool(r: &AnyRow, col: &str) -> Result<bool> {
    match r.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(r.try_get::<i64, _>(col)? != 0),
    }
}

pub(crate) fn user_from_row(r: &AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        time_zone: r.try_get("time_zone")?,
        role: get_parsed(r, "role")?,
        permissions: PermissionSet::from_bits(r.try_get("permissions")?),
        status: get_parsed(r, "status")?,
        has_photo: get_bool(r, "has_photo")?,
        meeting_location: get_parsed(r, "meeting_location")?,
        manual_details: r.try_get("manual_details")?,
        action_reasons: ActionReasons::from_bits(r.try_get("action_reasons")?),
        created_at: get_ts(r, "created_at")?,
        joined_at: get_opt_ts(r, "joined_at")?,
        deactivated_at: get_opt_ts(r, "deactivated_at")?,
    })
}

/// The SQL condition of a filter tab; must agree with [`UserFilter::matches`].
fn filter_sql(f: UserFilter) -> &'static str {
    match f {
        UserFilter::All => "u.status <> 'deactivated'",
        UserFilter::Active => "u.status = 'active'",
        UserFilter::Admin => "u.status <> 'deactivated' AND u.role IN ('admin', 'custom_admin')",
        UserFilter::Chat => "u.status <> 'deactivated' AND u.role = 'chat'",
        UserFilter::Meetings => "u.status <> 'deactivated' AND u.role = 'meetings'",
        UserFilter::Pending => "u.status = 'pending'",
        UserFilter::Deactivated => "u.status = 'deactivated'",
    }
}

impl Tx {
    pub async fn insert_user(&mut self, u: &NewUser, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO users (id, org_id, email, email_normalized, name, time_zone, role, \
             permissions, status, password_hash, has_photo, meeting_location, action_reasons, \
             created_at, updated_at, joined_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, 'unset', $11, $12, $12, $13)",
        )
        .bind(u.id.to_string())
        .bind(u.org_id.to_string())
        .bind(u.email.as_str())
        .bind(u.email.normalized())
        .bind(u.name.as_deref())
        .bind(&u.time_zone)
        .bind(u.role.as_str())
        .bind(u.permissions.bits())
        .bind(u.status.as_str())
        .bind(u.password_hash.as_deref())
        .bind(i64::MAX) // recomputed right below, in the same transaction
        .bind(ms(now))
        .bind((u.status == UserStatus::Active).then(|| ms(now)))
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("a user with this email"))?;
        self.recompute_action_reasons(u.id).await
    }

    /// A user of `org`. A user of another org is `NotFound`: tenants never see each other.
    pub async fn user(&mut self, org: OrgId, id: UserId) -> Result<UserRow> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.id = $1 AND u.org_id = $2"
        ))
        .bind(id.to_string())
        .bind(org.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// Several users of one org at once (missing ids are left out).
    pub async fn users_by_ids(&mut self, org: OrgId, ids: &[UserId]) -> Result<Vec<UserRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 AND u.id IN ({})",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(org.to_string());
        for id in ids {
            q = q.bind(id.to_string());
        }
        let rows = q.fetch_all(&mut *self.inner).await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user_by_email(&mut self, org: OrgId, normalized: &str) -> Result<UserRow> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 AND u.email_normalized = $2"
        ))
        .bind(org.to_string())
        .bind(normalized)
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    /// Every active user with this email in any org, with the password hash: sign-in
    /// asks for email and password only.
    pub async fn login_candidates(&mut self, normalized: &str) -> Result<Vec<(UserRow, String)>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS}, u.password_hash FROM users u \
             WHERE u.email_normalized = $1 AND u.status = 'active' AND u.password_hash IS NOT NULL \
             ORDER BY u.id LIMIT 20"
        ))
        .bind(normalized)
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, r.try_get("password_hash")?)))
            .collect()
    }

    pub async fn password_hash(&mut self, id: UserId) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&mut *self.inner)
                .await?
                .flatten(),
        )
    }

    /// Which of these normalized emails already belong to a user of `org`.
    pub async fn existing_emails(
        &mut self,
        org: OrgId,
        normalized: &[String],
    ) -> Result<HashSet<String>> {
        let mut found = HashSet::new();
        for chunk in normalized.chunks(500) {
            let params: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT email_normalized FROM users WHERE org_id = $1 AND email_normalized IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(&sql).bind(org.to_string());
            for e in chunk {
                q = q.bind(e);
            }
            found.extend(q.fetch_all(&mut *self.inner).await?);
        }
        Ok(found)
    }

    pub async fn list_users(&mut self, org: OrgId, q: &UserQuery) -> Result<Vec<UserRow>> {
        let mut sql = format!(
            "SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 AND {}",
            filter_sql(q.filter)
        );
        let mut n = 1;
        let mut binds: Vec<String> = vec![org.to_string()];
        if q.action_required {
            // Deactivated users need no action, as in the counts.
            sql.push_str(" AND u.action_reasons <> 0 AND u.status <> 'deactivated'");
        }
        if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
            n += 1;
            sql.push_str(&format!(
                " AND (u.email_normalized LIKE ${n} ESCAPE '\\' OR LOWER(COALESCE(u.name, '')) LIKE ${n} ESCAPE '\\')"
            ));
            let escaped = s
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            binds.push(format!("%{escaped}%"));
        }
        if let Some(after) = &q.after {
            n += 1;
            sql.push_str(&format!(" AND u.email_normalized > ${n}"));
            binds.push(after.clone());
        }
        sql.push_str(&format!(
            " ORDER BY u.email_normalized LIMIT {}",
            q.limit.clamp(1, 1000)
        ));
        let mut query = sqlx::query(&sql);
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(&mut *self.inner).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Every filter's count and "Action Required" count. The database groups the org's
    /// users by (role, status, needs action) over a covering index; which groups belong
    /// to which filter is the domain's rule ([`UserFilter::matches`]), not SQL's.
    pub async fn user_counts(&mut self, org: OrgId) -> Result<Vec<FilterCount>> {
        let rows = sqlx::query(
            "SELECT role, status, CASE WHEN action_reasons <> 0 THEN 1 ELSE 0 END AS needs_action, \
             COUNT(*) AS n FROM users WHERE org_id = $1 GROUP BY role, status, needs_action",
        )
        .bind(org.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        let mut groups = Vec::with_capacity(rows.len());
        for r in &rows {
            let role: Role = get_parsed(r, "role")?;
            let status: UserStatus = get_parsed(r, "status")?;
            let needs_action = r.try_get::<i64, _>("needs_action")? != 0;
            let n: i64 = r.try_get("n")?;
            groups.push((role, status, needs_action, n));
        }
        Ok(UserFilter::ALL
            .into_iter()
            .map(|filter| {
                let mut c = FilterCount {
                    filter,
                    count: 0,
                    action_required: 0,
                };
                for &(role, status, needs_action, n) in &groups {
                    if filter.matches(role, status) {
                        c.count += n;
                        // A deactivated user holds no seat and needs nothing.
                        if needs_action && status != UserStatus::Deactivated {
                            c.action_required += n;
                        }
                    }
                }
                c
            })
            .collect())
    }

    pub async fn count_active_admins(&mut self, org: OrgId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE org_id = $1 AND role = 'admin' AND status = 'active'",
        )
        .bind(org.to_string())
        .fetch_one(&mut *self.inner)
        .await?)
    }

    async fn update_user(
        &mut self,
        org: OrgId,
        id: UserId,
        set: &str,
        binds: Vec<Option<String>>,
        ints: Vec<Option<i64>>,
    ) -> Result<()> {
        // `set` refers to $3.. for the string binds then the integer binds, in order.
        let sql = format!("UPDATE users SET {set} WHERE id = $1 AND org_id = $2");
        let mut q = sqlx::query(&sql).bind(id.to_string()).bind(org.to_string());
        for b in binds {
            q = q.bind(b);
        }
        for i in ints {
            q = q.bind(i);
        }
        let done = q.execute(&mut *self.inner).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn set_user_role(
        &mut self,
        org: OrgId,
        id: UserId,
        role: Role,
        perms: PermissionSet,
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "role = $3, permissions = $4, updated_at = $5",
            vec![Some(role.as_str().into())],
            vec![Some(perms.bits()), Some(ms(now))],
        )
        .await
    }

    pub async fn set_user_profile(
        &mut self,
        org: OrgId,
        id: UserId,
        name: &str,
        time_zone: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "name = $3, time_zone = $4, updated_at = $5",
            vec![Some(name.into()), Some(time_zone.into())],
            vec![Some(ms(now))],
        )
        .await
    }

    /// A pending user accepts their invitation.
    pub async fn activate_user(
        &mut self,
        org: OrgId,
        id: UserId,
        name: &str,
        time_zone: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "name = $3, time_zone = $4, password_hash = $5, status = 'active', joined_at = $6, updated_at = $6",
            vec![Some(name.into()), Some(time_zone.into()), Some(password_hash.into())],
            vec![Some(ms(now))],
        )
        .await
    }

    pub async fn set_password_hash(
        &mut self,
        org: OrgId,
        id: UserId,
        hash: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "password_hash = $3, updated_at = $4",
            vec![Some(hash.into())],
            vec![Some(ms(now))],
        )
        .await
    }

    pub async fn set_user_status(
        &mut self,
        org: OrgId,
        id: UserId,
        status: UserStatus,
        now: Timestamp,
    ) -> Result<()> {
        let deactivated_at = (status == UserStatus::Deactivated).then(|| ms(now));
        self.update_user(
            org,
            id,
            "status = $3, updated_at = $4, deactivated_at = $5",
            vec![Some(status.as_str().into())],
            vec![Some(ms(now)), deactivated_at],
        )
        .await
    }

    pub async fn set_meeting_location(
        &mut self,
        org: OrgId,
        id: UserId,
        kind: MeetingLocationKind,
        manual_details: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "meeting_location = $3, manual_details = $4, updated_at = $5",
            vec![
                Some(kind.as_str().into()),
                manual_details.map(str::to_string),
            ],
            vec![Some(ms(now))],
        )
        .await?;
        self.recompute_action_reasons(id).await
    }

    pub async fn set_photo(
        &mut self,
        org: OrgId,
        id: UserId,
        content_type: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<()> {
        self.update_user(
            org,
            id,
            "has_photo = TRUE, updated_at = $3",
            vec![],
            vec![Some(ms(now))],
        )
        .await?;
        sqlx::query(
            "INSERT INTO user_photos (user_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET content_type = excluded.content_type, \
             bytes = excluded.bytes, updated_at = excluded.updated_at",
        )
        .bind(id.to_string())
        .bind(content_type)
        .bind(bytes.to_vec())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        self.recompute_action_reasons(id).await
    }

    pub async fn delete_photo(&mut self, org: OrgId, id: UserId, now: Timestamp) -> Result<()> {
        self.update_user(
            org,
            id,
            "has_photo = FALSE, updated_at = $3",
            vec![],
            vec![Some(ms(now))],
        )
        .await?;
        sqlx::query("DELETE FROM user_photos WHERE user_id = $1")
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        self.recompute_action_reasons(id).await
    }

    /// The photo's content type and bytes, if the user (of `org`) has one.
    pub async fn photo(&mut self, org: OrgId, id: UserId) -> Result<(String, Vec<u8>)> {
        let row = sqlx::query(
            "SELECT p.content_type, p.bytes FROM user_photos p JOIN users u ON u.id = p.user_id \
             WHERE p.user_id = $1 AND u.org_id = $2",
        )
        .bind(id.to_string())
        .bind(org.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((row.try_get("content_type")?, row.try_get("bytes")?))
    }

    /// Re-derives a user's "Action Required" reasons from their facts. Every change to
    /// a fact (photo, location, connection, org Salesforce use) calls this in its own
    /// transaction, so the stored mask is never stale.
    pub async fn recompute_action_reasons(&mut self, id: UserId) -> Result<()> {
        let working = |provider: &str, purpose: &str| {
            format!(
                "(SELECT COUNT(*) FROM connections c WHERE c.user_id = u.id AND c.status = 'active' \
                 AND c.purpose = '{purpose}'{})",
                if provider.is_empty() { String::new() } else { format!(" AND c.provider = '{provider}'") }
            )
        };
        // A calendar that cannot be read is not a working one.
        let calendars = format!(
            "{} AND c.read_error IS NULL)",
            working("", "calendar").trim_end_matches(')')
        );
        let sql = format!(
            "SELECT u.has_photo, u.meeting_location, u.manual_details, o.uses_salesforce, \
             {} AS calendars, {} AS zoom, {} AS teams, {} AS salesforce, \
             (SELECT COUNT(*) FROM connections c WHERE c.user_id = u.id \
              AND c.purpose = 'calendar' AND c.read_error IS NOT NULL) AS unreadable \
             FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = $1",
            calendars,
            working("zoom", "conferencing"),
            working("microsoft", "conferencing"),
            working("salesforce", "crm"),
        );
        let r = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&mut *self.inner)
            .await?
            .ok_or(StoreError::NotFound)?;
        let manual: Option<String> = r.try_get("manual_details")?;
        let facts = ActionFacts {
            has_profile_photo: get_bool(&r, "has_photo")?,
            has_working_calendar: r.try_get::<i64, _>("calendars")? > 0,
            has_unreadable_calendar: r.try_get::<i64, _>("unreadable")? > 0,
            location: get_parsed(&r, "meeting_location")?,
            has_manual_details: manual.is_some_and(|m| !m.trim().is_empty()),
            has_working_zoom: r.try_get::<i64, _>("zoom")? > 0,
            has_working_teams: r.try_get::<i64, _>("teams")? > 0,
            org_uses_salesforce: get_bool(&r, "uses_salesforce")?,
            has_working_salesforce: r.try_get::<i64, _>("salesforce")? > 0,
        };
        sqlx::query("UPDATE users SET action_reasons = $1 WHERE id = $2")
            .bind(ActionReasons::from_facts(&facts).bits())
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }

    /// The org's active admins (to tell them about things that need them).
    pub async fn active_admins(&mut self, org: OrgId) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM users u WHERE u.org_id = $1 AND u.role = 'admin' AND u.status = 'active' ORDER BY u.email_normalized"
        ))
        .bind(org.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// After an org-wide fact changes (e.g. the org starts using Salesforce).
    pub async fn recompute_org_action_reasons(&mut self, org: OrgId) -> Result<()> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM users WHERE org_id = $1")
            .bind(org.to_string())
            .fetch_all(&mut *self.inner)
            .await?;
        for id in ids {
            let id: UserId = id
                .parse()
                .map_err(|e: uuid::Error| StoreError::Corrupt(e.to_string()))?;
            self.recompute_action_reasons(id).await?;
        }
        Ok(())
    }
}
