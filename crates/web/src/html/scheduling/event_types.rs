//! Event types: the list (with a "Not bookable" warning per host whose meetings cannot
//! get a link), creating one, and editing one. Shared event types are admin resources,
//! edited under their own admin lock as organization settings are; a member's own
//! personal event type needs no lock.

use crate::auth::Session;
use crate::error::{Surface, WebError};
use crate::extract::{parse_id, HtmlForm, HtmlPath, HtmlQuery};
use crate::html::layout::{csrf, page, time};
use crate::html::pairs::{sentence, Pairs};
use crate::html::{page_err, redirect_with_notice, CsrfOnly, Notice};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use convene_app::locks::LockState;
use convene_app::scheduling::{EventTypeInput, EventTypeView, HostInput};
use convene_app::AppError;
use convene_domain::{
    parse_description, parse_questions, EventLocation, EventSlug, EventTitle, EventTypeId,
    EventTypeKind, LockResource, ManualDetails, Permission, Question, QuestionKind, Timing,
    TimingInput, UserFilter, UserId,
};
use convene_store::{LockRow, UserQuery};
use maud::{html, Markup};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/event-types", get(list))
        .route("/event-types/new", get(new_form).post(create))
        .route("/event-types/{id}", get(edit_form).post(save))
        .route("/event-types/{id}/takeover", post(takeover))
}

const KINDS: [EventTypeKind; 3] = [
    EventTypeKind::Personal,
    EventTypeKind::RoundRobin,
    EventTypeKind::Collective,
];

const LOCATIONS: [(&str, &str); 4] = [
    (
        "host_default",
        "Each host's meeting location (User availability)",
    ),
    ("zoom", "Zoom (a link per meeting from the host's Zoom)"),
    ("manual", "Manual details (the same for every meeting)"),
    ("in_person", "In person (at an address)"),
];

fn kind_text(k: QuestionKind) -> &'static str {
    match k {
        QuestionKind::ShortText => "short_text",
        QuestionKind::LongText => "long_text",
        QuestionKind::Phone => "phone",
    }
}

/// The event type form as typed.
#[derive(Debug, Clone, Default)]
struct EtForm {
    kind: String,
    title: String,
    slug: String,
    description: String,
    duration: String,
    interval: String,
    buffer_before: String,
    buffer_after: String,
    min_notice: String,
    window_days: String,
    daily_limit: String,
    location: String,
    loc_url: String,
    loc_dial_in: String,
    loc_phone: String,
    loc_address: String,
    questions: String,
    /// Ids of the ticked hosts.
    hosts: Vec<String>,
    /// Per user id (ticked or not): priority and weight as typed.
    weights: BTreeMap<String, (String, String)>,
    primary: String,
    active: bool,
}

impl EtForm {
    fn new_for(s: &Session) -> Self {
        let me = s.actor.user_id.to_string();
        Self {
            kind: EventTypeKind::Personal.as_str().into(),
            duration: "30".into(),
            buffer_before: "0".into(),
            buffer_after: "0".into(),
            min_notice: "60".into(),
            window_days: "60".into(),
            location: "host_default".into(),
            hosts: vec![me.clone()],
            primary: me,
            active: true,
            ..Self::default()
        }
    }

