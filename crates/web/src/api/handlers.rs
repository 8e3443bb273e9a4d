//! The `/api/v1` handlers: parse, call the use case, shape the answer.

use super::types::*;
use crate::auth::ApiActor;
use crate::error::{ApiResult, Surface, WebError};
use crate::extract::{parse_id, ApiBytes, ApiJson, ApiPath, ApiQuery, OptionalApiJson};
use crate::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use convene_app::users::parse_filter;
use convene_domain::{
    ApiKeyId, AuditId, GroupId, GroupName, JobId, LockResource, OrgName, OutboxId, Permission,
    PermissionSet, Role, UserId,
};
use convene_store::{JobStatus, UserQuery};
use serde::Deserialize;
use utoipa::IntoParams;

fn id<T: std::str::FromStr>(raw: &str, what: &'static str) -> ApiResult<T> {
    parse_id(raw, what, Surface::Api)
}

fn invalid(field: &'static str, message: impl ToString) -> WebError {
    WebError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
        message.to_string(),
    )
    .with_details(serde_json::json!({"field": field}))
}

fn parse_role(s: &str) -> ApiResult<Role> {
    s.parse().map_err(|e| invalid("role", e))
}

fn parse_permissions(list: &[String]) -> ApiResult<PermissionSet> {
    list.iter()
        .map(|p| {
            p.parse::<Permission>()
                .map_err(|e| invalid("permissions", e))
        })
        .collect()
}

fn limit(l: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    match l {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(WebError::bad_request(
            "invalid_query",
            format!("limit must be between 1 and {max}"),
        )),
    }
}

