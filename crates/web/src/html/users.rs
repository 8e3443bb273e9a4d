//! Settings → Organization → Users: the filtered table with counts and "Action
//! Required" badges, inviting by email, the pencil (role and permissions) and the
//! kebab menu (deactivate, reactivate, resend invite).

use super::layout::{csrf, page, time};
use super::CsrfOnly;
use super::{page_err, redirect_with_notice};
use crate::auth::Session;
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::users::parse_filter;
use convene_domain::{GroupId, Permission, PermissionSet, Role, UserFilter, UserId, UserStatus};
use convene_store::{UserQuery, UserRow};
use maud::{html, Markup};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/organization/users", get(table))
        .route("/settings/organization/users/invite", post(invite))
        .route(
            "/settings/organization/users/{id}/edit",
            get(edit_form).post(edit),
        )
        .route(
            "/settings/organization/users/{id}/deactivate",
            post(deactivate),
        )
        .route(
            "/settings/organization/users/{id}/reactivate",
            post(reactivate),
        )
        .route("/settings/organization/users/{id}/resend", post(resend))
        .route(
            "/settings/organization/users/{id}/connections/{provider}/release",
            post(release),
        )
}

#[derive(Deserialize, Default)]
struct TableQuery {
    filter: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    action_required: Option<String>,
    notice: Option<String>,
}

fn status_pill(u: &UserRow) -> Markup {
    html! { span class=(format!("pill {}", u.status.as_str())) { (u.status.as_str()) } }
}

