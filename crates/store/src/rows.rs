//! What the store hands out and takes in: plain structs of domain types.

use convene_domain::{
    ActionReasons, ApiKeyId, AuditId, Email, GroupId, InvitationId, JobId, MeetingLocationKind,
    OrgId, OutboxId, PermissionSet, Role, UserFilter, UserId, UserStatus,
};
use jiff::Timestamp;

#[derive(Debug, Clone)]
pub struct OrgRow {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub uses_salesforce: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub name: Option<String>,
    pub time_zone: String,
    pub role: Role,
    pub permissions: PermissionSet,
    pub status: UserStatus,
    pub has_photo: bool,
    pub meeting_location: MeetingLocationKind,
    pub manual_details: Option<String>,
    pub action_reasons: ActionReasons,
    pub created_at: Timestamp,
    pub joined_at: Option<Timestamp>,
    pub deactivated_at: Option<Timestamp>,
}

impl UserRow {
    /// The name if set, else the email: what the UI shows for a user.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.email)
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: Email,
    pub name: Option<String>,
    pub time_zone: String,
    pub role: Role,
    pub permissions: PermissionSet,
    pub status: UserStatus,
    pub password_hash: Option<String>,
}

/// A page of the Users table.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub filter: UserFilter,
    /// Only users needing action.
    pub action_required: bool,
    /// Case-insensitive substring of name or email.
    pub search: Option<String>,
    /// Continue after this normalized email.
    pub after: Option<String>,
    pub limit: u32,
}

/// Count and "Action Required" count of one filter tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterCount {
    pub filter: UserFilter,
    pub count: i64,
    pub action_required: i64,
}

#[derive(Debug, Clone)]
pub struct InvitationRow {
    pub id: InvitationId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: UserRow,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: ApiKeyId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct GroupRow {
    pub id: GroupId,
    pub org_id: OrgId,
    pub name: String,
    pub member_count: i64,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewAudit {
    pub org_id: OrgId,
    pub actor_user_id: Option<UserId>,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub target_label: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: AuditId,
    pub org_id: OrgId,
    pub actor_user_id: Option<UserId>,
    pub actor_label: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub target_label: String,
    pub details: serde_json::Value,
    pub at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct LockRow {
    pub resource: String,
    pub holder_user_id: UserId,
    pub holder_name: String,
    pub token: String,
    pub acquired_at: Timestamp,
    pub heartbeat_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Dead => "dead",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "queued" => Ok(Self::Queued),
            "running" => Ok(Self::Running),
            "dead" => Ok(Self::Dead),
            _ => Err(format!("unknown job status {s}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// Enqueueing a job whose key is already queued is a no-op.
    pub dedupe_key: Option<String>,
    pub org_id: Option<OrgId>,
    pub max_attempts: i64,
    pub run_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: JobId,
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub org_id: Option<OrgId>,
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    pub org_id: Option<OrgId>,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    /// An iCalendar invitation sent with the message.
    pub calendar: Option<String>,
    pub message_key: Option<String>,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: OutboxId,
    pub org_id: Option<OrgId>,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub calendar: Option<String>,
    pub created_at: Timestamp,
}

/// A user's connection to a provider account. Tokens are sealed by the app's secret
/// box before they reach the store; the store never sees them in the clear.
#[derive(Clone)]
pub struct ConnectionRow {
    pub id: String,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub provider: String,
    pub purpose: String,
    /// `active`, `needs_reauth` or `revoked`.
    pub status: String,
    pub external_account_id: Option<String>,
    pub external_org_id: Option<String>,
    pub external_email: Option<String>,
    pub display_name: Option<String>,
    pub scopes: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub access_expires_at: Option<Timestamp>,
    pub connected_at: Option<Timestamp>,
    pub last_refresh_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub refresh_lease_until: Option<Timestamp>,
    pub reauth_notified_at: Option<Timestamp>,
    /// CalDAV: the server the credentials are for.
    pub server_url: Option<String>,
    /// The last failure to read busy times (calendars); `None` once a read works.
    pub read_error: Option<String>,
    pub read_error_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for ConnectionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("purpose", &self.purpose)
            .field("status", &self.status)
            .field("external_account_id", &self.external_account_id)
            .field("tokens", &"<sealed>")
            .finish()
    }
}

/// What a completed OAuth flow stores (tokens already sealed).
#[derive(Clone)]
pub struct NewConnection {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub provider: String,
    pub purpose: String,
    pub external_account_id: String,
    pub external_org_id: Option<String>,
    pub external_email: Option<String>,
    pub display_name: Option<String>,
    pub scopes: Option<String>,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub access_expires_at: Timestamp,
    /// CalDAV: the server URL (its credentials are the sealed `access_token`).
    pub server_url: Option<String>,
}

/// A pending OAuth authorization, keyed by the hash of its `state`.
#[derive(Clone)]
pub struct OAuthStateRow {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub session_hash: String,
    pub provider: String,
    pub purpose: String,
    /// Sealed PKCE verifier.
    pub pkce_verifier: String,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
}
