//! Settings → Groups: create, rename, delete, and add or remove members.

use super::layout::{csrf, page};
use super::CsrfOnly;
use super::{page_err, redirect_with_notice, Notice};
use crate::auth::Session;
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::Router;
use convene_domain::{GroupId, GroupName, Permission, UserFilter, UserId};
use convene_store::UserQuery;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/groups", get(list).post(create))
        .route("/settings/groups/{id}", get(detail))
        .route("/settings/groups/{id}/rename", post(rename))
        .route("/settings/groups/{id}/delete", post(delete))
        .route("/settings/groups/{id}/members", post(add_member))
        .route(
            "/settings/groups/{id}/members/{user_id}/remove",
            post(remove_member),
        )
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    _csrf: String,
    name: String,
}

#[derive(Deserialize)]
struct MemberForm {
    #[serde(default)]
    _csrf: String,
    user_id: String,
}

fn name(raw: &str) -> Result<GroupName, WebError> {
    GroupName::parse(raw).map_err(|e| page_err(convene_app::AppError::invalid("name", e)))
}

async fn list(
    State(st): State<AppState>,
    s: Session,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let groups = st.app.groups(&s.actor).await.map_err(page_err)?;
    let body = html! {
        h1 { "Groups" }
        p.muted { "Groups are named sets of users, used by Round Robin and Collective event types and when inviting." }
        table #groups {
            thead { tr { th { "Group" } th { "Members" } } }
            tbody {
                @for g in &groups { tr { td { a href=(format!("/settings/groups/{}", g.id)) { (g.name) } } td { (g.member_count) } } }
                @if groups.is_empty() { tr { td colspan="2" .muted { "No groups yet." } } }
            }
        }
        @if s.actor.can(Permission::ManageGroups) {
            div.card style="margin-top:18px" {
                h2 { "New group" }
                form method="post" action="/settings/groups" class="row" {
                    (csrf(&s))
                    input type="text" name="name" placeholder="Group name" required aria-label="Group name";
                    button type="submit" style="flex:0 0 auto" { "Create group" }
                }
            }
        }
    };
    Ok(Html(
        page("Groups", Some(&s), n.notice.as_deref(), body).into_string(),
    ))
}

async fn create(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<NameForm>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let g = st
        .app
        .create_group(&s.actor, name(&f.name)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        &format!("/settings/groups/{}", g.id),
        "Group created.",
    ))
}

async fn detail(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let id: GroupId = parse_id(&raw, "group", Surface::Html)?;
    let (group, members) = st.app.group(&s.actor, id).await.map_err(page_err)?;
    let manage = s.actor.can(Permission::ManageGroups);
    let candidates = if manage {
        st.app
            .users_page(
                &s.actor,
                UserQuery {
                    filter: UserFilter::All,
                    action_required: false,
                    search: None,
                    after: None,
                    limit: 500,
                },
            )
            .await
            .map_err(page_err)?
            .users
            .into_iter()
            .filter(|u| !members.iter().any(|m| m.id == u.id))
            .collect()
    } else {
        vec![]
    };
    let body = html! {
        h1 { "Group: " (group.name) }
        div.card {
            h2 { "Members (" (members.len()) ")" }
            table #members {
                tbody {
                    @for m in &members {
                        tr {
                            td { strong { (m.name.as_deref().unwrap_or("—")) } " " span.muted { (m.email) } }
                            td style="text-align:right" {
                                @if manage {
                                    form method="post" action=(format!("/settings/groups/{id}/members/{}/remove", m.id)) {
                                        (csrf(&s)) button.secondary type="submit" { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                    @if members.is_empty() { tr { td .muted { "No members yet." } } }
                }
            }
            @if manage && !candidates.is_empty() {
                form method="post" action=(format!("/settings/groups/{id}/members")) class="row" style="margin-top:12px" {
                    (csrf(&s))
                    select name="user_id" aria-label="User to add" {
                        @for u in &candidates { option value=(u.id.to_string()) { (u.display_name()) " <" (u.email) ">" } }
                    }
                    button type="submit" style="flex:0 0 auto" { "Add member" }
                }
            }
        }
        @if manage {
            div.card {
                h2 { "Rename" }
                form method="post" action=(format!("/settings/groups/{id}/rename")) class="row" {
                    (csrf(&s))
                    input type="text" name="name" value=(group.name) required aria-label="New name";
                    button type="submit" style="flex:0 0 auto" { "Rename" }
                }
                h2 style="margin-top:16px" { "Delete" }
                form method="post" action=(format!("/settings/groups/{id}/delete")) {
                    (csrf(&s)) button.danger type="submit" { "Delete group" }
                }
            }
        }
    };
    Ok(Html(
        page(&group.name, Some(&s), n.notice.as_deref(), body).into_string(),
    ))
}

async fn rename(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<NameForm>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: GroupId = parse_id(&raw, "group", Surface::Html)?;
    st.app
        .rename_group(&s.actor, id, name(&f.name)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        &format!("/settings/groups/{id}"),
        "Group renamed.",
    ))
}

async fn delete(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    st.app
        .delete_group(&s.actor, parse_id(&raw, "group", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice("/settings/groups", "Group deleted."))
}

async fn add_member(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<MemberForm>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: GroupId = parse_id(&raw, "group", Surface::Html)?;
    let user: UserId = parse_id(&f.user_id, "user", Surface::Html)?;
    st.app
        .add_group_member(&s.actor, id, user)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        &format!("/settings/groups/{id}"),
        "Member added.",
    ))
}

async fn remove_member(
    State(st): State<AppState>,
    s: Session,
    Path((g, u)): Path<(String, String)>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: GroupId = parse_id(&g, "group", Surface::Html)?;
    st.app
        .remove_group_member(&s.actor, id, parse_id(&u, "user", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        &format!("/settings/groups/{id}"),
        "Member removed.",
    ))
}