#[utoipa::path(get, path = "/me", tag = "account", responses((status = 200, body = MeDto), (status = 401, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Json<MeDto>> {
    let detail = s.app.user_detail(&actor, actor.user_id).await?;
    let org = s.app.org_of(actor.org_id).await?;
    Ok(Json(MeDto {
        user: UserDto::from(&detail.user),
        org: OrgDto::from(&org),
        effective_permissions: effective_permissions(&actor),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UsersParams {
    /// `all` (default), `active`, `admin`, `chat`, `meetings`, `pending`, `deactivated`.
    filter: Option<String>,
    /// Only users who need action.
    #[serde(default)]
    action_required: bool,
    /// Case-insensitive search in name and email.
    q: Option<String>,
    cursor: Option<String>,
    /// 1–500, default 50.
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/users", tag = "users", params(UsersParams), responses((status = 200, body = UsersList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<UsersParams>,
) -> ApiResult<Json<UsersList>> {
    let filter = parse_filter(p.filter.as_deref()).map_err(WebError::from)?;
    let page = s
        .app
        .users_page(
            &actor,
            UserQuery {
                filter,
                action_required: p.action_required,
                search: p.q,
                after: p.cursor,
                limit: limit(p.limit, 50, 500)?,
            },
        )
        .await?;
    Ok(Json(UsersList {
        data: page.users.iter().map(UserDto::from).collect(),
        counts: page.counts.iter().map(FilterCountDto::from).collect(),
        next_cursor: page.next,
    }))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", responses((status = 200, body = UserDetailDto), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<UserDetailDto>> {
    let d = s
        .app
        .user_detail(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(Json(UserDetailDto {
        user: UserDto::from(&d.user),
        groups: d.groups.iter().map(GroupDto::from).collect(),
        connections: d
            .connections
            .iter()
            .map(|c| ConnectionDto::from(&convene_app::connections::ConnectionView::from(c)))
            .collect(),
    }))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", request_body = RoleChange, responses((status = 200, body = UserDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_role(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<RoleChange>,
) -> ApiResult<Json<UserDto>> {
    let user = id::<UserId>(&raw, "user")?;
    let role = parse_role(&body.role)?;
    let perms = parse_permissions(&body.permissions)?;
    if role != Role::CustomAdmin && !body.permissions.is_empty() {
        return Err(invalid(
            "permissions",
            "permissions can only be granted to custom admins",
        ));
    }
    let u = s.app.change_role(&actor, user, role, perms).await?;
    Ok(Json(UserDto::from(&u)))
}

#[utoipa::path(post, path = "/users/{id}/deactivate", tag = "users", responses((status = 200, body = UserDto), (status = 409, body = ErrorBody)))]
pub async fn deactivate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<UserDto>> {
    let u = s
        .app
        .deactivate_user(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(Json(UserDto::from(&u)))
}

#[utoipa::path(post, path = "/users/{id}/reactivate", tag = "users", responses((status = 200, body = UserDto), (status = 409, body = ErrorBody)))]
pub async fn reactivate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<UserDto>> {
    let u = s
        .app
        .reactivate_user(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(Json(UserDto::from(&u)))
}

#[utoipa::path(post, path = "/users/{id}/resend-invitation", tag = "users", responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn resend_invitation(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app
        .resend_invitation(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/users/{id}/photo", tag = "users", responses((status = 200, content_type = "image/*"), (status = 404, body = ErrorBody)))]
pub async fn get_photo(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<impl IntoResponse> {
    let (ct, bytes) = s.app.photo(&actor, id::<UserId>(&raw, "user")?).await?;
    Ok(([(header::CONTENT_TYPE, ct)], bytes))
}

#[utoipa::path(put, path = "/users/{id}/photo", tag = "users", request_body(content = Vec<u8>, content_type = "image/png"), responses((status = 204), (status = 422, body = ErrorBody)))]
pub async fn put_photo(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiBytes(body): ApiBytes,
) -> ApiResult<StatusCode> {
    s.app
        .set_photo(&actor, id::<UserId>(&raw, "user")?, &body)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/users/{id}/photo", tag = "users", responses((status = 204)))]
pub async fn delete_photo(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_photo(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/invitations", tag = "users", request_body = InviteRequest, responses((status = 200, body = InviteResponse), (status = 422, body = ErrorBody)))]
pub async fn invite(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<InviteRequest>,
) -> ApiResult<Json<InviteResponse>> {
    let role = parse_role(&body.role)?;
    let perms = parse_permissions(&body.permissions)?;
    let group = body
        .group_id
        .as_deref()
        .filter(|g| !g.is_empty())
        .map(|g| {
            g.parse::<GroupId>()
                .map_err(|_| invalid("group_id", "not a valid group id"))
        })
        .transpose()?;
    let text = match body.emails {
        EmailList::Text(t) => t,
        EmailList::List(l) => l.join("\n"),
    };
    let report = s.app.invite(&actor, &text, role, perms, group).await?;
    Ok(Json(InviteResponse {
        invited: report
            .invited
            .iter()
            .map(|(e, id)| InvitedDto {
                email: e.to_string(),
                user_id: id.to_string(),
            })
            .collect(),
        rejected: report
            .rejected
            .iter()
            .map(|(raw, why)| RejectedDto {
                input: raw.clone(),
                reason: why.code().into(),
                message: why.message(),
            })
            .collect(),
    }))
}

#[utoipa::path(get, path = "/groups", tag = "groups", responses((status = 200, body = Vec<GroupDto>)))]
pub async fn list_groups(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<GroupDto>>> {
    Ok(Json(
        s.app
            .groups(&actor)
            .await?
            .iter()
            .map(GroupDto::from)
            .collect(),
    ))
}

fn group_name(raw: &str) -> ApiResult<GroupName> {
    GroupName::parse(raw).map_err(|e| invalid("name", e))
}

#[utoipa::path(post, path = "/groups", tag = "groups", request_body = GroupInput, responses((status = 201, body = GroupDto), (status = 409, body = ErrorBody)))]
pub async fn create_group(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<GroupInput>,
) -> ApiResult<(StatusCode, Json<GroupDto>)> {
    let g = s.app.create_group(&actor, group_name(&body.name)?).await?;
    Ok((StatusCode::CREATED, Json(GroupDto::from(&g))))
}

#[utoipa::path(get, path = "/groups/{id}", tag = "groups", responses((status = 200, body = GroupDetailDto), (status = 404, body = ErrorBody)))]
pub async fn get_group(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<GroupDetailDto>> {
    let (g, members) = s.app.group(&actor, id::<GroupId>(&raw, "group")?).await?;
    Ok(Json(GroupDetailDto {
        group: GroupDto::from(&g),
        members: members.iter().map(UserDto::from).collect(),
    }))
}

#[utoipa::path(patch, path = "/groups/{id}", tag = "groups", request_body = GroupInput, responses((status = 200, body = GroupDto)))]
pub async fn rename_group(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<GroupInput>,
) -> ApiResult<Json<GroupDto>> {
    let g = s
        .app
        .rename_group(
            &actor,
            id::<GroupId>(&raw, "group")?,
            group_name(&body.name)?,
        )
        .await?;
    Ok(Json(GroupDto::from(&g)))
}

#[utoipa::path(delete, path = "/groups/{id}", tag = "groups", responses((status = 204)))]
pub async fn delete_group(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app
        .delete_group(&actor, id::<GroupId>(&raw, "group")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/groups/{id}/members/{user_id}", tag = "groups", responses((status = 204)))]
pub async fn add_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((g, u)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app
        .add_group_member(
            &actor,
            id::<GroupId>(&g, "group")?,
            id::<UserId>(&u, "user")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/groups/{id}/members/{user_id}", tag = "groups", responses((status = 204)))]
pub async fn remove_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((g, u)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app
        .remove_group_member(
            &actor,
            id::<GroupId>(&g, "group")?,
            id::<UserId>(&u, "user")?,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/org", tag = "organization", responses((status = 200, body = OrgDto)))]
pub async fn get_org(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<OrgDto>> {
    Ok(Json(OrgDto::from(&s.app.org_of(actor.org_id).await?)))
}

#[utoipa::path(patch, path = "/org", tag = "organization", request_body = OrgUpdate, responses((status = 200, body = OrgDto), (status = 409, description = "another admin holds or took the lock", body = ErrorBody)))]
pub async fn update_org(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<OrgUpdate>,
) -> ApiResult<Json<OrgDto>> {
    let name = OrgName::parse(&body.name).map_err(|e| invalid("name", e))?;
    let org = s
        .app
        .update_org_settings(
            &actor,
            &body.lock_token,
            convene_app::org::OrgSettingsChange {
                name,
                uses_salesforce: body.uses_salesforce,
            },
        )
        .await?;
    Ok(Json(OrgDto::from(&org)))
}

fn lock_resource(raw: &str) -> ApiResult<LockResource> {
    LockResource::parse(raw).map_err(|e| WebError::bad_request("invalid_resource", e.to_string()))
}

#[utoipa::path(get, path = "/locks/{resource}", tag = "organization", responses((status = 200, body = LockDto), (status = 404, body = ErrorBody)))]
pub async fn get_lock(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<LockDto>> {
    let r = lock_resource(&raw)?;
    let lock = s
        .app
        .lock_status(&actor, &r)
        .await?
        .ok_or_else(|| WebError::not_found("lock"))?;
    Ok(Json(LockDto::new(&lock, None)))
}

/// Acquires the admin edit lock; with `takeover`, takes it from another admin.
#[utoipa::path(post, path = "/locks/{resource}", tag = "organization", request_body = LockRequest, responses((status = 200, body = LockDto), (status = 409, description = "held by another admin", body = ErrorBody)))]
pub async fn acquire_lock(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    // The body is optional: an empty one means no takeover.
    OptionalApiJson(body): OptionalApiJson<LockRequest>,
) -> ApiResult<Json<LockDto>> {
    let r = lock_resource(&raw)?;
    let takeover = body.is_some_and(|b| b.takeover);
    match s.app.acquire_lock(&actor, &r, takeover).await? {
        convene_app::locks::LockState::Mine { token, lock } => {
            Ok(Json(LockDto::new(&lock, Some(token))))
        }
        convene_app::locks::LockState::Theirs(lock) => Err(WebError::new(
            StatusCode::CONFLICT,
            "locked",
            format!(
                "{} is editing the {r}; ask again with {{\"takeover\": true}} to take over",
                lock.holder_name
            ),
        )
        .with_details(serde_json::to_value(LockDto::new(&lock, None)).unwrap_or_default())),
    }
}

#[utoipa::path(post, path = "/locks/{resource}/release", tag = "organization", request_body = LockRelease, responses((status = 204)))]
pub async fn release_lock(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
    ApiJson(body): ApiJson<LockRelease>,
) -> ApiResult<StatusCode> {
    s.app
        .release_lock(&actor, &lock_resource(&raw)?, &body.token)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// Only actions starting with this, e.g. `user.`.
    action: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/audit-log", tag = "organization", params(AuditParams), responses((status = 200, body = AuditList)))]
pub async fn audit_log(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<Json<AuditList>> {
    let before = p
        .cursor
        .as_deref()
        .map(|c| {
            c.parse::<AuditId>()
                .map_err(|_| WebError::bad_request("invalid_query", "cursor is not valid"))
        })
        .transpose()?;
    let page = s
        .app
        .audit_log(
            &actor,
            p.action.as_deref(),
            before,
            limit(p.limit, 50, 200)?,
        )
        .await?;
    Ok(Json(AuditList {
        data: page.entries.iter().map(AuditEntryDto::from).collect(),
        next_cursor: page.next.map(|i| i.to_string()),
    }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JobsParams {
    /// `queued`, `running` or `dead`.
    status: Option<String>,
}

#[utoipa::path(get, path = "/jobs", tag = "operations", params(JobsParams), responses((status = 200, body = Vec<JobDto>)))]
pub async fn list_jobs(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<JobsParams>,
) -> ApiResult<Json<Vec<JobDto>>> {
    let status = p
        .status
        .as_deref()
        .map(|st| {
            st.parse::<JobStatus>()
                .map_err(|e| WebError::bad_request("invalid_query", e))
        })
        .transpose()?;
    Ok(Json(
        s.app
            .jobs(&actor, status)
            .await?
            .iter()
            .map(JobDto::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "operations", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn retry_job(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app.retry_job(&actor, id::<JobId>(&raw, "job")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct OutboxParams {
    /// Only messages to this address.
    to: Option<String>,
}

#[utoipa::path(get, path = "/outbox", tag = "operations", params(OutboxParams), responses((status = 200, body = Vec<OutboxDto>)))]
pub async fn list_outbox(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<OutboxParams>,
) -> ApiResult<Json<Vec<OutboxDto>>> {
    Ok(Json(
        s.app
            .outbox(&actor, p.to.as_deref())
            .await?
            .iter()
            .map(OutboxDto::from)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/outbox/{id}", tag = "operations", responses((status = 200, body = OutboxDto), (status = 404, body = ErrorBody)))]
pub async fn get_outbox(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<OutboxDto>> {
    Ok(Json(OutboxDto::from(
        &s.app
            .outbox_message(&actor, id::<OutboxId>(&raw, "message")?)
            .await?,
    )))
}

#[utoipa::path(get, path = "/api-keys", tag = "account", responses((status = 200, body = Vec<ApiKeyDto>)))]
pub async fn list_api_keys(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<ApiKeyDto>>> {
    Ok(Json(
        s.app
            .api_keys(&actor)
            .await?
            .iter()
            .map(ApiKeyDto::from)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api-keys", tag = "account", request_body = ApiKeyInput, responses((status = 201, body = CreatedApiKey)))]
pub async fn create_api_key(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiJson(body): ApiJson<ApiKeyInput>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    let k = s.app.create_api_key(&actor, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            meta: ApiKeyDto::from(&k.row),
            key: k.key,
        }),
    ))
}

#[utoipa::path(delete, path = "/api-keys/{id}", tag = "account", responses((status = 204)))]
pub async fn revoke_api_key(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<StatusCode> {
    s.app
        .revoke_api_key(&actor, id::<ApiKeyId>(&raw, "API key")?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn provider(raw: &str) -> ApiResult<&str> {
    match raw {
        "zoom" => Ok("zoom"),
        other => Err(WebError::not_found(&format!(
            "provider '{}'",
            other.chars().take(40).collect::<String>()
        ))),
    }
}

#[utoipa::path(get, path = "/users/{id}/connections", tag = "connections", responses((status = 200, body = Vec<ConnectionDto>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_connections(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath(raw): ApiPath<String>,
) -> ApiResult<Json<Vec<ConnectionDto>>> {
    let list = s
        .app
        .connections(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(Json(list.iter().map(ConnectionDto::from).collect()))
}

/// Calls the provider with the connection's token (refreshing it if needed).
#[utoipa::path(post, path = "/users/{id}/connections/{provider}/check", tag = "connections", responses((status = 200, body = ConnectionDto), (status = 404, body = ErrorBody)))]
pub async fn check_connection(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((raw, p)): ApiPath<(String, String)>,
) -> ApiResult<Json<ConnectionDto>> {
    provider(&p)?;
    let view = s
        .app
        .check_connection(&actor, id::<UserId>(&raw, "user")?)
        .await?;
    Ok(Json(ConnectionDto::from(&view)))
}

/// Revokes the token at the provider, then deletes the connection.
#[utoipa::path(delete, path = "/users/{id}/connections/{provider}", tag = "connections", responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn disconnect(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((raw, p)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = provider(&p)?;
    s.app
        .disconnect(&actor, id::<UserId>(&raw, "user")?, p)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Releases a binding held by a deactivated user (or a broken connection), so the
/// account's owner can connect it to their current user.
#[utoipa::path(post, path = "/users/{id}/connections/{provider}/release", tag = "connections", responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn release_connection(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiPath((raw, p)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let p = provider(&p)?;
    s.app
        .release_binding(&actor, id::<UserId>(&raw, "user")?, p)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
