//! Security (SPEC §2): every `/api/v1` route called by every kind of caller and held
//! to the permission model, tenants that never see each other, CSRF on every form, and
//! admin pages refused to members.
//!
//! The helpers at the top are shared with `bad_input`.

use convene_test_support::{session_from, Member, TestApp, TestOrg, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A well-formed id that names nothing.
pub(crate) const NO_SUCH_ID: &str = "01890000-0000-7000-8000-000000000000";

/// Every permission a custom admin can be granted.
pub(crate) const PERMISSIONS: [&str; 7] = [
    "manage_users",
    "manage_groups",
    "manage_integrations",
    "manage_event_types",
    "view_all_meetings",
    "manage_api_keys",
    "view_audit_log",
];

/// Form fields: names and values.
pub(crate) type Fields = Vec<(&'static str, String)>;

pub(crate) enum Body {
    None,
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

/// One `/api/v1` request with any method and body; the key is optional.
pub(crate) async fn send(
    t: &TestApp,
    key: Option<&str>,
    method: Method,
    path: &str,
    body: Body,
) -> (StatusCode, Value) {
    let mut rb = t.client.request(method, t.api(path));
    if let Some(k) = key {
        rb = rb.bearer_auth(k);
    }
    rb = match body {
        Body::None => rb,
        Body::Json(v) => rb.json(&v),
        Body::Raw(content_type, bytes) => rb.header("content-type", content_type).body(bytes),
    };
    let r = rb.send().await.expect("request");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Why a response is not the JSON error `{"error":{"code","message",…}}` with this
/// status and code, if it is not.
pub(crate) fn error_mismatch(
    status: StatusCode,
    body: &Value,
    want: StatusCode,
    code: &str,
) -> Option<String> {
    let message = body["error"]["message"].as_str().unwrap_or("");
    if status != want
        || body["error"]["code"] != code
        || message.trim().is_empty()
        || body["error"].get("details").is_none()
    {
        Some(format!("expected {want} {code}, got {status}: {body}"))
    } else {
        None
    }
}

#[track_caller]
pub(crate) fn assert_error(
    ctx: &str,
    (status, body): (StatusCode, Value),
    want: StatusCode,
    code: &str,
) -> Value {
    if let Some(why) = error_mismatch(status, &body, want, code) {
        panic!("{ctx}: {why}");
    }
    body
}

/// The smallest thing that sniffs as a PNG.
pub(crate) fn png() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend_from_slice(&[0u8; 64]);
    b
}

pub(crate) async fn org_id(t: &TestApp, key: &str) -> String {
    let (status, org) = t.get(key, "/org").await;
    assert_eq!(status, StatusCode::OK, "{org}");
    org["id"].as_str().unwrap().to_string()
}

/// A job of `org` that is dead: a kind this version cannot read dies on its first run.
pub(crate) async fn dead_job(t: &TestApp, org_id: &str) -> String {
    let now = t.app.now();
    let mut tx = t.app.store.write().await.unwrap();
    let job = convene_store::NewJob {
        kind: "from_a_future_version".into(),
        payload: "{}".into(),
        dedupe_key: None,
        org_id: Some(org_id.parse().unwrap()),
        max_attempts: 1,
        run_at: now,
    };
    let id = tx.enqueue(&job, now).await.unwrap().unwrap();
    tx.commit().await.unwrap();
    t.run_jobs().await;
    id.to_string()
}

/// A joined user made a custom admin with exactly `perms`, by the org's admin.
pub(crate) async fn custom_admin(
    t: &TestApp,
    org: &TestOrg,
    email: &str,
    perms: &[&str],
) -> Member {
    let m = t.member(org, email, "meetings").await;
    let (status, user) = t
        .patch(
            &org.key,
            &format!("/users/{}", m.id),
            json!({"role": "custom_admin", "permissions": perms}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["permissions"], json!(perms));
    m
}

/// What an org looks like through its admin's API key, to prove a refused request
/// changed nothing. `extra` adds GETs of particular records.
pub(crate) async fn snapshot(t: &TestApp, key: &str, extra: &[String]) -> Value {
    let mut out = serde_json::Map::new();
    let mut paths: Vec<String> = [
        "/users?limit=500",
        "/users?filter=deactivated&limit=500",
        "/groups",
        "/org",
        "/api-keys",
        "/jobs",
        "/audit-log?limit=200",
        "/outbox",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    paths.extend(extra.iter().cloned());
    for p in paths {
        let (status, body) = t.get(key, &p).await;
        assert!(
            status.is_success() || status == StatusCode::NOT_FOUND,
            "snapshot {p}: {status} {body}"
        );
        out.insert(p, json!({"status": status.as_u16(), "body": body}));
    }
    Value::Object(out)
}

/// A page or form answer of the web UI.
pub(crate) struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub content_type: String,
    pub text: String,
    pub session: Option<String>,
}

impl Page {
    pub(crate) fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }
}

/// A request to the web UI with a raw `Cookie` header and an optional body.
pub(crate) async fn web(
    t: &TestApp,
    method: Method,
    path: &str,
    cookie: Option<&str>,
    body: Option<(String, Vec<u8>)>,
) -> Page {
    let url = if path.starts_with("http") {
        path.to_string()
    } else {
        format!("{}{path}", t.url)
    };
    let mut rb = t.client.request(method, url);
    if let Some(c) = cookie {
        rb = rb.header("cookie", c);
    }
    if let Some((ct, bytes)) = body {
        rb = rb.header("content-type", ct).body(bytes);
    }
    let r = rb.send().await.expect("web request");
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let session = session_from(&r);
    let text = r.text().await.unwrap_or_default();
    Page {
        status,
        location,
        content_type,
        text,
        session,
    }
}

pub(crate) fn form_body(fields: &[(&str, &str)]) -> Option<(String, Vec<u8>)> {
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Some((
        "application/x-www-form-urlencoded".into(),
        encoded.into_bytes(),
    ))
}

/// A `multipart/form-data` body with text fields and one `photo` file.
pub(crate) fn multipart(
    fields: &[(&str, &str)],
    photo: Option<&[u8]>,
) -> Option<(String, Vec<u8>)> {
    let b = "convene-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some(bytes) = photo {
        body.extend_from_slice(format!("--{b}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    Some((format!("multipart/form-data; boundary={b}"), body))
}

pub(crate) fn session_cookie(session: &str) -> String {
    format!("convene_session={session}")
}

// ---------------------------------------------------------------------------------
// The permission matrix.

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Every active member of the org.
    Anyone,
    /// Admins, and custom admins granted this permission.
    Perm(&'static str),
    /// Admins, and custom admins granted either permission.
    Either(&'static str, &'static str),
    /// Admins only: acts on admins or makes admins.
    FullAdmin,
}

struct Caller {
    name: String,
    key: String,
    id: String,
    session: String,
    admin: bool,
    perms: Vec<&'static str>,
}

impl Caller {
    fn may(&self, rule: Rule) -> bool {
        let has = |p: &str| self.admin || self.perms.contains(&p);
        match rule {
            Rule::Anyone => true,
            Rule::Perm(p) => has(p),
            Rule::Either(a, b) => has(a) || has(b),
            Rule::FullAdmin => self.admin,
        }
    }
}

/// A request body with `{placeholders}`.
#[derive(Clone, Copy)]
enum Tpl {
    None,
    Json(&'static str),
    Png,
}

fn fill(s: &str, vars: &HashMap<&'static str, String>) -> String {
    let mut out = s.to_string();
    for (k, v) in vars {
        out = out.replace(k, v);
    }
    out
}

impl Tpl {
    fn body(self, vars: &HashMap<&'static str, String>) -> Body {
        match self {
            Tpl::None => Body::None,
            Tpl::Json(s) => Body::Json(
                serde_json::from_str(&fill(s, vars))
                    .unwrap_or_else(|e| panic!("template {s}: {e}")),
            ),
            Tpl::Png => Body::Raw("image/png", png()),
        }
    }
}

/// A request made before the one under test, so that it meets the same state for every
/// caller. Its answer's `capture` field (if any) becomes `{tmp}`.
enum Prep {
    /// By the org's admin; must succeed.
    Admin(Method, &'static str, Tpl, Option<&'static str>),
    /// By the caller under test; may be refused (then `{tmp}` keeps its dummy value).
    Caller(Method, &'static str, Tpl, Option<&'static str>),
    /// Runs queued jobs (a retried dead job dies again).
    RunJobs,
}

struct Route {
    method: Method,
    path: &'static str,
    body: Tpl,
    rule: Rule,
    ok: u16,
    prep: Vec<Prep>,
}

fn route(method: Method, path: &'static str, body: Tpl, rule: Rule, ok: u16) -> Route {
    Route {
        method,
        path,
        body,
        rule,
        ok,
        prep: vec![],
    }
}

impl Route {
    fn prep(mut self, p: Prep) -> Self {
        self.prep.push(p);
        self
    }
}

const MU: &str = "manage_users";
const MG: &str = "manage_groups";
const MI: &str = "manage_integrations";
const MET: &str = "manage_event_types";
const MAK: &str = "manage_api_keys";
const VAL: &str = "view_audit_log";

/// Every route of the router in `crates/web/src/api/mod.rs`, with every method, and who
/// may call it (`crates/app/src`). Targets: `{victim}` a meetings user, `{d}` a
/// meetings user who is deactivated and reactivated, `{ca}` a custom admin, `{p}` a
/// pending meetings user, `{pa}` a pending custom admin, `{g}` a group, `{msg}` an
/// outbox message, `{job}` a dead job, `{self}` the caller.
fn routes() -> Vec<Route> {
    use Rule::*;
    use Tpl::{Json, Png};
    let none = Tpl::None;
    let (get, post, put, patch, delete) = (
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    );
    let as_meetings = || {
        Prep::Admin(
            Method::PATCH,
            "/users/{victim}",
            Json(r#"{"role":"meetings"}"#),
            None,
        )
    };
    vec![
        route(get.clone(), "/openapi.json", none, Anyone, 200),
        route(get.clone(), "/me", none, Anyone, 200),
        // Users: the directory is for those who manage users or groups.
        route(get.clone(), "/users", none, Either(MU, MG), 200),
        route(get.clone(), "/users/{victim}", none, Either(MU, MG), 200),
        route(get.clone(), "/users/{self}", none, Anyone, 200),
        route(
            patch.clone(),
            "/users/{victim}",
            Json(r#"{"role":"chat"}"#),
            Perm(MU),
            200,
        )
        .prep(as_meetings()),
        // Making an admin, or touching one, is for admins only.
        route(
            patch.clone(),
            "/users/{victim}",
            Json(r#"{"role":"custom_admin","permissions":["manage_groups"]}"#),
            FullAdmin,
            200,
        )
        .prep(as_meetings()),
        route(
            patch.clone(),
            "/users/{self}",
            Json(r#"{"role":"chat"}"#),
            FullAdmin,
            409,
        )
        .prep(as_meetings()),
        route(
            post.clone(),
            "/users/{d}/deactivate",
            Json("{}"),
            Perm(MU),
            200,
        ),
        route(
            post.clone(),
            "/users/{d}/reactivate",
            Json("{}"),
            Perm(MU),
            200,
        )
        .prep(Prep::Admin(
            post.clone(),
            "/users/{d}/deactivate",
            Json("{}"),
            None,
        )),
        route(
            post.clone(),
            "/users/{ca}/reactivate",
            Json("{}"),
            FullAdmin,
            200,
        )
        .prep(Prep::Admin(
            post.clone(),
            "/users/{ca}/deactivate",
            Json("{}"),
            None,
        )),
        route(
            patch.clone(),
            "/users/{ca}",
            Json(r#"{"role":"custom_admin","permissions":["view_audit_log"]}"#),
            FullAdmin,
            200,
        ),
        route(
            post.clone(),
            "/users/{ca}/deactivate",
            Json("{}"),
            FullAdmin,
            200,
        ),
        route(
            post.clone(),
            "/users/{p}/resend-invitation",
            Json("{}"),
            Perm(MU),
            204,
        ),
        route(
            post.clone(),
            "/users/{pa}/resend-invitation",
            Json("{}"),
            FullAdmin,
            204,
        ),
        // Photos: any member sees one; only the user or a user manager changes it.
        route(get.clone(), "/users/{victim}/photo", none, Anyone, 200).prep(Prep::Admin(
            put.clone(),
            "/users/{victim}/photo",
            Png,
            None,
        )),
        route(put.clone(), "/users/{victim}/photo", Png, Perm(MU), 204),
        route(delete.clone(), "/users/{victim}/photo", none, Perm(MU), 204).prep(Prep::Admin(
            put.clone(),
            "/users/{victim}/photo",
            Png,
            None,
        )),
        route(put.clone(), "/users/{self}/photo", Png, Anyone, 204),
        route(get.clone(), "/users/{self}/photo", none, Anyone, 200),
        route(delete.clone(), "/users/{self}/photo", none, Anyone, 204),
        // Invitations.
        route(
            post.clone(),
            "/invitations",
            Json(r#"{"emails":"new{n}@acme.example","role":"meetings"}"#),
            Perm(MU),
            200,
        ),
        route(
            post.clone(),
            "/invitations",
            Json(r#"{"emails":["g{n}@acme.example"],"role":"chat","group_id":"{g}"}"#),
            Perm(MU),
            200,
        ),
        route(
            post.clone(),
            "/invitations",
            Json(
                r#"{"emails":"ca{n}@acme.example","role":"custom_admin","permissions":["manage_users"]}"#,
            ),
            FullAdmin,
            200,
        ),
        route(
            post.clone(),
            "/invitations",
            Json(r#"{"emails":"admin{n}@acme.example","role":"admin"}"#),
            FullAdmin,
            200,
        ),
        // Groups: listed by those who manage users or groups, changed by group managers.
        route(get.clone(), "/groups", none, Either(MU, MG), 200),
        route(
            post.clone(),
            "/groups",
            Json(r#"{"name":"Team {n}"}"#),
            Perm(MG),
            201,
        ),
        route(get.clone(), "/groups/{g}", none, Either(MU, MG), 200),
        route(
            patch.clone(),
            "/groups/{g}",
            Json(r#"{"name":"Sales {n}"}"#),
            Perm(MG),
            200,
        ),
        route(
            put.clone(),
            "/groups/{g}/members/{victim}",
            none,
            Perm(MG),
            204,
        ),
        route(
            delete.clone(),
            "/groups/{g}/members/{victim}",
            none,
            Perm(MG),
            204,
        )
        .prep(Prep::Admin(
            put.clone(),
            "/groups/{g}/members/{victim}",
            none,
            None,
        )),
        route(delete.clone(), "/groups/{tmp}", none, Perm(MG), 204).prep(Prep::Admin(
            post.clone(),
            "/groups",
            Json(r#"{"name":"Doomed {n}"}"#),
            Some("id"),
        )),
        // The org: everyone reads it; integration managers edit it under the lock.
        route(get.clone(), "/org", none, Anyone, 200),
        route(
            patch.clone(),
            "/org",
            Json(r#"{"lock_token":"{tmp}","name":"Acme {n}","uses_salesforce":false}"#),
            Perm(MI),
            200,
        )
        .prep(Prep::Caller(
            post.clone(),
            "/locks/org_settings",
            Json(r#"{"takeover":true}"#),
            Some("token"),
        )),
        route(get.clone(), "/locks/org_settings", none, Perm(MI), 200).prep(Prep::Admin(
            post.clone(),
            "/locks/org_settings",
            Json(r#"{"takeover":true}"#),
            None,
        )),
        route(
            post.clone(),
            "/locks/org_settings",
            Json(r#"{"takeover":true}"#),
            Perm(MI),
            200,
        ),
        route(
            post.clone(),
            "/locks/org_settings/release",
            Json(r#"{"token":"{tmp}"}"#),
            Perm(MI),
            204,
        )
        .prep(Prep::Caller(
            post.clone(),
            "/locks/org_settings",
            Json(r#"{"takeover":true}"#),
            Some("token"),
        )),
        // Event-type locks belong to event-type managers.
        route(
            get.clone(),
            "/locks/event_type:intro-call",
            none,
            Perm(MET),
            200,
        )
        .prep(Prep::Admin(
            post.clone(),
            "/locks/event_type:intro-call",
            Json(r#"{"takeover":true}"#),
            None,
        )),
        route(
            post.clone(),
            "/locks/event_type:intro-call",
            Json(r#"{"takeover":true}"#),
            Perm(MET),
            200,
        ),
        route(
            post.clone(),
            "/locks/event_type:intro-call/release",
            Json(r#"{"token":"{tmp}"}"#),
            Perm(MET),
            204,
        )
        .prep(Prep::Caller(
            post.clone(),
            "/locks/event_type:intro-call",
            Json(r#"{"takeover":true}"#),
            Some("token"),
        )),
        // Operations.
        route(get.clone(), "/audit-log", none, Perm(VAL), 200),
        route(get.clone(), "/jobs", none, Perm(MI), 200),
        route(post.clone(), "/jobs/{job}/retry", Json("{}"), Perm(MI), 204).prep(Prep::RunJobs),
        // The outbox holds invitation links, including those of invited admins.
        route(get.clone(), "/outbox", none, FullAdmin, 200),
        route(get.clone(), "/outbox/{msg}", none, FullAdmin, 200),
        // API keys.
        route(get.clone(), "/api-keys", none, Perm(MAK), 200),
        route(
            post.clone(),
            "/api-keys",
            Json(r#"{"name":"key {n}"}"#),
            Perm(MAK),
            201,
        ),
        route(delete.clone(), "/api-keys/{tmp}", none, Perm(MAK), 204).prep(Prep::Admin(
            post.clone(),
            "/api-keys",
            Json(r#"{"name":"doomed {n}"}"#),
            Some("id"),
        )),
    ]
}

/// An org with an admin, a custom admin with no permission, one custom admin per
/// permission, a chat and a meetings user — each with an API key and a session — and
/// the targets the routes act on.
struct World {
    t: TestApp,
    org: TestOrg,
    callers: Vec<Caller>,
    vars: HashMap<&'static str, String>,
}

/// Callers by kind: `admin` (the org's admin), `chat`, `meetings`, or
/// `custom_admin[p,…]` with exactly those permissions.
async fn world(kinds: &[&'static str]) -> World {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let mut callers = vec![];
    for kind in kinds {
        let caller = match *kind {
            "admin" => Caller {
                name: "admin".into(),
                key: org.key.clone(),
                id: org.admin_id.clone(),
                session: t
                    .login(&org.admin_email, PASSWORD)
                    .await
                    .expect("admin session"),
                admin: true,
                perms: vec![],
            },
            "chat" | "meetings" => {
                let m = t.member(&org, &format!("{kind}@acme.example"), kind).await;
                Caller {
                    name: kind.to_string(),
                    key: m.key,
                    id: m.id,
                    session: m.session,
                    admin: false,
                    perms: vec![],
                }
            }
            custom => {
                let perms: Vec<&'static str> = custom
                    .strip_prefix("custom_admin[")
                    .and_then(|r| r.strip_suffix(']'))
                    .unwrap_or_else(|| panic!("unknown caller kind {custom}"))
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .collect();
                let email = format!(
                    "custom-{}@acme.example",
                    if perms.is_empty() {
                        "none".to_string()
                    } else {
                        perms.join("-").replace('_', "-")
                    }
                );
                let m = custom_admin(&t, &org, &email, &perms).await;
                Caller {
                    name: custom.to_string(),
                    key: m.key,
                    id: m.id,
                    session: m.session,
                    admin: false,
                    perms,
                }
            }
        };
        callers.push(caller);
    }

    let victim = t.member(&org, "victim@acme.example", "meetings").await;
    let d = t.member(&org, "dee@acme.example", "meetings").await;
    let ca = custom_admin(&t, &org, "target-admin@acme.example", &["manage_groups"]).await;
    let p = t.invite(&org.key, "pending@acme.example", "meetings").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, pa) = t.post(&org.key, "/invitations", json!({"emails": "pending-admin@acme.example", "role": "custom_admin", "permissions": ["manage_users"]})).await;
    assert_eq!(status, StatusCode::OK, "{pa}");
    let pa = pa["invited"][0]["user_id"].as_str().unwrap().to_string();
    let (status, g) = t.post(&org.key, "/groups", json!({"name": "Sales"})).await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    let msg = t.last_email_to(&org.key, "pending@acme.example").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = dead_job(&t, &org_id(&t, &org.key).await).await;

    let mut vars = HashMap::new();
    vars.insert("{victim}", victim.id);
    vars.insert("{d}", d.id);
    vars.insert("{ca}", ca.id);
    vars.insert("{p}", p);
    vars.insert("{pa}", pa);
    vars.insert("{g}", g["id"].as_str().unwrap().to_string());
    vars.insert("{msg}", msg);
    vars.insert("{job}", job);
    World {
        t,
        org,
        callers,
        vars,
    }
}

/// Every kind of caller, in three groups that run in parallel.
const CALLER_GROUPS: [&[&str]; 3] = [
    &["admin", "custom_admin[]", "chat", "meetings"],
    &["custom_admin[manage_users]", "custom_admin[manage_groups]"],
    &[
        "custom_admin[manage_integrations]",
        "custom_admin[manage_event_types]",
        "custom_admin[view_all_meetings]",
        "custom_admin[manage_api_keys]",
        "custom_admin[view_audit_log]",
    ],
];

#[tokio::test]
async fn api_permissions_of_admins_and_members() {
    // The groups cover a custom admin with each single permission.
    for p in PERMISSIONS {
        assert!(
            CALLER_GROUPS
                .iter()
                .any(|g| g.contains(&format!("custom_admin[{p}]").as_str())),
            "{p}"
        );
    }
    check_permission_matrix(CALLER_GROUPS[0]).await;
}

#[tokio::test]
async fn api_permissions_of_custom_admins_who_manage_users_or_groups() {
    check_permission_matrix(CALLER_GROUPS[1]).await;
}

#[tokio::test]
async fn api_permissions_of_custom_admins_with_other_grants() {
    check_permission_matrix(CALLER_GROUPS[2]).await;
}

/// Every route × each of these callers: allowed exactly when the permission model
/// says so, and otherwise a 403 with the JSON error shape.
async fn check_permission_matrix(kinds: &[&'static str]) {
    let World {
        t,
        org,
        callers,
        mut vars,
    } = world(kinds).await;
    let routes = routes();
    let (_, audit) = t.get(&org.key, "/audit-log?limit=200").await;
    let seen: Vec<Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    let mut failures = Vec::new();
    let mut n = 0;
    for c in &callers {
        for r in &routes {
            n += 1;
            vars.insert("{n}", n.to_string());
            vars.insert("{self}", c.id.clone());
            vars.insert("{tmp}", NO_SUCH_ID.to_string());
            for p in &r.prep {
                let (by, method, path, body, capture) = match p {
                    Prep::RunJobs => {
                        t.run_jobs().await;
                        continue;
                    }
                    Prep::Admin(m, path, body, capture) => {
                        (Some(org.key.as_str()), m, path, body, capture)
                    }
                    Prep::Caller(m, path, body, capture) => {
                        (Some(c.key.as_str()), m, path, body, capture)
                    }
                };
                let (status, answer) =
                    send(&t, by, method.clone(), &fill(path, &vars), body.body(&vars)).await;
                if matches!(p, Prep::Admin(..)) {
                    assert!(
                        status.is_success(),
                        "preparing {} {path} for {}: {status} {answer}",
                        method,
                        c.name
                    );
                }
                if let (Some(field), true) = (capture, status.is_success()) {
                    vars.insert("{tmp}", answer[*field].as_str().unwrap().to_string());
                }
            }
            let path = fill(r.path, &vars);
            let (status, body) = send(
                &t,
                Some(&c.key),
                r.method.clone(),
                &path,
                r.body.body(&vars),
            )
            .await;
            let ctx = format!(
                "{:<32} {:<6} {} ({:?})",
                c.name,
                r.method.as_str(),
                r.path,
                r.rule
            );
            if c.may(r.rule) {
                if status.as_u16() != r.ok {
                    failures.push(format!(
                        "{ctx}: expected {}, got {status}: {:.300}",
                        r.ok,
                        body.to_string()
                    ));
                }
            } else if let Some(why) =
                error_mismatch(status, &body, StatusCode::FORBIDDEN, "forbidden")
            {
                failures.push(format!("{ctx}: {why:.400}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} calls disagree with the permission model:\n{}",
        failures.len(),
        n,
        failures.join("\n")
    );

    // Callers without permissions never got to do anything an audit entry records.
    let (_, audit) = t.get(&org.key, "/audit-log?limit=200").await;
    for c in callers.iter().filter(|c| !c.admin && c.perms.is_empty()) {
        let theirs: Vec<_> = audit["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor_user_id"] == c.id.as_str() && !seen.contains(&e["id"]))
            .collect();
        assert!(theirs.is_empty(), "{} did something: {theirs:?}", c.name);
    }
}

/// No route but the OpenAPI document answers without a valid API key.
#[tokio::test]
async fn every_api_route_requires_a_valid_key() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let mut vars: HashMap<&'static str, String> = HashMap::new();
    for k in [
        "{victim}", "{d}", "{ca}", "{p}", "{pa}", "{g}", "{msg}", "{job}", "{self}", "{tmp}",
    ] {
        vars.insert(k, org.admin_id.clone());
    }
    vars.insert("{n}", "1".into());
    let before = snapshot(&t, &org.key, &[]).await;
    for r in routes() {
        let path = fill(r.path, &vars);
        for key in [
            None,
            Some("cnv_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            Some("not a key"),
        ] {
            let answer = send(&t, key, r.method.clone(), &path, r.body.body(&vars)).await;
            if r.path == "/openapi.json" {
                assert_eq!(answer.0, StatusCode::OK);
            } else {
                assert_error(
                    &format!("{} {path} with key {key:?}", r.method),
                    answer,
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                );
            }
        }
    }
    assert_eq!(snapshot(&t, &org.key, &[]).await, before);
}

/// The rules that keep a custom admin from making themselves (or anyone) a full admin.
#[tokio::test]
async fn custom_admins_cannot_escalate() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let cu = custom_admin(&t, &org, "cu@acme.example", &["manage_users"]).await;
    let forbidden = |what: &str, answer: (StatusCode, Value)| {
        assert_error(what, answer, StatusCode::FORBIDDEN, "forbidden");
    };
    forbidden(
        "grant oneself more",
        t.patch(
            &cu.key,
            &format!("/users/{}", cu.id),
            json!({"role": "custom_admin", "permissions": PERMISSIONS}),
        )
        .await,
    );
    forbidden(
        "become admin",
        t.patch(
            &cu.key,
            &format!("/users/{}", cu.id),
            json!({"role": "admin"}),
        )
        .await,
    );
    forbidden(
        "demote the admin",
        t.patch(
            &cu.key,
            &format!("/users/{}", org.admin_id),
            json!({"role": "meetings"}),
        )
        .await,
    );
    forbidden(
        "deactivate the admin",
        t.post(
            &cu.key,
            &format!("/users/{}/deactivate", org.admin_id),
            json!({}),
        )
        .await,
    );
    forbidden(
        "invite an admin",
        t.post(
            &cu.key,
            "/invitations",
            json!({"emails": "boss@acme.example", "role": "admin"}),
        )
        .await,
    );
    forbidden(
        "create an api key",
        t.post(&cu.key, "/api-keys", json!({"name": "mine"})).await,
    );

    // An invited admin's Join Now link would make whoever holds it an admin: a custom
    // admin can neither read it from the outbox nor have it re-sent.
    let (status, invited) = t
        .post(
            &org.key,
            "/invitations",
            json!({"emails": "boss@acme.example", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    let boss = invited["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mail = t.last_email_to(&org.key, "boss@acme.example").await;
    forbidden(
        "read the outbox",
        t.get(&cu.key, "/outbox?to=boss@acme.example").await,
    );
    forbidden(
        "read an invitation",
        t.get(
            &cu.key,
            &format!("/outbox/{}", mail["id"].as_str().unwrap()),
        )
        .await,
    );
    forbidden(
        "resend an admin's invitation",
        t.post(
            &cu.key,
            &format!("/users/{boss}/resend-invitation"),
            json!({}),
        )
        .await,
    );
    // The custom admin still manages ordinary users.
    let rep = t.invite(&cu.key, "rep@acme.example", "meetings").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        t.post(
            &cu.key,
            &format!("/users/{rep}/resend-invitation"),
            json!({})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    let (_, me) = t.get(&cu.key, "/me").await;
    assert_eq!(me["role"], "custom_admin");
    assert_eq!(me["effective_permissions"], json!(["manage_users"]));
    let (_, admin) = t.get(&org.key, &format!("/users/{}", org.admin_id)).await;
    assert_eq!(
        (admin["role"].as_str(), admin["status"].as_str()),
        (Some("admin"), Some("active"))
    );
}

// ---------------------------------------------------------------------------------
// Tenant isolation.

/// Org A's admin meets 404 for every id of org B — never 200, never 403 — and B's
/// records never show up in A's lists. B is unchanged afterwards.
#[tokio::test]
async fn tenants_never_see_each_other() {
    let t = TestApp::spawn().await;
    let a = t.create_org("Acme").await;
    let b = t.create_org("Bravo").await;
    let a_session = t.login(&a.admin_email, PASSWORD).await.unwrap();
    // A has data of its own, so its lists are not trivially empty.
    t.invite(&a.key, "rep@acme.example", "meetings").await;
    let (_, a_group) = t.post(&a.key, "/groups", json!({"name": "Sales"})).await;
    let a_group = a_group["id"].as_str().unwrap().to_string();

    let b_user = t.member(&b, "bob@bravo.example", "meetings").await;
    let b_pending = t.invite(&b.key, "pat@bravo.example", "chat").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, b_group) = t.post(&b.key, "/groups", json!({"name": "Sales"})).await;
    let b_group = b_group["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.put(&b.key, &format!("/groups/{b_group}/members/{}", b_user.id))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(
            &t,
            Some(&b.key),
            Method::PUT,
            &format!("/users/{}/photo", b_user.id),
            Body::Raw("image/png", png())
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let b_msg = t.last_email_to(&b.key, "pat@bravo.example").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_org = org_id(&t, &b.key).await;
    let b_job = dead_job(&t, &b_org).await;
    let (_, b_keys) = t.get(&b.key, "/api-keys").await;
    let b_key = b_keys[0]["id"].as_str().unwrap().to_string();
    let b_extra = [
        format!("/groups/{b_group}"),
        format!("/users/{}", b_user.id),
        format!("/users/{b_pending}"),
    ];
    let b_before = snapshot(&t, &b.key, &b_extra).await;

    let bu = &b_user.id;
    let cases: Vec<(Method, String, Body)> = vec![
        (Method::GET, format!("/users/{bu}"), Body::None),
        (
            Method::PATCH,
            format!("/users/{bu}"),
            Body::Json(json!({"role": "chat"})),
        ),
        (
            Method::POST,
            format!("/users/{bu}/deactivate"),
            Body::Json(json!({})),
        ),
        (
            Method::POST,
            format!("/users/{bu}/reactivate"),
            Body::Json(json!({})),
        ),
        (
            Method::POST,
            format!("/users/{b_pending}/resend-invitation"),
            Body::Json(json!({})),
        ),
        (Method::GET, format!("/users/{bu}/photo"), Body::None),
        (
            Method::PUT,
            format!("/users/{bu}/photo"),
            Body::Raw("image/png", png()),
        ),
        (Method::DELETE, format!("/users/{bu}/photo"), Body::None),
        (Method::GET, format!("/groups/{b_group}"), Body::None),
        (
            Method::PATCH,
            format!("/groups/{b_group}"),
            Body::Json(json!({"name": "Taken"})),
        ),
        (Method::DELETE, format!("/groups/{b_group}"), Body::None),
        (
            Method::PUT,
            format!("/groups/{b_group}/members/{}", a.admin_id),
            Body::None,
        ),
        (
            Method::DELETE,
            format!("/groups/{b_group}/members/{bu}"),
            Body::None,
        ),
        (
            Method::PUT,
            format!("/groups/{a_group}/members/{bu}"),
            Body::None,
        ),
        (
            Method::DELETE,
            format!("/groups/{a_group}/members/{bu}"),
            Body::None,
        ),
        (
            Method::POST,
            "/invitations".into(),
            Body::Json(
                json!({"emails": "x@acme.example", "role": "meetings", "group_id": b_group}),
            ),
        ),
        (Method::GET, format!("/outbox/{b_msg}"), Body::None),
        (
            Method::POST,
            format!("/jobs/{b_job}/retry"),
            Body::Json(json!({})),
        ),
        (Method::DELETE, format!("/api-keys/{b_key}"), Body::None),
    ];
    for (method, path, body) in cases {
        let ctx = format!("A's admin: {method} {path}");
        assert_error(
            &ctx,
            send(&t, Some(&a.key), method, &path, body).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    // The same through the web pages.
    for path in [
        format!("/settings/organization/users/{bu}/edit"),
        format!("/settings/groups/{b_group}"),
        format!("/settings/outbox/{b_msg}"),
        format!("/users/{bu}/photo"),
    ] {
        let page = web(
            &t,
            Method::GET,
            &path,
            Some(&session_cookie(&a_session)),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}: {}", page.text);
        assert!(
            page.is_html() && !page.text.contains("bravo"),
            "{path}: {}",
            page.text
        );
    }

    // Nothing of B in A's lists.
    let b_ids = [
        b_user.id.as_str(),
        b_pending.as_str(),
        b_group.as_str(),
        b_msg.as_str(),
        b_job.as_str(),
        b_key.as_str(),
        b_org.as_str(),
    ];
    for path in [
        "/users?limit=500",
        "/users?filter=deactivated",
        "/users?q=bravo",
        "/groups",
        "/audit-log?limit=200",
        "/outbox",
        "/jobs",
        "/api-keys",
    ] {
        let (status, body) = t.get(&a.key, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains("bravo") && !text.contains("Bravo"),
            "{path} shows B: {text}"
        );
        for id in b_ids {
            assert!(!text.contains(id), "{path} shows B's {id}: {text}");
        }
    }
    let (_, users) = t.get(&a.key, "/users?limit=500").await;
    let all = users["counts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["filter"] == "all")
        .unwrap();
    assert_eq!(all["count"], 2, "{users}");
    // The admin lock is per org.
    let (_, mine) = t.post(&a.key, "/locks/org_settings", json!({})).await;
    assert_eq!(mine["mine"], true);
    let (_, theirs) = t.post(&b.key, "/locks/org_settings", json!({})).await;
    assert_eq!(theirs["mine"], true, "{theirs}");
    assert_eq!(
        t.post(
            &b.key,
            "/locks/org_settings/release",
            json!({"token": theirs["token"]})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );

    assert_eq!(
        snapshot(&t, &b.key, &b_extra).await,
        b_before,
        "org B changed"
    );
    assert_eq!(t.get(&b.key, "/me").await.0, StatusCode::OK);
}

// ---------------------------------------------------------------------------------
// CSRF.

/// Every form a signed-in user can post, with valid fields except `_csrf`, is refused
/// with a 403 page when the token is missing, empty, made up, or another session's —
/// and changes nothing.
#[tokio::test]
async fn every_signed_in_form_requires_the_sessions_csrf_token() {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let admin = t.login(&org.admin_email, PASSWORD).await.unwrap();
    let victim = t.member(&org, "victim@acme.example", "meetings").await;
    let dee = t.member(&org, "dee@acme.example", "meetings").await;
    let pending = t.invite(&org.key, "pending@acme.example", "meetings").await["invited"][0]
        ["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, g) = t.post(&org.key, "/groups", json!({"name": "Sales"})).await;
    let g = g["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.put(&org.key, &format!("/groups/{g}/members/{}", dee.id))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.post(
            &org.key,
            &format!("/users/{}/deactivate", dee.id),
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        send(
            &t,
            Some(&org.key),
            Method::PUT,
            &format!("/users/{}/photo", org.admin_id),
            Body::Raw("image/png", png())
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let job = dead_job(&t, &org_id(&t, &org.key).await).await;
    let (_, key) = t
        .post(&org.key, "/api-keys", json!({"name": "spare"}))
        .await;
    let (spare_id, spare_key) = (
        key["id"].as_str().unwrap().to_string(),
        key["key"].as_str().unwrap().to_string(),
    );
    // The admin holds the org settings lock; a custom admin holds it in a second test
    // of takeover below.
    let (_, lock) = t.post(&org.key, "/locks/org_settings", json!({})).await;
    let token = lock["token"].as_str().unwrap().to_string();
    let real = t.session_csrf(&admin).await;
    let someone_elses = t.session_csrf(&victim.session).await;
    let made_up = "A".repeat(43);

    let urlencoded = |path: String, fields: Vec<(&'static str, String)>| (path, fields, false);
    let forms = vec![
        urlencoded("/logout".into(), vec![]),
        urlencoded(
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "evil@acme.example".into()),
                ("role", "meetings".into()),
                ("group_id", g.clone()),
            ],
        ),
        urlencoded(
            format!("/settings/organization/users/{}/edit", victim.id),
            vec![("role", "chat".into())],
        ),
        urlencoded(
            format!("/settings/organization/users/{}/deactivate", victim.id),
            vec![],
        ),
        urlencoded(
            format!("/settings/organization/users/{}/reactivate", dee.id),
            vec![],
        ),
        urlencoded(
            format!("/settings/organization/users/{pending}/resend"),
            vec![],
        ),
        urlencoded("/settings/groups".into(), vec![("name", "Evil".into())]),
        urlencoded(
            format!("/settings/groups/{g}/rename"),
            vec![("name", "Evil".into())],
        ),
        urlencoded(format!("/settings/groups/{g}/delete"), vec![]),
        urlencoded(
            format!("/settings/groups/{g}/members"),
            vec![("user_id", victim.id.clone())],
        ),
        urlencoded(
            format!("/settings/groups/{g}/members/{}/remove", dee.id),
            vec![],
        ),
        urlencoded(
            "/settings/organization".into(),
            vec![
                ("lock_token", token.clone()),
                ("name", "Evil Corp".into()),
                ("uses_salesforce", "1".into()),
            ],
        ),
        urlencoded("/settings/organization/takeover".into(), vec![]),
        urlencoded(format!("/settings/jobs/{job}/retry"), vec![]),
        urlencoded("/settings/api-keys".into(), vec![("name", "evil".into())]),
        urlencoded(format!("/settings/api-keys/{spare_id}/revoke"), vec![]),
        urlencoded(
            "/settings/profile".into(),
            vec![("name", "Evil".into()), ("time_zone", "Asia/Tokyo".into())],
        ),
        ("/settings/profile/photo".into(), vec![], true),
        urlencoded("/settings/profile/photo/delete".into(), vec![]),
        urlencoded(
            "/settings/profile/password".into(),
            vec![
                ("current_password", PASSWORD.into()),
                ("new_password", "a brand new password".into()),
            ],
        ),
    ];
    let extra = [
        format!("/groups/{g}"),
        format!("/users/{}", org.admin_id),
        "/locks/org_settings".to_string(),
        "/me".to_string(),
    ];
    let before = snapshot(&t, &org.key, &extra).await;
    let keys = t
        .get(&org.key, "/api-keys")
        .await
        .1
        .as_array()
        .unwrap()
        .len();
    for (path, fields, is_multipart) in &forms {
        for csrf in [
            None,
            Some(""),
            Some(made_up.as_str()),
            Some(someone_elses.as_str()),
        ] {
            let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Some(c) = csrf {
                all.push(("_csrf", c));
            }
            let body = if *is_multipart {
                multipart(&all, Some(&png()))
            } else {
                form_body(&all)
            };
            let page = web(&t, Method::POST, path, Some(&session_cookie(&admin)), body).await;
            assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "POST {path} with _csrf {csrf:?}: {}",
                page.text
            );
            assert!(
                page.is_html() && page.text.contains("did not come from Convene"),
                "POST {path}: {}",
                page.text
            );
        }
    }
    assert_eq!(
        snapshot(&t, &org.key, &extra).await,
        before,
        "a refused form changed something"
    );

    // The representative ones, spelled out.
    let (_, users) = t.get(&org.key, "/users?q=evil").await;
    assert_eq!(users["data"], json!([]), "invite went through");
    let (_, v) = t.get(&org.key, &format!("/users/{}", victim.id)).await;
    assert_eq!(
        (v["status"].as_str(), v["role"].as_str()),
        (Some("active"), Some("meetings"))
    );
    let (_, groups) = t.get(&org.key, "/groups").await;
    assert_eq!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Sales"]
    );
    assert_eq!(t.get(&org.key, "/org").await.1["name"], "Acme");
    assert_eq!(
        t.get(&org.key, "/api-keys")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        keys
    );
    assert_eq!(t.get(&spare_key, "/me").await.0, StatusCode::OK);
    let (_, me) = t.get(&org.key, "/me").await;
    assert_eq!(
        (
            me["name"].as_str(),
            me["time_zone"].as_str(),
            me["has_photo"].as_bool()
        ),
        (Some("Ada Admin"), Some("Europe/Paris"), Some(true))
    );
    // The session is still alive and the old password still works.
    assert_eq!(
        web(
            &t,
            Method::GET,
            "/settings/profile",
            Some(&session_cookie(&admin)),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    assert!(t.login(&org.admin_email, PASSWORD).await.is_some());

    // With the real token the same form goes through (so the refusals above were about
    // the token, not the fields).
    let page = web(
        &t,
        Method::POST,
        "/settings/groups",
        Some(&session_cookie(&admin)),
        form_body(&[("_csrf", &real), ("name", "Support")]),
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
}

/// The forms shown before sign-in (login, setup, join) use a double-submit cookie:
/// without it, or with a token that does not match it, they are refused.
#[tokio::test]
async fn anonymous_forms_require_the_csrf_cookie() {
    let fresh = TestApp::spawn().await;
    let setup = format!("{}/setup", fresh.url);
    let (_, token) = fresh.anon_csrf(&setup).await;
    let fields = [
        ("org_name", "Acme"),
        ("name", "Ada"),
        ("email", "ada@acme.example"),
        ("password", PASSWORD),
        ("time_zone", "Europe/Paris"),
    ];
    let attempts = |token: &str| -> Vec<(Option<String>, Fields)> {
        let f = |csrf: Option<&str>| {
            let mut v: Vec<(&'static str, String)> = vec![];
            if let Some(c) = csrf {
                v.push(("_csrf", c.to_string()));
            }
            v
        };
        vec![
            (None, f(Some(token))),                               // no cookie
            (Some(format!("convene_csrf={token}")), f(None)),     // no field
            (Some(format!("convene_csrf={token}")), f(Some(""))), // empty field
            (
                Some(format!("convene_csrf={token}")),
                f(Some(&"B".repeat(43))),
            ), // field that does not match
            (
                Some(format!("convene_csrf={}", "B".repeat(43))),
                f(Some(token)),
            ), // cookie that does not match
            (Some("convene_csrf=".to_string()), f(Some(""))),     // both empty
        ]
    };
    for (cookie_header, csrf) in attempts(&token) {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.extend(csrf.iter().map(|(k, v)| (*k, v.as_str())));
        let page = web(
            &fresh,
            Method::POST,
            "/setup",
            cookie_header.as_deref(),
            form_body(&all),
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "setup with {cookie_header:?} {csrf:?}: {}",
            page.text
        );
        assert!(page.is_html() && page.session.is_none());
    }
    assert!(
        fresh.app.setup_needed().await.unwrap(),
        "setup went through without CSRF"
    );

    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    // Login.
    let (_, token) = t.anon_csrf(&format!("{}/login", t.url)).await;
    for (cookie_header, csrf) in attempts(&token) {
        let mut all: Vec<(&str, &str)> =
            vec![("email", org.admin_email.as_str()), ("password", PASSWORD)];
        all.extend(csrf.iter().map(|(k, v)| (*k, v.as_str())));
        let page = web(
            &t,
            Method::POST,
            "/login",
            cookie_header.as_deref(),
            form_body(&all),
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "login with {cookie_header:?} {csrf:?}: {}",
            page.text
        );
        assert!(
            page.is_html() && page.session.is_none(),
            "signed in without CSRF"
        );
    }
    // Join.
    let id = t.invite(&org.key, "joiner@acme.example", "meetings").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = t.join_link(&org.key, "joiner@acme.example").await;
    let (_, token) = t.anon_csrf(&link).await;
    for (cookie_header, csrf) in attempts(&token) {
        let mut all: Vec<(&str, &str)> = vec![
            ("name", "Joiner"),
            ("password", PASSWORD),
            ("time_zone", "Europe/Paris"),
        ];
        all.extend(csrf.iter().map(|(k, v)| (*k, v.as_str())));
        let page = web(
            &t,
            Method::POST,
            &link,
            cookie_header.as_deref(),
            form_body(&all),
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "join with {cookie_header:?} {csrf:?}: {}",
            page.text
        );
        assert!(page.is_html() && page.session.is_none());
    }
    let (_, user) = t.get(&org.key, &format!("/users/{id}")).await;
    assert_eq!(user["status"], "pending", "joined without CSRF");
    // The link still works with the token.
    t.join(&link, "Joiner").await;
}

// ---------------------------------------------------------------------------------
// Pages.

/// Admin pages: a 403 page for those without the permission, a redirect to sign-in
/// without a session; and admin forms posted (with a valid CSRF token) by those
/// without the permission are refused and change nothing.
#[tokio::test]
async fn admin_pages_and_forms_are_refused_without_the_permission() {
    let World {
        t,
        org,
        callers,
        vars,
    } = world(&CALLER_GROUPS.concat()).await;
    // Some callers of the matrix, and a photo to look at.
    assert_eq!(
        send(
            &t,
            Some(&org.key),
            Method::PUT,
            &fill("/users/{victim}/photo", &vars),
            Body::Raw("image/png", png())
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let pages: Vec<(&str, Rule)> = vec![
        ("/settings/profile", Rule::Anyone),
        ("/users/{victim}/photo", Rule::Anyone),
        ("/settings/organization/users", Rule::Either(MU, MG)),
        (
            "/settings/organization/users?filter=pending",
            Rule::Either(MU, MG),
        ),
        ("/settings/organization/users/{victim}/edit", Rule::Perm(MU)),
        ("/settings/groups", Rule::Either(MU, MG)),
        ("/settings/groups/{g}", Rule::Either(MU, MG)),
        ("/settings/organization", Rule::Perm(MI)),
        ("/settings/jobs", Rule::Perm(MI)),
        ("/settings/audit-log", Rule::Perm(VAL)),
        ("/settings/outbox", Rule::FullAdmin),
        ("/settings/outbox/{msg}", Rule::FullAdmin),
        ("/settings/api-keys", Rule::Perm(MAK)),
    ];
    let mut failures = Vec::new();
    for (path, rule) in &pages {
        let path = fill(path, &vars);
        for c in &callers {
            let page = web(
                &t,
                Method::GET,
                &path,
                Some(&session_cookie(&c.session)),
                None,
            )
            .await;
            let want = if c.may(*rule) {
                StatusCode::OK
            } else {
                StatusCode::FORBIDDEN
            };
            if page.status != want {
                failures.push(format!(
                    "{} GET {path}: expected {want}, got {}",
                    c.name, page.status
                ));
            } else if want == StatusCode::FORBIDDEN
                && !(page.is_html()
                    && page.text.contains("Forbidden")
                    && page.text.contains("permission"))
            {
                failures.push(format!(
                    "{} GET {path}: not a 403 page: {}",
                    c.name, page.text
                ));
            }
        }
        // No session: to the sign-in page, and back here afterwards.
        let page = web(&t, Method::GET, &path, None, None).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{path} without a session"
        );
        let to = page.location.unwrap_or_default();
        assert!(
            to.starts_with("/login?next=%2F"),
            "{path} redirects to {to}"
        );
        // An ended or made-up session: the same, saying the session ended.
        let page = web(
            &t,
            Method::GET,
            &path,
            Some("convene_session=made-up"),
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(page.location.unwrap_or_default().contains("ended=1"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Forms, posted with a valid CSRF token by those who may not.
    let (_, lock) = t
        .post(&org.key, "/locks/org_settings", json!({"takeover": true}))
        .await;
    let token = lock["token"].as_str().unwrap().to_string();
    let forms: Vec<(String, Fields, Rule)> = vec![
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "evil@acme.example".into()),
                ("role", "meetings".into()),
            ],
            Rule::Perm(MU),
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "evil@acme.example".into()),
                ("role", "admin".into()),
            ],
            Rule::FullAdmin,
        ),
        (
            fill("/settings/organization/users/{victim}/edit", &vars),
            vec![("role", "chat".into())],
            Rule::Perm(MU),
        ),
        (
            fill("/settings/organization/users/{victim}/edit", &vars),
            vec![("role", "admin".into())],
            Rule::FullAdmin,
        ),
        (
            fill("/settings/organization/users/{victim}/deactivate", &vars),
            vec![],
            Rule::Perm(MU),
        ),
        (
            fill("/settings/organization/users/{ca}/deactivate", &vars),
            vec![],
            Rule::FullAdmin,
        ),
        (
            fill("/settings/organization/users/{d}/reactivate", &vars),
            vec![],
            Rule::Perm(MU),
        ),
        (
            fill("/settings/organization/users/{p}/resend", &vars),
            vec![],
            Rule::Perm(MU),
        ),
        (
            fill("/settings/organization/users/{pa}/resend", &vars),
            vec![],
            Rule::FullAdmin,
        ),
        (
            "/settings/groups".into(),
            vec![("name", "Evil".into())],
            Rule::Perm(MG),
        ),
        (
            fill("/settings/groups/{g}/rename", &vars),
            vec![("name", "Evil".into())],
            Rule::Perm(MG),
        ),
        (
            fill("/settings/groups/{g}/delete", &vars),
            vec![],
            Rule::Perm(MG),
        ),
        (
            fill("/settings/groups/{g}/members", &vars),
            vec![("user_id", vars["{victim}"].clone())],
            Rule::Perm(MG),
        ),
        (
            "/settings/organization".into(),
            vec![("lock_token", token.clone()), ("name", "Evil Corp".into())],
            Rule::Perm(MI),
        ),
        (
            "/settings/organization/takeover".into(),
            vec![],
            Rule::Perm(MI),
        ),
        (
            fill("/settings/jobs/{job}/retry", &vars),
            vec![],
            Rule::Perm(MI),
        ),
        (
            "/settings/api-keys".into(),
            vec![("name", "evil".into())],
            Rule::Perm(MAK),
        ),
    ];
    let extra = [
        fill("/groups/{g}", &vars),
        fill("/users/{victim}", &vars),
        "/locks/org_settings".into(),
    ];
    let before = snapshot(&t, &org.key, &extra).await;
    let mut csrfs = HashMap::new();
    for c in &callers {
        csrfs.insert(c.name.clone(), t.session_csrf(&c.session).await);
    }
    for (path, fields, rule) in &forms {
        for c in callers.iter().filter(|c| !c.may(*rule)) {
            let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            all.push(("_csrf", &csrfs[&c.name]));
            let page = web(
                &t,
                Method::POST,
                path,
                Some(&session_cookie(&c.session)),
                form_body(&all),
            )
            .await;
            if page.status != StatusCode::FORBIDDEN || !page.is_html() {
                failures.push(format!(
                    "{} POST {path}: expected a 403 page, got {}: {}",
                    c.name, page.status, page.text
                ));
            }
        }
        // Without a session a form post goes to the sign-in page too.
        let page = web(&t, Method::POST, path, None, form_body(&[("_csrf", "x")])).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "POST {path} without a session"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        snapshot(&t, &org.key, &extra).await,
        before,
        "a refused form changed something"
    );
    // The pages members may see do not link to the admin areas.
    let meetings = callers.iter().find(|c| c.name == "meetings").unwrap();
    let page = web(
        &t,
        Method::GET,
        "/settings/profile",
        Some(&session_cookie(&meetings.session)),
        None,
    )
    .await;
    for admin_link in [
        "/settings/organization",
        "/settings/groups",
        "/settings/jobs",
        "/settings/audit-log",
        "/settings/outbox",
        "/settings/api-keys",
    ] {
        assert!(
            !page.text.contains(&format!("href=\"{admin_link}")),
            "a meetings user is shown {admin_link}"
        );
    }
}
