//! Admin views of the machinery: the audit log, the local mail outbox, the job queue
//! (dead jobs can be retried) and API keys.

use super::layout::{csrf, page, time};
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
use convene_domain::{AuditId, JobId, OutboxId};
use convene_store::JobStatus;
use maud::html;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/audit-log", get(audit_log))
        .route("/settings/outbox", get(outbox))
        .route("/settings/outbox/{id}", get(outbox_message))
        .route("/settings/jobs", get(jobs))
        .route("/settings/jobs/{id}/retry", post(retry_job))
        .route("/settings/api-keys", get(api_keys).post(create_api_key))
        .route("/settings/api-keys/{id}/revoke", post(revoke_api_key))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    action: Option<String>,
    cursor: Option<String>,
}

async fn audit_log(
    State(st): State<AppState>,
    s: Session,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, WebError> {
    let before = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| parse_id::<AuditId>(c, "cursor", Surface::Html))
        .transpose()?;
    let p = st
        .app
        .audit_log(&s.actor, q.action.as_deref(), before, 100)
        .await
        .map_err(page_err)?;
    let action = q.action.clone().unwrap_or_default();
    let body = html! {
        h1 { "Audit log" }
        form method="get" class="row card" {
            input type="search" name="action" value=(action) placeholder="Action starts with… (e.g. user.)" aria-label="Action filter";
            button.secondary type="submit" style="flex:0 0 auto" { "Filter" }
        }
        table #audit {
            thead { tr { th { "When" } th { "Who" } th { "Action" } th { "Target" } th { "Details" } } }
            tbody {
                @for e in &p.entries {
                    tr { td { (time(e.at)) } td { (e.actor_label) } td { code { (e.action) } } td { (e.target_label) } td.muted { (e.details.to_string()) } }
                }
                @if p.entries.is_empty() { tr { td colspan="5" .muted { "Nothing recorded yet." } } }
            }
        }
        @if let Some(next) = p.next {
            p { a href=(format!("/settings/audit-log?action={}&cursor={next}", crate::auth::urlencode(&action))) { "Older →" } }
        }
    };
    Ok(Html(page("Audit log", Some(&s), None, body).into_string()))
}

#[derive(Deserialize, Default)]
struct OutboxQuery {
    to: Option<String>,
}

async fn outbox(
    State(st): State<AppState>,
    s: Session,
    Query(q): Query<OutboxQuery>,
) -> Result<Html<String>, WebError> {
    let to = q.to.as_deref().filter(|t| !t.is_empty());
    let messages = st.app.outbox(&s.actor, to).await.map_err(page_err)?;
    let body = html! {
        h1 { "Outbox" }
        p.muted {
            @if st.app.mailer.kind() == "outbox" {
                "No SMTP server is configured, so email Convene sends lands here. Configure [mail.smtp] to deliver it."
            } @else {
                "Email is delivered by SMTP; this list shows what was kept before SMTP was configured."
            }
        }
        table #outbox {
            thead { tr { th { "When" } th { "To" } th { "Subject" } } }
            tbody {
                @for m in &messages {
                    tr { td { (time(m.created_at)) } td { (m.to) } td { a href=(format!("/settings/outbox/{}", m.id)) { (m.subject) } } }
                }
                @if messages.is_empty() { tr { td colspan="3" .muted { "No messages." } } }
            }
        }
    };
    Ok(Html(page("Outbox", Some(&s), None, body).into_string()))
}

/// Links in a plain-text body become clickable; everything else stays escaped text.
fn linkify(text: &str) -> maud::Markup {
    html! {
        @for (i, line) in text.lines().enumerate() {
            @if i > 0 { br; }
            @for word in line.split(' ') {
                @if word.starts_with("http://") || word.starts_with("https://") { a href=(word) { (word) } } @else { (word) }
                " "
            }
        }
    }
}

async fn outbox_message(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
) -> Result<Html<String>, WebError> {
    let m = st
        .app
        .outbox_message(
            &s.actor,
            parse_id::<OutboxId>(&raw, "message", Surface::Html)?,
        )
        .await
        .map_err(page_err)?;
    let body = html! {
        h1 { (m.subject) }
        div.card #message {
            p.muted { "To " (m.to) " · " (time(m.created_at)) }
            div.body { (linkify(&m.text_body)) }
        }
        p { a href="/settings/outbox" { "← Outbox" } }
    };
    Ok(Html(page("Message", Some(&s), None, body).into_string()))
}

#[derive(Deserialize, Default)]
struct JobsQuery {
    status: Option<String>,
    notice: Option<String>,
}