fn user_row(s: &Session, u: &UserRow) -> Markup {
    let seated = u.status != UserStatus::Deactivated;
    let may_touch = !u.role.is_admin_like() || s.actor.role == Role::Admin;
    html! {
        tr data-email=(u.email) {
            td {
                @if u.has_photo { img src=(format!("/users/{}/photo", u.id)) alt="" width="28" height="28" style="border-radius:50%;vertical-align:middle;margin-right:6px"; }
                strong { (u.name.as_deref().unwrap_or("—")) } br;
                span.muted { (u.email) }
            }
            td { (u.role.label()) }
            td { (status_pill(u)) }
            td {
                @if seated && !u.action_reasons.is_empty() {
                    span.badge title="Action Required" { "!" } " Action Required"
                    ul.reasons { @for r in u.action_reasons.iter() { li { (r.message()) } } }
                } @else if seated { span.muted { "Ready" } }
            }
            td style="white-space:nowrap;text-align:right" {
                @if may_touch && seated {
                    a href=(format!("/settings/organization/users/{}/edit", u.id)) title="Edit role and permissions" aria-label=(format!("Edit {}", u.email)) { "✎" }
                }
                @if may_touch && u.id != s.actor.user_id {
                    " "
                    details.kebab {
                        summary aria-label=(format!("Actions for {}", u.email)) { "⋮" }
                        div.menu {
                            @if u.status == UserStatus::Pending {
                                form method="post" action=(format!("/settings/organization/users/{}/resend", u.id)) {
                                    (csrf(s)) button type="submit" { "Resend invite" }
                                }
                            }
                            @if seated {
                                form method="post" action=(format!("/settings/organization/users/{}/deactivate", u.id)) {
                                    (csrf(s)) button type="submit" { "Deactivate" }
                                }
                            } @else {
                                form method="post" action=(format!("/settings/organization/users/{}/reactivate", u.id)) {
                                    (csrf(s)) button type="submit" { "Reactivate" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn permission_checks(granted: PermissionSet) -> Markup {
    html! {
        div.checks {
            @for p in Permission::ALL {
                label { input type="checkbox" name="permissions" value=(p.as_str()) checked[granted.contains(p)]; (p.label()) }
            }
        }
    }
}

fn role_select(current: Role, allow_admin: bool) -> Markup {
    html! {
        select name="role" id="role" required {
            @if current == Role::Meetings && !allow_admin { option value="" disabled { "Choose a role" } }
            @for r in Role::ALL {
                @if allow_admin || !r.is_admin_like() {
                    option value=(r.as_str()) selected[r == current] { (r.label()) }
                }
            }
        }
    }
}

async fn table(
    State(st): State<AppState>,
    s: Session,
    Query(q): Query<TableQuery>,
) -> Result<Html<String>, WebError> {
    let filter = parse_filter(q.filter.as_deref()).map_err(page_err)?;
    let action_required = q.action_required.as_deref() == Some("1");
    let page_data = st
        .app
        .users_page(
            &s.actor,
            UserQuery {
                filter,
                action_required,
                search: q.q.clone(),
                after: q.cursor.clone(),
                limit: 50,
            },
        )
        .await
        .map_err(page_err)?;
    let groups = st.app.groups(&s.actor).await.unwrap_or_default();
    let can_invite = s.actor.can(Permission::ManageUsers);
    let search = q.q.clone().unwrap_or_default();
    let link = |f: UserFilter| {
        let mut l = format!("/settings/organization/users?filter={}", f.as_str());
        if !search.is_empty() {
            l.push_str(&format!("&q={}", crate::auth::urlencode(&search)));
        }
        l
    };
    let body = html! {
        h1 { "Users" }
        nav.tabs aria-label="Filters" {
            @for c in &page_data.counts {
                a href=(link(c.filter)) class=(if c.filter == filter { "current" } else { "" }) data-filter=(c.filter.as_str()) {
                    (c.filter.label()) span.count data-count=(c.count) { (c.count) }
                    @if c.action_required > 0 {
                        span.badge title="Users needing action" data-action-required=(c.action_required) { (c.action_required) }
                    }
                }
            }
        }
        div.card {
            form method="get" action="/settings/organization/users" class="row" {
                input type="hidden" name="filter" value=(filter.as_str());
                input type="search" name="q" placeholder="Search name or email" value=(search) aria-label="Search";
                label.checks style="flex:0 0 auto;margin:0" {
                    input type="checkbox" name="action_required" value="1" checked[action_required]; "Action Required only"
                }
                button.secondary type="submit" style="flex:0 0 auto" { "Search" }
            }
        }
        table #users {
            thead { tr { th { "User" } th { "Role" } th { "Status" } th { "Action Required" } th {} } }
            tbody {
                @for u in &page_data.users { (user_row(&s, u)) }
                @if page_data.users.is_empty() { tr { td colspan="5" .muted { "No users in this view." } } }
            }
        }
        @if let Some(next) = &page_data.next {
            p { a href=(format!("{}&cursor={}", link(filter), crate::auth::urlencode(next))) { "Next page →" } }
        }
        @if can_invite {
            div.card style="margin-top:18px" id="invite" {
                h2 { "+ Invite users by email" }
                form method="post" action="/settings/organization/users/invite" {
                    (csrf(&s))
                    label for="emails" { "Email addresses" }
                    textarea id="emails" name="emails" placeholder="ada@example.com, grace@example.com" required {}
                    p.muted { "Separate addresses with spaces, commas, semicolons or line breaks." }
                    div.row {
                        div { label for="role" { "Role (required)" } (role_select(Role::Meetings, s.actor.role == Role::Admin)) }
                        div {
                            label for="group_id" { "Group (optional)" }
                            select name="group_id" id="group_id" {
                                option value="" { "No group" }
                                @for g in &groups { option value=(g.id.to_string()) { (g.name) } }
                            }
                        }
                    }
                    @if s.actor.role == Role::Admin {
                        details { summary { "Permissions for a Custom Admin" } (permission_checks(PermissionSet::empty())) }
                    }
                    p { button type="submit" { "Send invitations" } }
                }
            }
        }
    };
    Ok(Html(
        page("Users", Some(&s), q.notice.as_deref(), body).into_string(),
    ))
}

/// Form fields that repeat (`permissions`) arrive as a list of pairs.
fn fields(pairs: &[(String, String)], name: &str) -> Vec<String> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn parse_role_perms(pairs: &[(String, String)]) -> Result<(Role, PermissionSet), WebError> {
    let role: Role =
        field(pairs, "role")
            .parse()
            .map_err(|e: convene_domain::UnknownVariant| {
                WebError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    format!("choose a role: {e}"),
                )
                .html()
            })?;
    let perms = fields(pairs, "permissions")
        .iter()
        .map(|p| p.parse::<Permission>())
        .collect::<Result<PermissionSet, _>>()
        .map_err(|e| {
            WebError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                e.to_string(),
            )
            .html()
        })?;
    Ok((role, perms))
}

async fn invite(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    s.check_csrf(&field(&pairs, "_csrf"))?;
    let (role, perms) = parse_role_perms(&pairs)?;
    let group = match field(&pairs, "group_id").as_str() {
        "" => None,
        g => Some(parse_id::<GroupId>(g, "group", Surface::Html)?),
    };
    let report = st
        .app
        .invite(&s.actor, &field(&pairs, "emails"), role, perms, group)
        .await
        .map_err(page_err)?;
    let counts = st.app.user_counts(&s.actor).await.map_err(page_err)?;
    let pending = counts
        .iter()
        .find(|c| c.filter == UserFilter::Pending)
        .map(|c| c.count)
        .unwrap_or(0);
    let status = if report.invited.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = html! {
        h1 { "Invitations" }
        div.card #invite-result {
            @if !report.invited.is_empty() {
                h2 { "Invited (" (report.invited.len()) ")" }
                ul.invited { @for (e, _) in &report.invited { li { (e) } } }
            }
            @if !report.rejected.is_empty() {
                h2 { "Not invited (" (report.rejected.len()) ")" }
                ul.rejected { @for (raw, why) in &report.rejected { li { strong { (raw) } " — " (why.message()) } } }
            }
            p.muted { "Pending invitations: " span #pending-count { (pending) } }
            p { a.button href="/settings/organization/users?filter=pending" { "Back to Users" } }
        }
    };
    Ok((
        status,
        Html(page("Invitations", Some(&s), None, body).into_string()),
    )
        .into_response())
}

async fn edit_form(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
) -> Result<Html<String>, WebError> {
    let id: UserId = parse_id(&raw, "user", Surface::Html)?;
    s.actor.require(Permission::ManageUsers).map_err(page_err)?;
    let d = st.app.user_detail(&s.actor, id).await.map_err(page_err)?;
    let u = &d.user;
    let body = html! {
        h1 { "Edit " (u.display_name()) }
        div.card {
            p.muted { (u.email) " · " (u.status.as_str()) " · joined " (u.joined_at.map(time).unwrap_or_else(|| "not yet".into())) }
            form method="post" action=(format!("/settings/organization/users/{id}/edit")) {
                (csrf(&s))
                label for="role" { "Role" }
                (role_select(u.role, s.actor.role == Role::Admin))
                @if s.actor.role == Role::Admin {
                    label { "Permissions (Custom Admin only)" }
                    (permission_checks(u.permissions))
                }
                p { button type="submit" { "Save" } " " a href="/settings/organization/users" { "Cancel" } }
            }
        }
        div.card {
            h2 { "Groups" }
            @if d.groups.is_empty() { p.muted { "Not in any group." } }
            ul { @for g in &d.groups { li { a href=(format!("/settings/groups/{}", g.id)) { (g.name) } } } }
            h2 { "Connections" }
            @if d.connections.is_empty() { p.muted { "No calendar, conferencing or Salesforce connection." } }
            ul #connections {
                @for c in &d.connections {
                    li {
                        (c.provider) " (" (c.purpose) "): " (c.status)
                        @if let Some(e) = &c.external_email { " — " (e) }
                        @if u.status == UserStatus::Deactivated || c.status != "active" {
                            form method="post" action=(format!("/settings/organization/users/{id}/connections/{}/release", c.provider)) style="display:inline;margin-left:8px" {
                                (csrf(&s)) button.secondary type="submit" { "Release " (c.provider) " binding" }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(page("Edit user", Some(&s), None, body).into_string()))
}

async fn edit(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&field(&pairs, "_csrf"))?;
    let id: UserId = parse_id(&raw, "user", Surface::Html)?;
    let (role, perms) = parse_role_perms(&pairs)?;
    let u = st
        .app
        .change_role(&s.actor, id, role, perms)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/organization/users",
        &format!("{} is now {}.", u.email, u.role.label()),
    ))
}

async fn deactivate(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let u = st
        .app
        .deactivate_user(&s.actor, parse_id(&raw, "user", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/organization/users",
        &format!("{} was deactivated and signed out everywhere.", u.email),
    ))
}

async fn reactivate(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let u = st
        .app
        .reactivate_user(&s.actor, parse_id(&raw, "user", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/organization/users?filter=pending",
        &format!("{} was sent a new invitation.", u.email),
    ))
}

async fn resend(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id = parse_id(&raw, "user", Surface::Html)?;
    st.app
        .resend_invitation(&s.actor, id)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/organization/users?filter=pending",
        "A new invitation was sent; the previous link no longer works.",
    ))
}

async fn release(
    State(st): State<AppState>,
    s: Session,
    Path((raw, provider)): Path<(String, String)>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: UserId = parse_id(&raw, "user", Surface::Html)?;
    if provider != "zoom" {
        return Err(WebError::not_found("provider").html());
    }
    st.app
        .release_binding(&s.actor, id, &provider)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        &format!("/settings/organization/users/{id}/edit"),
        "The Zoom binding was released; its owner can connect that Zoom account again.",
    ))
}