    fn from_view(v: &EventTypeView) -> Self {
        let t = v.timing.input();
        let (mut url, mut dial_in, mut phone, mut address) = Default::default();
        match &v.location {
            EventLocation::Manual { details } => {
                url = details
                    .url
                    .as_ref()
                    .map(|u| u.as_str().to_string())
                    .unwrap_or_default();
                dial_in = details.dial_in.clone().unwrap_or_default();
                phone = details
                    .phone
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
                address = details.address.clone().unwrap_or_default();
            }
            EventLocation::InPerson { address: a } => address = a.clone(),
            EventLocation::HostDefault | EventLocation::Zoom => {}
        }
        let location = match &v.location {
            EventLocation::HostDefault => "host_default",
            EventLocation::Zoom => "zoom",
            EventLocation::Manual { .. } => "manual",
            EventLocation::InPerson { .. } => "in_person",
        };
        let questions = v
            .questions
            .iter()
            .map(|q| {
                format!(
                    "{} | {} | {} | {}",
                    q.label,
                    kind_text(q.kind),
                    if q.required { "required" } else { "optional" },
                    q.key
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        Self {
            kind: v.row.kind.as_str().into(),
            title: v.row.title.clone(),
            slug: v.row.slug.clone(),
            description: v.row.description.clone(),
            duration: t.duration_min.to_string(),
            interval: t.interval_min.map(|i| i.to_string()).unwrap_or_default(),
            buffer_before: t.buffer_before_min.to_string(),
            buffer_after: t.buffer_after_min.to_string(),
            min_notice: t.min_notice_min.to_string(),
            window_days: t.window_days.to_string(),
            daily_limit: t.daily_limit.map(|l| l.to_string()).unwrap_or_default(),
            location: location.into(),
            loc_url: url,
            loc_dial_in: dial_in,
            loc_phone: phone,
            loc_address: address,
            questions,
            hosts: v.hosts.iter().map(|h| h.user.id.to_string()).collect(),
            weights: v
                .hosts
                .iter()
                .map(|h| {
                    (
                        h.user.id.to_string(),
                        (h.priority.to_string(), h.weight.to_string()),
                    )
                })
                .collect(),
            primary: v
                .primary_host()
                .map(|h| h.user.id.to_string())
                .unwrap_or_default(),
            active: v.row.active,
        }
    }

    fn from_pairs(f: &Pairs) -> Self {
        let text = |n: &str| f.get(n).to_string();
        let mut weights: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (id, p) in f.prefixed("priority_") {
            weights.entry(id.to_string()).or_default().0 = p.to_string();
        }
        for (id, w) in f.prefixed("weight_") {
            weights.entry(id.to_string()).or_default().1 = w.to_string();
        }
        Self {
            kind: text("kind"),
            title: text("title"),
            slug: text("slug"),
            description: text("description"),
            duration: text("duration"),
            interval: text("interval"),
            buffer_before: text("buffer_before"),
            buffer_after: text("buffer_after"),
            min_notice: text("min_notice"),
            window_days: text("window_days"),
            daily_limit: text("daily_limit"),
            location: text("location"),
            loc_url: text("loc_url"),
            loc_dial_in: text("loc_dial_in"),
            loc_phone: text("loc_phone"),
            loc_address: text("loc_address"),
            questions: text("questions"),
            hosts: f.all("host").into_iter().map(str::to_string).collect(),
            weights,
            primary: text("primary"),
            active: f.has("active"),
        }
    }

    fn parse(&self) -> Result<EventTypeInput, String> {
        let kind: EventTypeKind = self.kind.parse().map_err(|e| format!("Kind: {e}"))?;
        let title = EventTitle::parse(&self.title).map_err(|e| format!("Title: {e}"))?;
        let slug = if self.slug.trim().is_empty() {
            EventSlug::from_title(&self.title)
        } else {
            EventSlug::parse(&self.slug)
        }
        .map_err(|e| format!("Address: {e}"))?;
        let timing = Timing::parse(TimingInput {
            duration_min: int("Duration", &self.duration)?,
            interval_min: optional_int("Slot interval", &self.interval)?,
            buffer_before_min: optional_int("Buffer before", &self.buffer_before)?.unwrap_or(0),
            buffer_after_min: optional_int("Buffer after", &self.buffer_after)?.unwrap_or(0),
            min_notice_min: optional_int("Minimum notice", &self.min_notice)?.unwrap_or(0),
            window_days: optional_int("Booking window", &self.window_days)?.unwrap_or(60),
            daily_limit: optional_int("Daily limit", &self.daily_limit)?,
        })
        .map_err(|e| sentence(&e.to_string()))?;
        let location = match self.location.as_str() {
            "" | "host_default" => EventLocation::HostDefault,
            "zoom" => EventLocation::Zoom,
            "manual" => EventLocation::Manual {
                details: ManualDetails::parse(
                    Some(&self.loc_url),
                    Some(&self.loc_dial_in),
                    Some(&self.loc_phone),
                    Some(&self.loc_address),
                )
                .map_err(|e| format!("Location: {e}"))?,
            },
            "in_person" => {
                EventLocation::in_person(&self.loc_address).map_err(|e| format!("Location: {e}"))?
            }
            other => {
                return Err(format!(
                    "Location: '{}' is not one of host_default, zoom, manual, in_person",
                    other.chars().take(40).collect::<String>()
                ))
            }
        };
        let questions = parse_question_lines(&self.questions)?;
        let mut hosts = Vec::with_capacity(self.hosts.len());
        for id in &self.hosts {
            let user_id: UserId = id.parse().map_err(|_| {
                "Hosts: a chosen host is not a user of this organization".to_string()
            })?;
            let (p, w) = self.weights.get(id).cloned().unwrap_or_default();
            hosts.push(HostInput {
                user_id,
                priority: optional_int("Priority", &p)?.unwrap_or(0),
                weight: optional_int("Weight", &w)?.unwrap_or(1),
                is_primary: self.primary == *id,
            });
        }
        Ok(EventTypeInput {
            kind,
            title,
            slug,
            description: parse_description(&self.description)
                .map_err(|e| format!("Description: {e}"))?,
            timing,
            location,
            questions,
            hosts,
            active: self.active,
        })
    }
}

fn int(label: &str, raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .map_err(|_| format!("{label} must be a whole number"))
}

fn optional_int(label: &str, raw: &str) -> Result<Option<i64>, String> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        int(label, raw).map(Some)
    }
}

/// "label | short_text|long_text|phone | required|optional | key", one per line; only
/// the label is needed. New questions get keys that no other question uses.
fn parse_question_lines(text: &str) -> Result<Vec<Question>, String> {
    let mut out: Vec<Question> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        if line.chars().any(char::is_control) {
            return Err(format!(
                "Questions, line {n}: a question must not contain control characters"
            ));
        }
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        if parts.len() > 4 {
            return Err(format!(
                "Questions, line {n}: write 'label | kind | required or optional' (a label cannot contain '|')"
            ));
        }
        let kind = match parts.get(1).copied().unwrap_or("") {
            "" | "short_text" | "short" | "text" => QuestionKind::ShortText,
            "long_text" | "long" => QuestionKind::LongText,
            "phone" => QuestionKind::Phone,
            other => {
                return Err(format!(
                    "Questions, line {n}: '{}' is not a kind (short_text, long_text or phone)",
                    other.chars().take(40).collect::<String>()
                ))
            }
        };
        let required = match parts.get(2).copied().unwrap_or("") {
            "" | "optional" => false,
            "required" => true,
            other => {
                return Err(format!(
                    "Questions, line {n}: '{}' must be 'required' or 'optional'",
                    other.chars().take(40).collect::<String>()
                ))
            }
        };
        out.push(Question {
            key: parts.get(3).copied().unwrap_or("").to_string(),
            label: parts[0].to_string(),
            kind,
            required,
        });
    }
    // Keys are what answers are stored under: keep the ones given, make new ones unique.
    let mut used: Vec<String> = out
        .iter()
        .filter(|q| !q.key.is_empty())
        .map(|q| q.key.clone())
        .collect();
    let mut next = 1;
    for q in out.iter_mut().filter(|q| q.key.is_empty()) {
        while used.contains(&format!("q{next}")) {
            next += 1;
        }
        q.key = format!("q{next}");
        used.push(q.key.clone());
    }
    parse_questions(out).map_err(|e| format!("Questions: {e}"))
}