async fn jobs(
    State(st): State<AppState>,
    s: Session,
    Query(q): Query<JobsQuery>,
) -> Result<Html<String>, WebError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(x) => Some(
            x.parse::<JobStatus>()
                .map_err(|e| WebError::bad_request("invalid_query", e).html())?,
        ),
    };
    let jobs = st.app.jobs(&s.actor, status).await.map_err(page_err)?;
    let body = html! {
        h1 { "Jobs" }
        p.muted { "Emails and other side effects run as background jobs, retried with backoff. Jobs that ran out of attempts are dead and wait here to be retried." }
        nav.tabs { a href="/settings/jobs" { "All" } a href="/settings/jobs?status=queued" { "Queued" } a href="/settings/jobs?status=dead" { "Dead" } }
        table #jobs {
            thead { tr { th { "Kind" } th { "Status" } th { "Attempts" } th { "Next run" } th { "Last error" } th {} } }
            tbody {
                @for j in &jobs {
                    tr {
                        td { (j.kind) } td { (j.status.as_str()) } td { (j.attempts) "/" (j.max_attempts) } td { (time(j.run_at)) }
                        td.muted { (j.last_error.as_deref().unwrap_or("")) }
                        td { @if j.status == JobStatus::Dead {
                            form method="post" action=(format!("/settings/jobs/{}/retry", j.id)) { (csrf(&s)) button.secondary type="submit" { "Retry" } }
                        } }
                    }
                }
                @if jobs.is_empty() { tr { td colspan="6" .muted { "No jobs waiting." } } }
            }
        }
    };
    Ok(Html(
        page("Jobs", Some(&s), q.notice.as_deref(), body).into_string(),
    ))
}

async fn retry_job(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    st.app
        .retry_job(&s.actor, parse_id::<JobId>(&raw, "job", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice(
        "/settings/jobs",
        "The job is queued again.",
    ))
}

async fn api_keys(
    State(st): State<AppState>,
    s: Session,
    Query(n): Query<Notice>,
) -> Result<Html<String>, WebError> {
    let keys = st.app.api_keys(&s.actor).await.map_err(page_err)?;
    Ok(Html(
        page(
            "API keys",
            Some(&s),
            n.notice.as_deref(),
            api_keys_body(&s, &keys, None),
        )
        .into_string(),
    ))
}

fn api_keys_body(
    s: &Session,
    keys: &[convene_store::ApiKeyRow],
    created: Option<&str>,
) -> maud::Markup {
    html! {
        h1 { "API keys" }
        @if let Some(k) = created {
            div.notice role="status" #new-key { "Your new key — copy it now, it will not be shown again:" pre { (k) } }
        }
        p.muted { "Keys act with the permissions of the admin who created them. Send them as " code { "Authorization: Bearer <key>" } " to " code { "/api/v1" } " (" a href="/api/v1/openapi.json" { "OpenAPI" } ")." }
        table #keys {
            thead { tr { th { "Name" } th { "Prefix" } th { "Created" } th { "Last used" } th {} } }
            tbody {
                @for k in keys {
                    tr {
                        td { (k.name) } td { code { "cnv_" (k.prefix) "_…" } } td { (time(k.created_at)) }
                        td { (k.last_used_at.map(time).unwrap_or_else(|| "never".into())) }
                        td { @if k.revoked_at.is_some() { span.muted { "revoked" } } @else {
                            form method="post" action=(format!("/settings/api-keys/{}/revoke", k.id)) { (csrf(s)) button.secondary type="submit" { "Revoke" } }
                        } }
                    }
                }
            }
        }
        div.card style="margin-top:18px" {
            form method="post" action="/settings/api-keys" class="row" {
                (csrf(s))
                input type="text" name="name" placeholder="What is this key for?" required aria-label="Key name";
                button type="submit" style="flex:0 0 auto" { "Create key" }
            }
        }
    }
}

#[derive(Deserialize)]
struct KeyForm {
    #[serde(default)]
    _csrf: String,
    name: String,
}

async fn create_api_key(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(f): HtmlForm<KeyForm>,
) -> Result<Html<String>, WebError> {
    s.check_csrf(&f._csrf)?;
    let created = st
        .app
        .create_api_key(&s.actor, &f.name)
        .await
        .map_err(page_err)?;
    let keys = st.app.api_keys(&s.actor).await.map_err(page_err)?;
    Ok(Html(
        page(
            "API keys",
            Some(&s),
            None,
            api_keys_body(&s, &keys, Some(&created.key)),
        )
        .into_string(),
    ))
}

async fn revoke_api_key(
    State(st): State<AppState>,
    s: Session,
    Path(raw): Path<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    st.app
        .revoke_api_key(&s.actor, parse_id(&raw, "API key", Surface::Html)?)
        .await
        .map_err(page_err)?;
    Ok(redirect_with_notice("/settings/api-keys", "Key revoked."))
}
