//! The JSON shapes of `/api/v1`. These are a compatibility promise to integrators, so
//! they are separate from the store's rows and change only on purpose.

use convene_domain::Permission;
use convene_store::{
    ApiKeyRow, AuditRow, FilterCount, GroupRow, JobRow, LockRow, OrgRow, OutboxRow, UserRow,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn ts(t: jiff::Timestamp) -> String {
    t.to_string()
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `invalid_input` or `not_found`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub time_zone: String,
    /// `admin`, `custom_admin`, `chat` or `meetings`.
    pub role: String,
    /// Granted permissions (custom admins only).
    pub permissions: Vec<String>,
    /// `pending`, `active` or `deactivated`.
    pub status: String,
    pub has_photo: bool,
    pub meeting_location: String,
    pub action_required: bool,
    /// Why the user needs action: `no_calendar`, `no_conferencing`, `no_profile_photo`, `no_salesforce`.
    pub action_reasons: Vec<String>,
    pub created_at: String,
    pub joined_at: Option<String>,
    pub deactivated_at: Option<String>,
}

impl From<&UserRow> for UserDto {
    fn from(u: &UserRow) -> Self {
        let seated = u.status != convene_domain::UserStatus::Deactivated;
        let reasons: Vec<String> = if seated {
            u.action_reasons
                .iter()
                .map(|r| r.as_str().to_string())
                .collect()
        } else {
            vec![]
        };
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            name: u.name.clone(),
            time_zone: u.time_zone.clone(),
            role: u.role.as_str().into(),
            permissions: u
                .permissions
                .iter()
                .map(|p| p.as_str().to_string())
                .collect(),
            status: u.status.as_str().into(),
            has_photo: u.has_photo,
            meeting_location: u.meeting_location.as_str().into(),
            action_required: !reasons.is_empty(),
            action_reasons: reasons,
            created_at: ts(u.created_at),
            joined_at: u.joined_at.map(ts),
            deactivated_at: u.deactivated_at.map(ts),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FilterCountDto {
    /// `all`, `active`, `admin`, `chat`, `meetings`, `pending` or `deactivated`.
    pub filter: String,
    pub count: i64,
    /// How many users of this filter need action (the red badge).
    pub action_required: i64,
}

impl From<&FilterCount> for FilterCountDto {
    fn from(c: &FilterCount) -> Self {
        Self {
            filter: c.filter.as_str().into(),
            count: c.count,
            action_required: c.action_required,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UsersList {
    pub data: Vec<UserDto>,
    pub counts: Vec<FilterCountDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct UserDetailDto {
    #[serde(flatten)]
    pub user: UserDto,
    pub groups: Vec<GroupDto>,
    pub connections: Vec<ConnectionDto>,
}

/// A provider connection; tokens are never shown.
#[derive(Serialize, ToSchema)]
pub struct ConnectionDto {
    /// `zoom`, …
    pub provider: String,
    /// `conferencing`, `calendar` or `crm`.
    pub purpose: String,
    /// `active`, `needs_reauth` or `revoked`.
    pub status: String,
    /// The provider's id of the bound account.
    pub account_id: Option<String>,
    pub account_email: Option<String>,
    pub display_name: Option<String>,
    pub connected_at: Option<String>,
    pub last_refresh_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_error: Option<String>,
    pub last_error_at: Option<String>,
}

impl From<&convene_app::connections::ConnectionView> for ConnectionDto {
    fn from(c: &convene_app::connections::ConnectionView) -> Self {
        Self {
            provider: c.provider.clone(),
            purpose: c.purpose.clone(),
            status: c.status.clone(),
            account_id: c.account_id.clone(),
            account_email: c.account_email.clone(),
            display_name: c.display_name.clone(),
            connected_at: c.connected_at.map(ts),
            last_refresh_at: c.last_refresh_at.map(ts),
            last_used_at: c.last_used_at.map(ts),
            last_error: c.last_error.clone(),
            last_error_at: c.last_error_at.map(ts),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: String,
    /// For `custom_admin`: the permissions to grant.
    #[serde(default)]
    pub permissions: Vec<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EmailList {
    /// One string holding many addresses, separated by spaces, commas, semicolons or line breaks.
    Text(String),
    List(Vec<String>),
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub emails: EmailList,
    pub role: String,
    #[serde(default)]
    pub permissions: Vec<String>,
    pub group_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct InvitedDto {
    pub email: String,
    pub user_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct RejectedDto {
    /// The address as it was given.
    pub input: String,
    /// `malformed`, `duplicate` or `already_member`.
    pub reason: String,
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct InviteResponse {
    pub invited: Vec<InvitedDto>,
    pub rejected: Vec<RejectedDto>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupDto {
    pub id: String,
    pub name: String,
    pub member_count: i64,
    pub created_at: String,
}

impl From<&GroupRow> for GroupDto {
    fn from(g: &GroupRow) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.clone(),
            member_count: g.member_count,
            created_at: ts(g.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GroupDetailDto {
    #[serde(flatten)]
    pub group: GroupDto,
    pub members: Vec<UserDto>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub uses_salesforce: bool,
    pub updated_at: String,
}

impl From<&OrgRow> for OrgDto {
    fn from(o: &OrgRow) -> Self {
        Self {
            id: o.id.to_string(),
            slug: o.slug.clone(),
            name: o.name.clone(),
            uses_salesforce: o.uses_salesforce,
            updated_at: ts(o.updated_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgUpdate {
    /// The token from `POST /locks/org_settings`; the save is refused if another admin took the lock.
    pub lock_token: String,
    pub name: String,
    pub uses_salesforce: bool,
}

#[derive(Serialize, ToSchema)]
pub struct LockDto {
    pub resource: String,
    /// Whether the caller holds the lock.
    pub mine: bool,
    /// Present only when `mine`: send it with saves.
    pub token: Option<String>,
    pub holder_user_id: String,
    pub holder_name: String,
    pub acquired_at: String,
    pub heartbeat_at: String,
}

impl LockDto {
    pub fn new(l: &LockRow, token: Option<String>) -> Self {
        Self {
            resource: l.resource.clone(),
            mine: token.is_some(),
            token,
            holder_user_id: l.holder_user_id.to_string(),
            holder_name: l.holder_name.clone(),
            acquired_at: ts(l.acquired_at),
            heartbeat_at: ts(l.heartbeat_at),
        }
    }
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LockRequest {
    /// Take the lock from another admin.
    #[serde(default)]
    pub takeover: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockRelease {
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryDto {
    pub id: String,
    pub actor_user_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub target: String,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub at: String,
}

impl From<&AuditRow> for AuditEntryDto {
    fn from(a: &AuditRow) -> Self {
        Self {
            id: a.id.to_string(),
            actor_user_id: a.actor_user_id.map(|u| u.to_string()),
            actor: a.actor_label.clone(),
            action: a.action.clone(),
            target_type: a.target_type.clone(),
            target_id: a.target_id.clone(),
            target: a.target_label.clone(),
            details: a.details.clone(),
            at: ts(a.at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditList {
    pub data: Vec<AuditEntryDto>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct JobDto {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
}

impl From<&JobRow> for JobDto {
    fn from(j: &JobRow) -> Self {
        Self {
            id: j.id.to_string(),
            kind: j.kind.clone(),
            status: j.status.as_str().into(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: ts(j.run_at),
            last_error: j.last_error.clone(),
            created_at: ts(j.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OutboxDto {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// The attached iCalendar invitation, if any.
    pub calendar: Option<String>,
    pub created_at: String,
}

impl From<&OutboxRow> for OutboxDto {
    fn from(m: &OutboxRow) -> Self {
        Self {
            id: m.id.to_string(),
            to: m.to.clone(),
            subject: m.subject.clone(),
            text: m.text_body.clone(),
            html: m.html_body.clone(),
            calendar: m.calendar.clone(),
            created_at: ts(m.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyDto {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub user_id: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiKeyRow> for ApiKeyDto {
    fn from(k: &ApiKeyRow) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name.clone(),
            prefix: k.prefix.clone(),
            user_id: k.user_id.to_string(),
            created_at: ts(k.created_at),
            last_used_at: k.last_used_at.map(ts),
            revoked_at: k.revoked_at.map(ts),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub meta: ApiKeyDto,
    /// The key itself. Shown this once; store it now.
    pub key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyInput {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    #[serde(flatten)]
    pub user: UserDto,
    pub org: OrgDto,
    /// What this caller may do.
    pub effective_permissions: Vec<String>,
}

pub fn effective_permissions(actor: &convene_app::Actor) -> Vec<String> {
    Permission::ALL
        .into_iter()
        .filter(|p| actor.can(*p))
        .map(|p| p.as_str().to_string())
        .collect()
}