/// Who may be chosen as a host, and a warning for those who cannot be booked.
struct Candidate {
    id: String,
    name: String,
    email: String,
    warning: Option<String>,
}

async fn candidates(st: &AppState, s: &Session, current: Option<&EventTypeView>) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let mut add = |id: UserId, name: &str, email: &str, warning: Option<String>| {
        let id = id.to_string();
        match out.iter_mut().find(|c| c.id == id) {
            Some(c) => {
                if warning.is_some() {
                    c.warning = warning;
                }
            }
            None => out.push(Candidate {
                id,
                name: name.to_string(),
                email: email.to_string(),
                warning,
            }),
        }
    };
    add(s.user.id, s.user.display_name(), &s.user.email, None);
    if s.actor.can(Permission::ManageEventTypes) {
        let directory =
            s.actor.can(Permission::ManageUsers) || s.actor.can(Permission::ManageGroups);
        if directory {
            let q = UserQuery {
                filter: UserFilter::Active,
                action_required: false,
                search: None,
                after: None,
                limit: 500,
            };
            if let Ok(p) = st.app.users_page(&s.actor, q).await {
                for u in &p.users {
                    add(u.id, u.display_name(), &u.email, None);
                }
            }
        }
        // Without the user directory, the hosts of other event types can still be chosen.
        if let Ok(all) = st.app.event_types(&s.actor).await {
            for h in all.iter().flat_map(|v| &v.hosts) {
                add(h.user.id, h.user.display_name(), &h.user.email, None);
            }
        }
    }
    if let Some(v) = current {
        for h in &v.hosts {
            let warning = h
                .location
                .as_ref()
                .err()
                .map(|e| format!("Not bookable: {e}"));
            add(h.user.id, h.user.display_name(), &h.user.email, warning);
        }
    }
    out
}

