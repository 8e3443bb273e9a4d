//! Groups of users (used by Round Robin and Collective event types and invitations).

use crate::users::{user_from_row, USER_COLS};
use crate::{conflict, get_parsed, get_ts, ms, GroupRow, Result, StoreError, Tx, UserRow};
use convene_domain::{GroupId, OrgId, UserId};
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLS: &str = "g.id, g.org_id, g.name, g.created_at, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count";

fn from_row(r: &AnyRow) -> Result<GroupRow> {
    Ok(GroupRow {
        id: get_parsed(r, "id")?,
        org_id: get_parsed(r, "org_id")?,
        name: r.try_get("name")?,
        member_count: r.try_get("member_count")?,
        created_at: get_ts(r, "created_at")?,
    })
}

impl Tx {
    pub async fn insert_group(
        &mut self,
        org: OrgId,
        id: GroupId,
        name: &str,
        now: Timestamp,
    ) -> Result<()> {
        sqlx::query("INSERT INTO user_groups (id, org_id, name, name_normalized, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id.to_string())
            .bind(org.to_string())
            .bind(name)
            .bind(name.to_lowercase())
            .bind(ms(now))
            .execute(&mut *self.inner)
            .await
            .map_err(conflict("a group with this name"))?;
        Ok(())
    }

    pub async fn groups(&mut self, org: OrgId) -> Result<Vec<GroupRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM user_groups g WHERE g.org_id = $1 ORDER BY g.name_normalized"
        ))
        .bind(org.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn group(&mut self, org: OrgId, id: GroupId) -> Result<GroupRow> {
        let row = sqlx::query(&format!(
            "SELECT {COLS} FROM user_groups g WHERE g.org_id = $1 AND g.id = $2"
        ))
        .bind(org.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *self.inner)
        .await?
        .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    pub async fn rename_group(&mut self, org: OrgId, id: GroupId, name: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE user_groups SET name = $1, name_normalized = $2 WHERE org_id = $3 AND id = $4",
        )
        .bind(name)
        .bind(name.to_lowercase())
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&mut *self.inner)
        .await
        .map_err(conflict("a group with this name"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn delete_group(&mut self, org: OrgId, id: GroupId) -> Result<()> {
        sqlx::query("DELETE FROM group_members WHERE group_id = (SELECT id FROM user_groups WHERE org_id = $1 AND id = $2)")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        let done = sqlx::query("DELETE FROM user_groups WHERE org_id = $1 AND id = $2")
            .bind(org.to_string())
            .bind(id.to_string())
            .execute(&mut *self.inner)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Adds a member; adding someone already in the group is not an error.
    pub async fn add_group_member(
        &mut self,
        group: GroupId,
        user: UserId,
        now: Timestamp,
    ) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO group_members (group_id, user_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (group_id, user_id) DO NOTHING",
        )
        .bind(group.to_string())
        .bind(user.to_string())
        .bind(ms(now))
        .execute(&mut *self.inner)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn remove_group_member(&mut self, group: GroupId, user: UserId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
            .bind(group.to_string())
            .bind(user.to_string())
            .execute(&mut *self.inner)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn group_members(&mut self, group: GroupId) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLS} FROM group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 ORDER BY u.email_normalized"
        ))
        .bind(group.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn groups_of_user(&mut self, user: UserId) -> Result<Vec<GroupRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM user_groups g JOIN group_members gm ON gm.group_id = g.id \
             WHERE gm.user_id = $1 ORDER BY g.name_normalized"
        ))
        .bind(user.to_string())
        .fetch_all(&mut *self.inner)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