/// How the current user may edit an event type.
enum Editing {
    /// A new event type, or the user's own personal one: no lock.
    Free,
    /// The user holds the edit lock with this token.
    Held(String),
    /// Another admin holds it.
    Theirs(LockRow),
    /// The user hosts it but may not change it.
    ReadOnly,
}

fn own_personal(s: &Session, v: &EventTypeView) -> bool {
    v.row.kind == EventTypeKind::Personal
        && v.hosts.len() == 1
        && v.hosts[0].user.id == s.actor.user_id
}

async fn open(
    st: &AppState,
    s: &Session,
    v: &EventTypeView,
    takeover: bool,
) -> Result<Editing, WebError> {
    if own_personal(s, v) {
        return Ok(Editing::Free);
    }
    if !s.actor.can(Permission::ManageEventTypes) {
        return Ok(Editing::ReadOnly);
    }
    let resource = LockResource::EventType(v.row.id.to_string());
    Ok(
        match st
            .app
            .acquire_lock(&s.actor, &resource, takeover)
            .await
            .map_err(page_err)?
        {
            LockState::Mine { token, .. } => Editing::Held(token),
            LockState::Theirs(l) => Editing::Theirs(l),
        },
    )
}

/// After a refused save: the token the form carried, or the lock as it is now.
async fn reopen(
    st: &AppState,
    s: &Session,
    v: &EventTypeView,
    token: &str,
) -> Result<Editing, WebError> {
    if token.is_empty() || own_personal(s, v) {
        return open(st, s, v, false).await;
    }
    Ok(Editing::Held(token.to_string()))
}

struct FormPage<'a> {
    s: &'a Session,
    org_slug: &'a str,
    /// `None` for a new event type.
    id: Option<EventTypeId>,
    editing: &'a Editing,
    candidates: &'a [Candidate],
}

fn num(name: &str, label: &str, value: &str, hint: &str) -> Markup {
    html! {
        div {
            label for=(name) { (label) }
            input type="text" inputmode="numeric" id=(name) name=(name) value=(value);
            @if !hint.is_empty() { span.muted { (hint) } }
        }
    }
}

fn form_markup(c: &FormPage<'_>, f: &EtForm, error: Option<&str>) -> Markup {
    let (token, editable) = match c.editing {
        Editing::Free => ("", true),
        Editing::Held(t) => (t.as_str(), true),
        Editing::Theirs(_) | Editing::ReadOnly => ("", false),
    };
    let action = match c.id {
        Some(id) => format!("/event-types/{id}"),
        None => "/event-types/new".to_string(),
    };
    let may_share = c.s.actor.can(Permission::ManageEventTypes);
    html! {
        @if let Some(e) = error { p.alert role="alert" #form-error { (e) } }
        @if let (Editing::Theirs(l), Some(id)) = (c.editing, c.id) {
            div.banner role="alert" #lock-banner {
                strong { (l.holder_name) } " is editing this event type (since " (time(l.acquired_at)) "). Only one admin can edit it at a time."
                form method="post" action=(format!("/event-types/{id}/takeover")) style="display:inline" {
                    (csrf(c.s)) button type="submit" #takeover { "Take over" }
                }
            }
        }
        @if let Editing::ReadOnly = c.editing {
            p.alert #read-only { "You host this event type; only admins who manage event types can change it." }
        }
        div.card {
            form #event-type-form method="post" action=(action) {
                (csrf(c.s))
                input type="hidden" name="lock_token" value=(token);
                fieldset disabled[!editable] style="border:0;padding:0;margin:0" {
                    div.row {
                        div {
                            label for="kind" { "Kind" }
                            @if c.id.is_some() {
                                input type="hidden" name="kind" value=(f.kind);
                                select #kind disabled {
                                    @for k in KINDS { option value=(k.as_str()) selected[f.kind == k.as_str()] { (k.label()) } }
                                }
                            } @else {
                                select #kind name="kind" {
                                    @for k in KINDS {
                                        @if may_share || k == EventTypeKind::Personal {
                                            option value=(k.as_str()) selected[f.kind == k.as_str()] { (k.label()) }
                                        }
                                    }
                                }
                            }
                        }
                        div { label for="title" { "Title" } input type="text" #title name="title" value=(f.title) required maxlength="120"; }
                        div {
                            label for="slug" { "Address" }
                            input type="text" #slug name="slug" value=(f.slug) placeholder="made from the title";
                            span.muted { "/book/" (c.org_slug) "/…" }
                        }
                    }
                    label for="description" { "Description (shown on the booking page)" }
                    textarea #description name="description" maxlength="2000" { (f.description) }
                    div.row {
                        (num("duration", "Duration (minutes)", &f.duration, ""))
                        (num("interval", "Slot interval (minutes)", &f.interval, "empty: the duration"))
                        (num("buffer_before", "Buffer before (minutes)", &f.buffer_before, ""))
                        (num("buffer_after", "Buffer after (minutes)", &f.buffer_after, ""))
                    }
                    div.row {
                        (num("min_notice", "Minimum notice (minutes)", &f.min_notice, ""))
                        (num("window_days", "Bookable up to (days ahead)", &f.window_days, ""))
                        (num("daily_limit", "Daily limit per host", &f.daily_limit, "empty: no limit"))
                    }
                    label for="location" { "Location" }
                    select #location name="location" {
                        @for (v, l) in LOCATIONS { option value=(v) selected[f.location == v] { (l) } }
                    }
                    p.muted { "For manual details or in person:" }
                    div.row {
                        div { label for="loc_url" { "Meeting link (https://…)" } input type="text" #loc_url name="loc_url" value=(f.loc_url); }
                        div { label for="loc_phone" { "Phone number" } input type="text" #loc_phone name="loc_phone" value=(f.loc_phone); }
                        div { label for="loc_dial_in" { "Dial-in details" } input type="text" #loc_dial_in name="loc_dial_in" value=(f.loc_dial_in); }
                        div { label for="loc_address" { "Address" } input type="text" #loc_address name="loc_address" value=(f.loc_address); }
                    }
                    label for="questions" { "Questions for the invitee" }
                    p.muted { "One per line: " code { "Company | short_text | required" } " — kinds: short_text, long_text, phone; required or optional. Name and email are always asked." }
                    textarea #questions name="questions" { (f.questions) }
                    h2 style="margin-top:16px" { "Hosts" }
                    p.muted { "Round Robin offers the free host with the highest priority, then by weight. Collective needs every host free; the meeting uses the primary host's conferencing account." }
                    table #hosts {
                        thead { tr { th { "Host" } th { "Priority" } th { "Weight" } th { "Primary" } } }
                        tbody {
                            @for h in c.candidates {
                                @let (p, w) = f.weights.get(&h.id).cloned().unwrap_or_else(|| ("0".into(), "1".into()));
                                tr data-user-id=(h.id) {
                                    td {
                                        label.checks style="margin:0;font-weight:400" {
                                            input type="checkbox" name="host" value=(h.id) checked[f.hosts.contains(&h.id)];
                                            (h.name) " " span.muted { (h.email) }
                                        }
                                        @if let Some(wn) = &h.warning { span.unbookable style="color:#b91c1c;font-size:13px" { (wn) } }
                                    }
                                    td { input type="text" inputmode="numeric" name=(format!("priority_{}", h.id)) value=(p) size="4" aria-label="Priority"; }
                                    td { input type="text" inputmode="numeric" name=(format!("weight_{}", h.id)) value=(w) size="4" aria-label="Weight"; }
                                    td { input type="radio" name="primary" value=(h.id) checked[f.primary == h.id] aria-label="Primary host"; }
                                }
                            }
                        }
                    }
                    label.checks { input type="checkbox" name="active" value="1" checked[f.active]; "Active (invitees can book it)" }
                    p { button #save-event-type type="submit" { "Save event type" } " " a href="/event-types" { "Back to event types" } }
                }
            }
        }
    }
}

fn respond(
    s: &Session,
    status: StatusCode,
    title: &str,
    notice: Option<&str>,
    body: Markup,
) -> Response {
    (
        status,
        Html(page(title, Some(s), notice, body).into_string()),
    )
        .into_response()
}

async fn org_slug(st: &AppState, s: &Session) -> Result<String, WebError> {
    Ok(st.app.org_of(s.actor.org_id).await.map_err(page_err)?.slug)
}

async fn list(
    State(st): State<AppState>,
    s: Session,
    HtmlQuery(n): HtmlQuery<Notice>,
) -> Result<Response, WebError> {
    let all = st.app.event_types(&s.actor).await.map_err(page_err)?;
    let org = org_slug(&st, &s).await?;
    let body = html! {
        h1 { "Event types" }
        p { a.button #new-event-type href="/event-types/new" { "+ New event type" } }
        table #event-types {
            thead { tr { th { "Title" } th { "Kind" } th { "Hosts" } th { "Duration" } th { "Booking page" } th { "Status" } } }
            tbody {
                @for v in &all {
                    @let path = format!("/book/{org}/{}", v.row.slug);
                    tr data-event-type-id=(v.row.id) data-slug=(v.row.slug) data-kind=(v.row.kind.as_str()) {
                        td { a href=(format!("/event-types/{}", v.row.id)) { (v.row.title) } }
                        td { (v.row.kind.label()) }
                        td {
                            ul style="margin:0;padding-left:16px" {
                                @for h in &v.hosts {
                                    li data-user-id=(h.user.id) data-bookable=(if h.location.is_ok() { "true" } else { "false" }) {
                                        (h.user.display_name())
                                        @if v.hosts.len() > 1 && h.is_primary && v.row.kind == EventTypeKind::Collective { span.muted { " (primary)" } }
                                        @if let Err(why) = &h.location {
                                            " " span.pill.pending.unbookable data-reason=(why.code()) { "Not bookable: " (why) }
                                        }
                                    }
                                }
                            }
                        }
                        td { (v.timing.duration_min()) " min" }
                        td { a.public-link href=(path) { (path) } }
                        td {
                            @if v.row.active { span.pill.active { "Active" } } @else { span.pill.deactivated { "Inactive" } }
                        }
                    }
                }
                @if all.is_empty() { tr { td colspan="6" .muted { "No event types yet." } } }
            }
        }
    };
    Ok(respond(
        &s,
        StatusCode::OK,
        "Event types",
        n.notice.as_deref(),
        body,
    ))
}

async fn new_form(State(st): State<AppState>, s: Session) -> Result<Response, WebError> {
    let org = org_slug(&st, &s).await?;
    let cands = candidates(&st, &s, None).await;
    let c = FormPage {
        s: &s,
        org_slug: &org,
        id: None,
        editing: &Editing::Free,
        candidates: &cands,
    };
    let body = html! { h1 { "New event type" } (form_markup(&c, &EtForm::new_for(&s), None)) };
    Ok(respond(&s, StatusCode::OK, "New event type", None, body))
}

async fn create(
    State(st): State<AppState>,
    s: Session,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = Pairs(pairs);
    s.check_csrf(f.get("_csrf"))?;
    let form = EtForm::from_pairs(&f);
    let error = match form.parse() {
        Ok(input) => match st.app.create_event_type(&s.actor, input).await {
            Ok(v) => {
                let org = org_slug(&st, &s).await?;
                return Ok(redirect_with_notice(
                    "/event-types",
                    &format!(
                        "“{}” was created; its booking page is /book/{org}/{}.",
                        v.row.title, v.row.slug
                    ),
                )
                .into_response());
            }
            Err(AppError::Invalid { message, .. }) => sentence(&message),
            Err(AppError::Conflict { message, .. }) => sentence(&message),
            Err(e) => return Err(page_err(e)),
        },
        Err(e) => e,
    };
    let org = org_slug(&st, &s).await?;
    let cands = candidates(&st, &s, None).await;
    let c = FormPage {
        s: &s,
        org_slug: &org,
        id: None,
        editing: &Editing::Free,
        candidates: &cands,
    };
    let body = html! { h1 { "New event type" } (form_markup(&c, &form, Some(&error))) };
    Ok(respond(
        &s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "New event type",
        None,
        body,
    ))
}

/// The edit page's body: the event type's form as `form` has it.
async fn edit_body(
    st: &AppState,
    s: &Session,
    v: &EventTypeView,
    editing: &Editing,
    form: &EtForm,
    error: Option<&str>,
) -> Result<Markup, WebError> {
    let org = org_slug(st, s).await?;
    let cands = candidates(st, s, Some(v)).await;
    let c = FormPage {
        s,
        org_slug: &org,
        id: Some(v.row.id),
        editing,
        candidates: &cands,
    };
    let path = format!("/book/{org}/{}", v.row.slug);
    Ok(html! {
        h1 { "Event type: " (v.row.title) }
        p.muted { (v.row.kind.label()) " · booking page " a href=(path) { (path) } }
        (form_markup(&c, form, error))
    })
}

async fn edit_form(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlQuery(n): HtmlQuery<Notice>,
) -> Result<Response, WebError> {
    let id: EventTypeId = parse_id(&raw, "event type", Surface::Html)?;
    let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
    let editing = open(&st, &s, &v, false).await?;
    let body = edit_body(&st, &s, &v, &editing, &EtForm::from_view(&v), None).await?;
    Ok(respond(
        &s,
        StatusCode::OK,
        "Event type",
        n.notice.as_deref(),
        body,
    ))
}

async fn save(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(pairs): HtmlForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let f = Pairs(pairs);
    s.check_csrf(f.get("_csrf"))?;
    let id: EventTypeId = parse_id(&raw, "event type", Surface::Html)?;
    let form = EtForm::from_pairs(&f);
    let token = f.get("lock_token").trim();
    let input = match form.parse() {
        Ok(i) => i,
        Err(e) => {
            let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
            let editing = reopen(&st, &s, &v, token).await?;
            let body = edit_body(&st, &s, &v, &editing, &form, Some(&e)).await?;
            return Ok(respond(
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                "Event type",
                None,
                body,
            ));
        }
    };
    let lock = (!token.is_empty()).then_some(token);
    let (status, message, editing) = match st.app.update_event_type(&s.actor, id, lock, input).await
    {
        Ok(v) => {
            return Ok(redirect_with_notice(
                "/event-types",
                &format!("“{}” was saved.", v.row.title),
            )
            .into_response())
        }
        Err(AppError::Locked { message, .. }) => {
            let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
            (
                StatusCode::CONFLICT,
                sentence(&message),
                open(&st, &s, &v, false).await?,
            )
        }
        Err(AppError::Invalid { message, .. }) => {
            let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                sentence(&message),
                reopen(&st, &s, &v, token).await?,
            )
        }
        Err(AppError::Conflict { message, .. }) => {
            let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
            (
                StatusCode::CONFLICT,
                sentence(&message),
                reopen(&st, &s, &v, token).await?,
            )
        }
        Err(e) => return Err(page_err(e)),
    };
    let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
    let body = edit_body(&st, &s, &v, &editing, &form, Some(&message)).await?;
    Ok(respond(&s, status, "Event type", None, body))
}

async fn takeover(
    State(st): State<AppState>,
    s: Session,
    HtmlPath(raw): HtmlPath<String>,
    HtmlForm(f): HtmlForm<CsrfOnly>,
) -> Result<Redirect, WebError> {
    s.check_csrf(&f._csrf)?;
    let id: EventTypeId = parse_id(&raw, "event type", Surface::Html)?;
    let v = st.app.event_type(&s.actor, id).await.map_err(page_err)?;
    open(&st, &s, &v, true).await?;
    Ok(redirect_with_notice(
        &format!("/event-types/{id}"),
        "You now hold the edit lock of this event type.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_lines_keep_keys_and_make_new_ones() {
        let q = parse_question_lines(
            "Company | short_text | required | q1\n\nAgenda | long_text\nPhone | phone | optional",
        )
        .unwrap();
        assert_eq!(q.len(), 3);
        assert_eq!(q[0].key, "q1");
        assert!(q[0].required);
        assert_eq!(q[1].kind, QuestionKind::LongText);
        assert_eq!(q[1].key, "q2");
        assert_eq!(q[2].key, "q3");
        assert!(!q[2].required);
        // A new question above an existing q1 does not take its key.
        let q = parse_question_lines("New\nOld | short_text | optional | q1").unwrap();
        assert_eq!(q[0].key, "q2");
        assert!(parse_question_lines("X | video")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse_question_lines("X | phone | maybe").is_err());
        assert!(parse_question_lines("a|b|c|d|e").is_err());
        for bad in [
            "To\u{0}pic | short_text",
            "Topic | short\u{0}_text",
            "Topic\u{0}",
        ] {
            assert_eq!(
                parse_question_lines(&format!("Agenda\r\n\r\n{bad}")).unwrap_err(),
                "Questions, line 3: a question must not contain control characters",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn form_parses_into_input_with_friendly_errors() {
        let me = UserId::new().to_string();
        let mut f = EtForm {
            kind: "round_robin".into(),
            title: "Intro call".into(),
            duration: "30".into(),
            location: "zoom".into(),
            hosts: vec![me.clone()],
            primary: me.clone(),
            active: true,
            ..EtForm::default()
        };
        let input = f.parse().unwrap();
        assert_eq!(input.slug.as_str(), "intro-call");
        assert_eq!(input.timing.duration_min(), 30);
        assert_eq!(input.hosts[0].weight, 1);
        assert!(input.hosts[0].is_primary);
        f.duration = "half an hour".into();
        assert_eq!(f.parse().unwrap_err(), "Duration must be a whole number");
        f.duration = "0".into();
        assert!(f
            .parse()
            .unwrap_err()
            .starts_with("Duration (minutes) must be between"));
        f.duration = "30".into();
        f.location = "in_person".into();
        assert!(f.parse().unwrap_err().starts_with("Location:"));
        f.location = "host_default".into();
        f.description = "Line one\r\nLine two\u{0}".into();
        assert_eq!(
            f.parse().unwrap_err(),
            "Description: the description must not contain control characters"
        );
        f.description = " Line one\r\n\tLine two ".into();
        assert_eq!(f.parse().unwrap().description, "Line one\n\tLine two");
        f.location = "manual".into();
        f.loc_dial_in = "Dial\u{0}".into();
        assert_eq!(
            f.parse().unwrap_err(),
            "Location: dial-in details must not contain control characters"
        );
        f.location = "in_person".into();
        f.loc_address = "1 Main St\u{0}".into();
        assert_eq!(
            f.parse().unwrap_err(),
            "Location: the address must not contain control characters"
        );
        f.location = "host_default".into();
        f.hosts = vec!["nobody".into()];
        assert!(f.parse().unwrap_err().starts_with("Hosts:"));
    }
}
