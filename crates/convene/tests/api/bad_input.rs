//! Bad input on every endpoint: a 4xx whose JSON error names the problem — never a
//! 500 — and nothing half-written. The web forms re-render (or refuse) the same way.

use crate::security::{
    assert_error, dead_job, error_mismatch, form_body, multipart, org_id, png, send,
    session_cookie, snapshot, web, Body, Fields, NO_SUCH_ID,
};
use convene_test_support::{TestApp, TestOrg, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

type BodyFn = fn() -> Body;

const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const NOT_FOUND: StatusCode = StatusCode::NOT_FOUND;
const CONFLICT: StatusCode = StatusCode::CONFLICT;

/// A raw body with a content type.
fn raw(content_type: &'static str, text: &str) -> Body {
    Body::Raw(content_type, text.as_bytes().to_vec())
}

/// Collects mismatches, so one run shows every endpoint that gets it wrong.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    fn check(
        &mut self,
        ctx: &str,
        (status, body): (StatusCode, Value),
        want: StatusCode,
        code: &str,
    ) {
        if let Some(why) = error_mismatch(status, &body, want, code) {
            self.0.push(format!("{ctx}: {why:.400}"));
        }
    }

    /// Like `check`, and the message must mention `needle` (e.g. the field's name).
    fn check_names(
        &mut self,
        ctx: &str,
        answer: (StatusCode, Value),
        want: StatusCode,
        code: &str,
        needle: &str,
    ) {
        let message = answer.1["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let before = self.0.len();
        self.check(ctx, answer, want, code);
        if self.0.len() == before && !message.contains(needle) {
            self.0.push(format!(
                "{ctx}: the message does not name '{needle}': {message}"
            ));
        }
    }

    #[track_caller]
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} bad answers:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

struct Fixture {
    t: TestApp,
    org: TestOrg,
    key: String,
    admin_id: String,
    victim: String,
    group: String,
    extra: Vec<String>,
}

/// An org with a member and a group, to aim bad requests at.
async fn fixture() -> Fixture {
    let t = TestApp::spawn().await;
    let org = t.create_org("Acme").await;
    let victim = t.member(&org, "victim@acme.example", "meetings").await.id;
    let (_, g) = t.post(&org.key, "/groups", json!({"name": "Sales"})).await;
    let group = g["id"].as_str().unwrap().to_string();
    let extra = vec![
        format!("/groups/{group}"),
        format!("/users/{victim}"),
        format!("/users/{}", org.admin_id),
    ];
    Fixture {
        key: org.key.clone(),
        admin_id: org.admin_id.clone(),
        org,
        t,
        victim,
        group,
        extra,
    }
}

/// Each JSON endpoint with a valid body and its required fields.
fn json_endpoints(f: &Fixture) -> Vec<(Method, String, Value, &'static [&'static str])> {
    vec![
        (
            Method::PATCH,
            format!("/users/{}", f.victim),
            json!({"role": "meetings", "permissions": []}),
            &["role"],
        ),
        (
            Method::POST,
            "/invitations".into(),
            json!({"emails": "new@acme.example", "role": "meetings", "permissions": [], "group_id": null}),
            &["emails", "role"],
        ),
        (
            Method::POST,
            "/groups".into(),
            json!({"name": "Support"}),
            &["name"],
        ),
        (
            Method::PATCH,
            format!("/groups/{}", f.group),
            json!({"name": "Sales"}),
            &["name"],
        ),
        (
            Method::PATCH,
            "/org".into(),
            json!({"lock_token": "t", "name": "Acme", "uses_salesforce": false}),
            &["lock_token", "name", "uses_salesforce"],
        ),
        (
            Method::POST,
            "/locks/org_settings".into(),
            json!({"takeover": false}),
            &[],
        ),
        (
            Method::POST,
            "/locks/org_settings/release".into(),
            json!({"token": "t"}),
            &["token"],
        ),
        (
            Method::POST,
            "/api-keys".into(),
            json!({"name": "ci"}),
            &["name"],
        ),
    ]
}

/// A value of the wrong type for a field holding `v`.
fn wrong_type(v: &Value) -> Value {
    match v {
        Value::String(_) | Value::Null => json!(12345),
        Value::Bool(_) => json!("yes"),
        Value::Array(_) => json!("manage_users"),
        _ => json!({"nested": true}),
    }
}

/// Malformed JSON, the wrong content type, unknown, missing and mistyped fields: on
/// every JSON endpoint a 4xx naming the problem, and nothing written.
#[tokio::test]
async fn json_bodies_are_checked_before_anything_happens() {
    let f = fixture().await;
    let t = &f.t;
    let before = snapshot(t, &f.key, &f.extra).await;
    let mut fails = Failures::default();
    for (method, path, valid, required) in json_endpoints(&f) {
        let ctx = |what: &str| format!("{method} {path} with {what}");
        let call = |body: Body| send(t, Some(&f.key), method.clone(), &path, body);
        // Malformed JSON.
        // (Syntax errors only: serde reports an unknown or missing field it meets
        // before the syntax error as invalid input, which is right too.)
        let empty_ok = path == "/locks/org_settings";
        for text in [
            "{",
            "{,}",
            "{:}",
            "{role: 'x'}",
            "\"unterminated",
            "nul",
            "\u{feff}{}",
            "",
        ] {
            if text.is_empty() && empty_ok {
                continue;
            }
            fails.check(
                &ctx(&format!("malformed JSON {text:?}")),
                call(raw("application/json", text)).await,
                BAD_REQUEST,
                "malformed_json",
            );
        }
        // Not JSON at all.
        let valid_text = valid.to_string();
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
        ] {
            fails.check(
                &ctx(ct),
                call(raw(ct, &valid_text)).await,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            );
        }
        if !empty_ok {
            // (Acquiring a lock takes an optional body: an empty one means no takeover.)
            fails.check(
                &ctx("no body"),
                call(Body::None).await,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            );
        }
        // The wrong JSON shape.
        for shape in [json!("text"), json!(42), json!(null), json!([[]])] {
            fails.check(
                &ctx(&format!("{shape} for a body")),
                call(Body::Json(shape)).await,
                UNPROCESSABLE,
                "invalid_input",
            );
        }
        // Unknown fields are refused, not ignored.
        let mut extra = valid.clone();
        extra["is_admin"] = json!(true);
        fails.check_names(
            &ctx("an unknown field"),
            call(Body::Json(extra)).await,
            UNPROCESSABLE,
            "invalid_input",
            "is_admin",
        );
        // Missing and mistyped fields.
        for field in required {
            let mut missing = valid.clone();
            missing.as_object_mut().unwrap().remove(*field);
            fails.check_names(
                &ctx(&format!("no {field}")),
                call(Body::Json(missing)).await,
                UNPROCESSABLE,
                "invalid_input",
                field,
            );
        }
        for (field, v) in valid.as_object().unwrap() {
            let mut mistyped = valid.clone();
            mistyped[field] = wrong_type(v);
            fails.check(
                &ctx(&format!("a mistyped {field}")),
                call(Body::Json(mistyped)).await,
                UNPROCESSABLE,
                "invalid_input",
            );
        }
    }
    // A body over the 4 MiB limit.
    let huge = json!({"emails": "a@acme.example ".repeat(300_000), "role": "meetings"});
    fails.check(
        "a 4.5 MB invitation",
        send(
            t,
            Some(&f.key),
            Method::POST,
            "/invitations",
            Body::Json(huge),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "bad_body",
    );
    fails.assert_none();
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused request changed something"
    );
}

/// Role, permission, filter and resource names that do not exist; limits and cursors
/// out of range; query parameters that are unknown or mistyped.
#[tokio::test]
async fn names_filters_and_limits_must_be_known_and_in_range() {
    let f = fixture().await;
    let t = &f.t;
    let before = snapshot(t, &f.key, &f.extra).await;
    let mut fails = Failures::default();
    let user_path = format!("/users/{}", f.victim);
    let patch = |body: Value| send(t, Some(&f.key), Method::PATCH, &user_path, Body::Json(body));
    let invite = |body: Value| {
        send(
            t,
            Some(&f.key),
            Method::POST,
            "/invitations",
            Body::Json(body),
        )
    };
    for role in ["root", "Admin", "", " admin", "owner"] {
        let answer = patch(json!({"role": role})).await;
        if answer.1["error"]["details"]["field"] != "role" {
            fails.0.push(format!(
                "role {role:?}: details do not name the field: {}",
                answer.1
            ));
        }
        fails.check_names(
            &format!("PATCH role {role:?}"),
            answer,
            UNPROCESSABLE,
            "invalid_input",
            "role",
        );
        fails.check_names(
            &format!("invite as {role:?}"),
            invite(json!({"emails": "x@acme.example", "role": role})).await,
            UNPROCESSABLE,
            "invalid_input",
            "role",
        );
    }
    for perms in [
        json!(["sudo"]),
        json!(["manage_users", "everything"]),
        json!(["Manage_Users"]),
    ] {
        let answer = patch(json!({"role": "custom_admin", "permissions": perms})).await;
        assert_eq!(
            answer.1["error"]["details"]["field"], "permissions",
            "{}",
            answer.1
        );
        fails.check_names(
            &format!("PATCH permissions {perms}"),
            answer,
            UNPROCESSABLE,
            "invalid_input",
            "permission",
        );
        fails.check(
            &format!("invite with permissions {perms}"),
            invite(
                json!({"emails": "x@acme.example", "role": "custom_admin", "permissions": perms}),
            )
            .await,
            UNPROCESSABLE,
            "invalid_input",
        );
    }
    // Permissions only go with the custom admin role.
    fails.check_names(
        "permissions for a chat user",
        patch(json!({"role": "chat", "permissions": ["manage_users"]})).await,
        UNPROCESSABLE,
        "invalid_input",
        "custom admin",
    );

    let queries = [
        (
            "/users?filter=bogus",
            UNPROCESSABLE,
            "invalid_input",
            "filter",
        ),
        (
            "/users?filter=ACTIVE",
            UNPROCESSABLE,
            "invalid_input",
            "filter",
        ),
        ("/users?limit=0", BAD_REQUEST, "invalid_query", "limit"),
        ("/users?limit=501", BAD_REQUEST, "invalid_query", "limit"),
        ("/users?limit=-1", BAD_REQUEST, "invalid_query", "limit"),
        ("/users?limit=ten", BAD_REQUEST, "invalid_query", "limit"),
        (
            "/users?limit=99999999999",
            BAD_REQUEST,
            "invalid_query",
            "limit",
        ),
        (
            "/users?action_required=maybe",
            BAD_REQUEST,
            "invalid_query",
            "action_required",
        ),
        ("/users?role=admin", BAD_REQUEST, "invalid_query", "role"),
        (
            "/audit-log?limit=201",
            BAD_REQUEST,
            "invalid_query",
            "limit",
        ),
        ("/audit-log?limit=0", BAD_REQUEST, "invalid_query", "limit"),
        (
            "/audit-log?cursor=yesterday",
            BAD_REQUEST,
            "invalid_query",
            "cursor",
        ),
        ("/audit-log?actor=me", BAD_REQUEST, "invalid_query", "actor"),
        ("/jobs?status=bogus", BAD_REQUEST, "invalid_query", "bogus"),
        ("/jobs?status=DEAD", BAD_REQUEST, "invalid_query", "DEAD"),
        (
            "/jobs?kind=send_email",
            BAD_REQUEST,
            "invalid_query",
            "kind",
        ),
        ("/outbox?from=x", BAD_REQUEST, "invalid_query", "from"),
    ];
    for (path, status, code, needle) in queries {
        fails.check_names(
            &format!("GET {path}"),
            t.get(&f.key, path).await,
            status,
            code,
            needle,
        );
    }
    let long = "q".repeat(201);
    fails.check_names(
        "a 201-character search",
        t.get(&f.key, &format!("/users?q={long}")).await,
        UNPROCESSABLE,
        "invalid_input",
        "200",
    );
    // The edges of the ranges are fine.
    for ok in [
        "/users?limit=1",
        "/users?limit=500",
        "/users?filter=",
        "/audit-log?limit=200",
        "/jobs?status=dead",
        &format!("/users?q={}", "q".repeat(200)),
    ] {
        assert_eq!(t.get(&f.key, ok).await.0, StatusCode::OK, "{ok}");
    }

    // Lock resources that do not parse.
    for resource in [
        "everything",
        "ORG_SETTINGS",
        "event_type:",
        "event_type:has%20space",
        "event_type:a%2Fb",
        "event_type:%00",
        &format!("event_type:{}", "x".repeat(65)),
        "org_settings%0A",
    ] {
        let ctx = |m: &str| format!("{m} /locks/{resource}");
        fails.check_names(
            &ctx("GET"),
            t.get(&f.key, &format!("/locks/{resource}")).await,
            BAD_REQUEST,
            "invalid_resource",
            "lock resource",
        );
        fails.check(
            &ctx("POST"),
            t.post(
                &f.key,
                &format!("/locks/{resource}"),
                json!({"takeover": true}),
            )
            .await,
            BAD_REQUEST,
            "invalid_resource",
        );
        fails.check(
            &ctx("release"),
            t.post(
                &f.key,
                &format!("/locks/{resource}/release"),
                json!({"token": "t"}),
            )
            .await,
            BAD_REQUEST,
            "invalid_resource",
        );
    }
    fails.assert_none();
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused request changed something"
    );
}

/// Every route with an id: a malformed id is a 400 `invalid_id` naming it; a
/// well-formed id that names nothing is a 404. Also the routes and methods that do
/// not exist.
#[tokio::test]
async fn ids_in_paths_are_parsed_then_looked_up() {
    let f = fixture().await;
    let t = &f.t;
    let before = snapshot(t, &f.key, &f.extra).await;
    let (v, g) = (f.victim.clone(), f.group.clone());
    // (method, path with {x} for the id under test, body)
    let routes: Vec<(Method, String, BodyFn)> = vec![
        (Method::GET, "/users/{x}".into(), || Body::None),
        (Method::PATCH, "/users/{x}".into(), || {
            Body::Json(json!({"role": "chat"}))
        }),
        (Method::POST, "/users/{x}/deactivate".into(), || {
            Body::Json(json!({}))
        }),
        (Method::POST, "/users/{x}/reactivate".into(), || {
            Body::Json(json!({}))
        }),
        (Method::POST, "/users/{x}/resend-invitation".into(), || {
            Body::Json(json!({}))
        }),
        (Method::GET, "/users/{x}/photo".into(), || Body::None),
        (Method::PUT, "/users/{x}/photo".into(), || {
            Body::Raw("image/png", png())
        }),
        (Method::DELETE, "/users/{x}/photo".into(), || Body::None),
        (Method::GET, "/groups/{x}".into(), || Body::None),
        (Method::PATCH, "/groups/{x}".into(), || {
            Body::Json(json!({"name": "Renamed"}))
        }),
        (Method::DELETE, "/groups/{x}".into(), || Body::None),
        (Method::PUT, format!("/groups/{{x}}/members/{v}"), || {
            Body::None
        }),
        (Method::DELETE, format!("/groups/{{x}}/members/{v}"), || {
            Body::None
        }),
        (Method::PUT, format!("/groups/{g}/members/{{x}}"), || {
            Body::None
        }),
        (Method::DELETE, format!("/groups/{g}/members/{{x}}"), || {
            Body::None
        }),
        (Method::POST, "/jobs/{x}/retry".into(), || {
            Body::Json(json!({}))
        }),
        (Method::GET, "/outbox/{x}".into(), || Body::None),
        (Method::DELETE, "/api-keys/{x}".into(), || Body::None),
    ];
    let mut fails = Failures::default();
    for (method, path, body) in &routes {
        for bad in [
            "not-an-id",
            "123",
            "0",
            "01890000-0000-7000-8000-00000000000g",
            "01890000000070008000000000000000z",
            "%27%20OR%201%3D1%20--",
            "%FF%FE",
            "%E2%98%83",
        ] {
            let p = path.replace("{x}", bad);
            fails.check_names(
                &format!("{method} {p}"),
                send(t, Some(&f.key), method.clone(), &p, body()).await,
                BAD_REQUEST,
                "invalid_id",
                "not a valid",
            );
        }
        let p = path.replace("{x}", NO_SUCH_ID);
        fails.check(
            &format!("{method} {p}"),
            send(t, Some(&f.key), method.clone(), &p, body()).await,
            NOT_FOUND,
            "not_found",
        );
    }
    // Routes and methods that do not exist get the same error shape.
    for (method, path, status, code) in [
        (Method::GET, "/nope", NOT_FOUND, "not_found"),
        (Method::GET, "/users/", NOT_FOUND, "not_found"),
        (Method::GET, "/users/a/b/c", NOT_FOUND, "not_found"),
        (
            Method::DELETE,
            "/org",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::POST,
            "/users",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::PUT,
            "/groups",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Method::GET,
            "/jobs/x/retry",
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
    ] {
        fails.check(
            &format!("{method} {path}"),
            send(t, Some(&f.key), method.clone(), path, Body::None).await,
            status,
            code,
        );
    }
    fails.assert_none();
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused request changed something"
    );
}

/// `PUT /users/{id}/photo` takes the image bytes: empty, oversized or not an image is
/// refused and the old photo (or none) stays.
#[tokio::test]
async fn photo_uploads_must_be_small_real_images() {
    let f = fixture().await;
    let t = &f.t;
    let path = format!("/users/{}/photo", f.victim);
    let put = |ct: &'static str, bytes: Vec<u8>| {
        send(t, Some(&f.key), Method::PUT, &path, Body::Raw(ct, bytes))
    };
    let mut too_big = png();
    too_big.resize(2 * 1024 * 1024 + 1, 0);
    let mut way_too_big = png();
    way_too_big.resize(5 * 1024 * 1024, 0);
    let mut fails = Failures::default();
    for round in 0..2 {
        fails.check_names(
            "an empty photo",
            put("image/png", vec![]).await,
            UNPROCESSABLE,
            "invalid_input",
            "empty",
        );
        fails.check_names(
            "an SVG",
            put("image/svg+xml", b"<svg onload=alert(1)></svg>".to_vec()).await,
            UNPROCESSABLE,
            "invalid_input",
            "PNG",
        );
        fails.check_names(
            "HTML called a PNG",
            put("image/png", b"<html><script>alert(1)</script>".to_vec()).await,
            UNPROCESSABLE,
            "invalid_input",
            "PNG",
        );
        fails.check_names(
            "a truncated PNG signature",
            put("image/png", b"\x89PNG".to_vec()).await,
            UNPROCESSABLE,
            "invalid_input",
            "PNG",
        );
        fails.check_names(
            "2 MiB and a byte",
            put("image/png", too_big.clone()).await,
            UNPROCESSABLE,
            "invalid_input",
            "2 MiB",
        );
        fails.check(
            "5 MiB",
            put("image/png", way_too_big.clone()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "bad_body",
        );
        let (_, user) = t.get(&f.key, &format!("/users/{}", f.victim)).await;
        if round == 0 {
            // Nothing was stored.
            assert_eq!(user["has_photo"], false, "{user}");
            assert!(user["action_reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("no_profile_photo")));
            fails.check(
                "no photo yet",
                t.get(&f.key, &path).await,
                NOT_FOUND,
                "not_found",
            );
            // Then a good one, which the bad ones of round two must not replace.
            let mut good = vec![0xFF, 0xD8, 0xFF, 0xE0];
            good.extend_from_slice(&[1u8; 32]);
            assert_eq!(
                put("application/octet-stream", good.clone()).await.0,
                StatusCode::NO_CONTENT
            );
        } else {
            assert_eq!(user["has_photo"], true, "{user}");
            let r = t
                .client
                .get(t.api(&path))
                .bearer_auth(&f.key)
                .send()
                .await
                .unwrap();
            assert_eq!(r.headers()["content-type"], "image/jpeg");
            assert_eq!(r.bytes().await.unwrap().len(), 36);
        }
    }
    fails.assert_none();
}

/// An invitation box that is empty, too big, or aimed at a group that is not the org's
/// is refused whole: no user, invitation, email or audit entry appears.
#[tokio::test]
async fn bad_invitations_write_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let other = t.create_org("Other Org").await;
    let (_, theirs) = t
        .post(&other.key, "/groups", json!({"name": "Theirs"}))
        .await;
    let their_group = theirs["id"].as_str().unwrap().to_string();
    let before = snapshot(t, &f.key, &f.extra).await;
    let other_before = snapshot(t, &other.key, &[format!("/groups/{their_group}")]).await;
    let mut fails = Failures::default();
    let invite = |body: Value| {
        send(
            t,
            Some(&f.key),
            Method::POST,
            "/invitations",
            Body::Json(body),
        )
    };
    for emails in [
        json!(""),
        json!("   "),
        json!(" ,;\n\t; ,"),
        json!([]),
        json!([""]),
        json!(["", " "]),
    ] {
        let answer = invite(json!({"emails": emails, "role": "meetings"})).await;
        assert_eq!(
            answer.1["error"]["details"]["field"], "emails",
            "{}",
            answer.1
        );
        fails.check_names(
            &format!("emails {emails}"),
            answer,
            UNPROCESSABLE,
            "invalid_input",
            "email",
        );
    }
    let many: Vec<String> = (0..5001).map(|i| format!("user{i}@acme.example")).collect();
    fails.check_names(
        "5001 addresses",
        invite(json!({"emails": many, "role": "meetings"})).await,
        UNPROCESSABLE,
        "invalid_input",
        "5000",
    );
    // A group of another org is no group at all; a malformed one names the field.
    fails.check_names(
        "another org's group",
        invite(json!({"emails": "ok@acme.example", "role": "meetings", "group_id": their_group}))
            .await,
        NOT_FOUND,
        "not_found",
        "group",
    );
    fails.check(
        "an unknown group",
        invite(json!({"emails": "ok@acme.example", "role": "meetings", "group_id": NO_SUCH_ID}))
            .await,
        NOT_FOUND,
        "not_found",
    );
    fails.check_names(
        "a malformed group",
        invite(json!({"emails": "ok@acme.example", "role": "meetings", "group_id": "sales"})).await,
        UNPROCESSABLE,
        "invalid_input",
        "group",
    );
    fails.check(
        "no role",
        invite(json!({"emails": "ok@acme.example"})).await,
        UNPROCESSABLE,
        "invalid_input",
    );
    fails.check(
        "a made-up role",
        invite(json!({"emails": "ok@acme.example", "role": "owner"})).await,
        UNPROCESSABLE,
        "invalid_input",
    );
    fails.assert_none();
    t.run_jobs().await;
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused invitation wrote something"
    );
    assert_eq!(
        snapshot(t, &other.key, &[format!("/groups/{their_group}")]).await,
        other_before
    );
    let (_, users) = t.get(&f.key, "/users?q=ok%40acme").await;
    assert_eq!(users["data"], json!([]));
    // An all-bad box is not an error: every address comes back with its reason.
    let (status, report) =
        invite(json!({"emails": "nope, victim@acme.example", "role": "meetings"})).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["invited"], json!([]));
    assert_eq!(
        report["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reason"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["malformed", "already_member"]
    );
    t.run_jobs().await;
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "an all-bad invitation wrote something"
    );
}

/// Group names: empty, blank, too long, with control characters or taken (in any
/// case) are refused, and the groups stay as they were.
#[tokio::test]
async fn group_names_must_be_valid_and_unique() {
    let f = fixture().await;
    let t = &f.t;
    let (_, other) = t.post(&f.key, "/groups", json!({"name": "Support"})).await;
    let other = other["id"].as_str().unwrap().to_string();
    let before = snapshot(t, &f.key, &f.extra).await;
    let mut fails = Failures::default();
    let long = "x".repeat(81);
    for name in [
        "",
        "   ",
        "\t\n",
        long.as_str(),
        "Sales\u{0}",
        "Line\nbreak",
        "Bell\u{7}",
    ] {
        let create = t.post(&f.key, "/groups", json!({"name": name})).await;
        assert_eq!(
            create.1["error"]["details"]["field"], "name",
            "{}",
            create.1
        );
        fails.check_names(
            &format!("create {name:?}"),
            create,
            UNPROCESSABLE,
            "invalid_input",
            "group name",
        );
        fails.check(
            &format!("rename to {name:?}"),
            t.patch(
                &f.key,
                &format!("/groups/{}", f.group),
                json!({"name": name}),
            )
            .await,
            UNPROCESSABLE,
            "invalid_input",
        );
    }
    for name in ["Sales", "sales", "SALES", "  Sales  ", "Support"] {
        fails.check_names(
            &format!("create {name:?}"),
            t.post(&f.key, "/groups", json!({"name": name})).await,
            CONFLICT,
            "already_exists",
            "group",
        );
    }
    for name in ["support", "Support "] {
        fails.check(
            &format!("rename to {name:?}"),
            t.patch(
                &f.key,
                &format!("/groups/{}", f.group),
                json!({"name": name}),
            )
            .await,
            CONFLICT,
            "already_exists",
        );
    }
    // Deactivated users cannot join; non-members cannot leave.
    fails.check(
        "remove a non-member",
        t.delete(&f.key, &format!("/groups/{}/members/{}", f.group, f.victim))
            .await,
        NOT_FOUND,
        "not_found",
    );
    fails.assert_none();
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused group change wrote something"
    );
    let (_, groups) = t.get(&f.key, "/groups").await;
    assert_eq!(
        groups
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Sales", "Support"]
    );
    // The edges: 80 characters is fine, and so is renaming a group to itself in another case.
    assert_eq!(
        t.post(&f.key, "/groups", json!({"name": "y".repeat(80)}))
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, renamed) = t
        .patch(
            &f.key,
            &format!("/groups/{other}"),
            json!({"name": "SUPPORT"}),
        )
        .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("SUPPORT")),
        "{renamed}"
    );
}

/// Org settings are saved only under a live lock, and only with a name.
#[tokio::test]
async fn org_updates_need_the_lock_and_a_name() {
    let f = fixture().await;
    let t = &f.t;
    let org = |token: &str, name: &str| json!({"lock_token": token, "name": name, "uses_salesforce": true});
    let mut fails = Failures::default();
    let before = snapshot(t, &f.key, &f.extra).await;
    // No lock at all, or a made-up token.
    fails.check(
        "no lock",
        t.patch(&f.key, "/org", org("", "Evil")).await,
        CONFLICT,
        "lock_lost",
    );
    fails.check(
        "a made-up token",
        t.patch(&f.key, "/org", org("made-up", "Evil")).await,
        CONFLICT,
        "lock_lost",
    );
    assert_eq!(snapshot(t, &f.key, &f.extra).await, before);

    let (_, lock) = t.post(&f.key, "/locks/org_settings", json!({})).await;
    let token = lock["token"].as_str().unwrap().to_string();
    fails.check(
        "someone else's token shape",
        t.patch(&f.key, "/org", org(&format!("{token}x"), "Evil"))
            .await,
        CONFLICT,
        "lock_lost",
    );
    for name in ["", "   ", &"n".repeat(101), "Acme\u{1b}[31m"] {
        let answer = t.patch(&f.key, "/org", org(&token, name)).await;
        assert_eq!(
            answer.1["error"]["details"]["field"], "name",
            "{}",
            answer.1
        );
        fails.check_names(
            &format!("name {name:?}"),
            answer,
            UNPROCESSABLE,
            "invalid_input",
            "organization name",
        );
    }
    // Another admin takes over: the first admin's token is now stale.
    let other = t.member(&f.org, "second@acme.example", "admin").await;
    let (_, taken) = t
        .post(&other.key, "/locks/org_settings", json!({"takeover": true}))
        .await;
    assert_eq!(taken["mine"], true, "{taken}");
    let stale = t.patch(&f.key, "/org", org(&token, "Evil")).await;
    assert_eq!(
        stale.1["error"]["details"]["holder"], "Test Member",
        "{}",
        stale.1
    );
    fails.check_names("a stale token", stale, CONFLICT, "lock_lost", "took over");
    // Releasing with a stale token does not free the new holder's lock.
    assert_eq!(
        t.post(
            &f.key,
            "/locks/org_settings/release",
            json!({"token": token})
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    let (_, held) = t.get(&f.key, "/locks/org_settings").await;
    assert_eq!(held["holder_name"], "Test Member");
    // Without takeover the first admin is told who holds it.
    fails.check_names(
        "a held lock",
        t.post(&f.key, "/locks/org_settings", json!({})).await,
        CONFLICT,
        "locked",
        "Test Member",
    );
    fails.assert_none();
    let (_, org_now) = t.get(&f.key, "/org").await;
    assert_eq!(
        (
            org_now["name"].as_str(),
            org_now["uses_salesforce"].as_bool()
        ),
        (Some("Acme"), Some(false))
    );
    let (_, audit) = t.get(&f.key, "/audit-log?action=org.").await;
    assert_eq!(audit["data"], json!([]), "a refused save was audited");
}

/// Requests the current state refuses: a 409 naming the rule, and nothing changed.
#[tokio::test]
async fn state_conflicts_are_409_and_change_nothing() {
    let f = fixture().await;
    let t = &f.t;
    let pending = t.invite(&f.key, "pending@acme.example", "meetings").await["invited"][0]
        ["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = t.invite(&f.key, "gone@acme.example", "meetings").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        t.post(&f.key, &format!("/users/{gone}/deactivate"), json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let job = dead_job(t, &org_id(t, &f.key).await).await;
    let (_, key) = t.post(&f.key, "/api-keys", json!({"name": "spare"})).await;
    let spare = key["id"].as_str().unwrap().to_string();
    assert_eq!(
        t.delete(&f.key, &format!("/api-keys/{spare}")).await.0,
        StatusCode::NO_CONTENT
    );
    let mut extra = f.extra.clone();
    extra.extend([format!("/users/{pending}"), format!("/users/{gone}")]);
    let before = snapshot(t, &f.key, &extra).await;
    let me = &f.admin_id;
    let mut fails = Failures::default();
    // The only admin can neither step down nor leave.
    for role in ["custom_admin", "chat", "meetings"] {
        fails.check_names(
            &format!("demote the last admin to {role}"),
            t.patch(&f.key, &format!("/users/{me}"), json!({"role": role}))
                .await,
            CONFLICT,
            "last_admin",
            "admin",
        );
    }
    fails.check_names(
        "deactivate oneself",
        t.post(&f.key, &format!("/users/{me}/deactivate"), json!({}))
            .await,
        CONFLICT,
        "self",
        "yourself",
    );
    fails.check_names(
        "resend to an active user",
        t.post(
            &f.key,
            &format!("/users/{}/resend-invitation", f.victim),
            json!({}),
        )
        .await,
        CONFLICT,
        "not_pending",
        "joined",
    );
    fails.check(
        "resend to oneself",
        t.post(&f.key, &format!("/users/{me}/resend-invitation"), json!({}))
            .await,
        CONFLICT,
        "not_pending",
    );
    fails.check(
        "resend to a deactivated user",
        t.post(
            &f.key,
            &format!("/users/{gone}/resend-invitation"),
            json!({}),
        )
        .await,
        CONFLICT,
        "not_pending",
    );
    fails.check(
        "reactivate an active user",
        t.post(
            &f.key,
            &format!("/users/{}/reactivate", f.victim),
            json!({}),
        )
        .await,
        CONFLICT,
        "not_deactivated",
    );
    fails.check(
        "reactivate a pending user",
        t.post(&f.key, &format!("/users/{pending}/reactivate"), json!({}))
            .await,
        CONFLICT,
        "not_deactivated",
    );
    fails.check(
        "change a deactivated user's role",
        t.patch(&f.key, &format!("/users/{gone}"), json!({"role": "chat"}))
            .await,
        CONFLICT,
        "user_deactivated",
    );
    fails.check(
        "add a deactivated user to a group",
        t.put(&f.key, &format!("/groups/{}/members/{gone}", f.group))
            .await,
        CONFLICT,
        "user_deactivated",
    );
    fails.check(
        "revoke a revoked key",
        t.delete(&f.key, &format!("/api-keys/{spare}")).await,
        NOT_FOUND,
        "not_found",
    );
    // Only dead jobs can be retried.
    assert_eq!(
        t.post(&f.key, &format!("/jobs/{job}/retry"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    fails.check(
        "retry a queued job",
        t.post(&f.key, &format!("/jobs/{job}/retry"), json!({}))
            .await,
        NOT_FOUND,
        "not_found",
    );
    t.run_jobs().await;
    fails.assert_none();
    assert_eq!(
        snapshot(t, &f.key, &extra).await["/users?limit=500"],
        before["/users?limit=500"]
    );
    assert_eq!(
        snapshot(t, &f.key, &extra).await[format!("/users/{gone}").as_str()],
        before[format!("/users/{gone}").as_str()]
    );

    // With a second admin, the first can go — and then the second is the last.
    let second = t.member(&f.org, "second@acme.example", "admin").await;
    let (status, demoted) = t
        .patch(
            &second.key,
            &format!("/users/{me}"),
            json!({"role": "meetings"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{demoted}");
    assert_error(
        "the new last admin steps down",
        t.patch(
            &second.key,
            &format!("/users/{}", second.id),
            json!({"role": "chat"}),
        )
        .await,
        CONFLICT,
        "last_admin",
    );
    assert_error(
        "the new last admin leaves",
        t.post(
            &second.key,
            &format!("/users/{}/deactivate", second.id),
            json!({}),
        )
        .await,
        CONFLICT,
        "self",
    );
    let (_, s) = t.get(&second.key, &format!("/users/{}", second.id)).await;
    assert_eq!(
        (s["role"].as_str(), s["status"].as_str()),
        (Some("admin"), Some("active"))
    );
}

/// API key names are 1–100 characters.
#[tokio::test]
async fn api_key_names_are_checked() {
    let f = fixture().await;
    let t = &f.t;
    let before = snapshot(t, &f.key, &f.extra).await;
    let mut fails = Failures::default();
    for name in ["", "   ", &"k".repeat(101)] {
        fails.check_names(
            &format!("name {name:?}"),
            t.post(&f.key, "/api-keys", json!({"name": name})).await,
            UNPROCESSABLE,
            "invalid_input",
            "key name",
        );
    }
    fails.assert_none();
    assert_eq!(snapshot(t, &f.key, &f.extra).await, before);
}

// ---------------------------------------------------------------------------------
// The web forms.

/// Bad fields in the web forms: the form comes back (422) with the problem, or a 4xx
/// page — never a 500 — and nothing changes.
#[tokio::test]
async fn web_forms_with_bad_fields_rerender_or_refuse() {
    let f = fixture().await;
    let t = &f.t;
    let org = &f.org;

    // Join: a short password, an unknown time zone or no name re-render the form; the
    // user stays pending and the link keeps working.
    let id = t.invite(&f.key, "joiner@acme.example", "meetings").await["invited"][0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = t.join_link(&f.key, "joiner@acme.example").await;
    let (cookie, csrf) = t.anon_csrf(&link).await;
    let jar = format!("convene_csrf={cookie}");
    for (fields, needle) in [
        (
            vec![
                ("name", "Joiner"),
                ("password", "short"),
                ("time_zone", "Europe/Paris"),
            ],
            "at least 10 characters",
        ),
        (
            vec![
                ("name", "Joiner"),
                ("password", PASSWORD),
                ("time_zone", "Mars/Olympus_Mons"),
            ],
            "unknown time zone",
        ),
        (
            vec![
                ("name", "Joiner"),
                ("password", PASSWORD),
                ("time_zone", ""),
            ],
            "unknown time zone",
        ),
        (
            vec![
                ("name", "   "),
                ("password", PASSWORD),
                ("time_zone", "Europe/Paris"),
            ],
            "must not be empty",
        ),
        (
            vec![
                ("name", &"n".repeat(101)),
                ("password", PASSWORD),
                ("time_zone", "Europe/Paris"),
            ],
            "at most 100",
        ),
        (
            vec![
                ("name", "Joiner"),
                ("password", &"p".repeat(257)),
                ("time_zone", "Europe/Paris"),
            ],
            "at most 256",
        ),
    ] {
        let mut all = fields.clone();
        all.push(("_csrf", &csrf));
        let page = web(t, Method::POST, &link, Some(&jar), form_body(&all)).await;
        assert_eq!(
            page.status, UNPROCESSABLE,
            "join with {fields:?}: {}",
            page.text
        );
        assert!(
            page.is_html() && page.text.contains(needle) && page.text.contains("Join Now"),
            "join with {fields:?}: {}",
            page.text
        );
        assert!(page.session.is_none());
    }
    // A field missing altogether: a 400 page.
    let page = web(
        t,
        Method::POST,
        &link,
        Some(&jar),
        form_body(&[("_csrf", &csrf), ("name", "Joiner")]),
    )
    .await;
    assert_eq!(page.status, BAD_REQUEST, "{}", page.text);
    assert!(
        page.is_html() && page.text.contains("could not be read"),
        "{}",
        page.text
    );
    let (_, user) = t.get(&f.key, &format!("/users/{id}")).await;
    assert_eq!(user["status"], "pending");
    t.join(&link, "Joiner").await;

    // Login: a malformed email is the same 401 page as a wrong password.
    let (cookie, csrf) = t.anon_csrf(&format!("{}/login", t.url)).await;
    let jar = format!("convene_csrf={cookie}");
    for email in [
        "not-an-email",
        "",
        "a@",
        "@b",
        "x".repeat(300).as_str(),
        "admin@acme.example\r\nBcc: x@y.z",
    ] {
        let page = web(
            t,
            Method::POST,
            "/login",
            Some(&jar),
            form_body(&[("_csrf", &csrf), ("email", email), ("password", PASSWORD)]),
        )
        .await;
        assert_eq!(
            page.status,
            StatusCode::UNAUTHORIZED,
            "login as {email:?}: {}",
            page.text
        );
        assert!(page.is_html() && page.text.contains("incorrect") && page.session.is_none());
    }
    let page = web(
        t,
        Method::POST,
        "/login",
        Some(&jar),
        form_body(&[("_csrf", &csrf), ("email", "admin@acme.example")]),
    )
    .await;
    assert_eq!(page.status, BAD_REQUEST, "{}", page.text);
    assert!(page.is_html());

    // Signed-in forms.
    let admin = t.login(&org.admin_email, PASSWORD).await.unwrap();
    let csrf = t.session_csrf(&admin).await;
    let (_, lock) = t
        .post(&f.key, "/locks/org_settings", json!({"takeover": true}))
        .await;
    let token = lock["token"].as_str().unwrap().to_string();
    let before = snapshot(t, &f.key, &f.extra).await;
    let g = &f.group;
    let v = &f.victim;
    let cases: Vec<(String, Fields, StatusCode, &str)> = vec![
        (
            "/settings/profile".into(),
            vec![
                ("name", "Ada".into()),
                ("time_zone", "Nowhere/Special".into()),
            ],
            UNPROCESSABLE,
            "unknown time zone",
        ),
        (
            "/settings/profile".into(),
            vec![("name", " ".into()), ("time_zone", "UTC".into())],
            UNPROCESSABLE,
            "must not be empty",
        ),
        (
            "/settings/profile".into(),
            vec![("name", "Ada".into())],
            BAD_REQUEST,
            "could not be read",
        ),
        (
            "/settings/profile/password".into(),
            vec![
                ("current_password", PASSWORD.into()),
                ("new_password", "short".into()),
            ],
            UNPROCESSABLE,
            "at least 10",
        ),
        (
            "/settings/profile/password".into(),
            vec![
                ("current_password", "wrong password!".into()),
                ("new_password", "a brand new password".into()),
            ],
            UNPROCESSABLE,
            "incorrect",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![("emails", "x@acme.example".into()), ("role", "root".into())],
            UNPROCESSABLE,
            "unknown role",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "x@acme.example".into()),
                ("role", "custom_admin".into()),
                ("permissions", "sudo".into()),
            ],
            UNPROCESSABLE,
            "unknown permission",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![("emails", " , ".into()), ("role", "meetings".into())],
            UNPROCESSABLE,
            "at least one email",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "x@acme.example".into()),
                ("role", "meetings".into()),
                ("group_id", "sales".into()),
            ],
            BAD_REQUEST,
            "not a valid group id",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "x@acme.example".into()),
                ("role", "meetings".into()),
                ("group_id", NO_SUCH_ID.into()),
            ],
            NOT_FOUND,
            "group not found",
        ),
        (
            "/settings/organization/users/invite".into(),
            vec![
                ("emails", "nope victim@acme.example".into()),
                ("role", "meetings".into()),
            ],
            UNPROCESSABLE,
            "Not invited (2)",
        ),
        (
            format!("/settings/organization/users/{v}/edit"),
            vec![("role", "".into())],
            UNPROCESSABLE,
            "choose a role",
        ),
        (
            format!("/settings/organization/users/{}/edit", f.admin_id),
            vec![("role", "meetings".into())],
            CONFLICT,
            "at least one active admin",
        ),
        (
            format!("/settings/organization/users/{}/deactivate", f.admin_id),
            vec![],
            CONFLICT,
            "yourself",
        ),
        (
            format!("/settings/organization/users/{v}/resend"),
            vec![],
            CONFLICT,
            "already joined",
        ),
        (
            "/settings/organization/users/nope/deactivate".into(),
            vec![],
            BAD_REQUEST,
            "not a valid user id",
        ),
        (
            format!("/settings/organization/users/{NO_SUCH_ID}/deactivate"),
            vec![],
            NOT_FOUND,
            "user not found",
        ),
        (
            "/settings/groups".into(),
            vec![("name", "".into())],
            UNPROCESSABLE,
            "must not be empty",
        ),
        (
            "/settings/groups".into(),
            vec![("name", "x".repeat(81))],
            UNPROCESSABLE,
            "at most 80",
        ),
        (
            "/settings/groups".into(),
            vec![("name", "sales".into())],
            CONFLICT,
            "already exists",
        ),
        (
            format!("/settings/groups/{g}/rename"),
            vec![("name", "\u{7}".into())],
            UNPROCESSABLE,
            "group name",
        ),
        (
            format!("/settings/groups/{g}/members"),
            vec![("user_id", "bob".into())],
            BAD_REQUEST,
            "not a valid user id",
        ),
        (
            format!("/settings/groups/{g}/members"),
            vec![("user_id", NO_SUCH_ID.into())],
            NOT_FOUND,
            "user not found",
        ),
        (
            format!("/settings/groups/{g}/members/{v}/remove"),
            vec![],
            NOT_FOUND,
            "group member not found",
        ),
        (
            "/settings/groups/x/delete".into(),
            vec![],
            BAD_REQUEST,
            "not a valid group id",
        ),
        (
            format!("/settings/groups/{NO_SUCH_ID}/delete"),
            vec![],
            NOT_FOUND,
            "group not found",
        ),
        (
            "/settings/organization".into(),
            vec![("lock_token", token.clone()), ("name", "  ".into())],
            UNPROCESSABLE,
            "must not be empty",
        ),
        (
            "/settings/organization".into(),
            vec![("lock_token", "stale".into()), ("name", "Evil".into())],
            CONFLICT,
            "no longer valid",
        ),
        (
            "/settings/jobs/x/retry".into(),
            vec![],
            BAD_REQUEST,
            "not a valid job id",
        ),
        (
            format!("/settings/jobs/{NO_SUCH_ID}/retry"),
            vec![],
            NOT_FOUND,
            "dead job not found",
        ),
        (
            "/settings/api-keys".into(),
            vec![("name", "".into())],
            UNPROCESSABLE,
            "1–100",
        ),
        (
            format!("/settings/api-keys/{NO_SUCH_ID}/revoke"),
            vec![],
            NOT_FOUND,
            "API key not found",
        ),
    ];
    let mut fails = Vec::new();
    for (path, fields, want, needle) in &cases {
        let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        all.push(("_csrf", &csrf));
        let page = web(
            t,
            Method::POST,
            path,
            Some(&session_cookie(&admin)),
            form_body(&all),
        )
        .await;
        if page.status != *want || !page.is_html() || !page.text.contains(needle) {
            fails.push(format!(
                "POST {path} {fields:?}: expected {want} with '{needle}', got {} {}: {:.300}",
                page.status, page.content_type, page.text
            ));
        }
    }
    // Photo uploads.
    for (photo, want, needle) in [
        (
            Some(b"<svg/>".as_slice()),
            UNPROCESSABLE,
            "PNG, JPEG, GIF or WebP",
        ),
        (Some(b"".as_slice()), UNPROCESSABLE, "empty"),
        (None, BAD_REQUEST, "choose a photo"),
    ] {
        let page = web(
            t,
            Method::POST,
            "/settings/profile/photo",
            Some(&session_cookie(&admin)),
            multipart(&[("_csrf", &csrf)], photo),
        )
        .await;
        if page.status != want || !page.is_html() || !page.text.contains(needle) {
            fails.push(format!(
                "photo upload: expected {want} with '{needle}', got {}: {:.300}",
                page.status, page.text
            ));
        }
    }
    // Pages with bad query strings or ids.
    for (path, want, needle) in [
        (
            "/settings/organization/users?filter=bogus",
            UNPROCESSABLE,
            "unknown",
        ),
        ("/settings/jobs?status=bogus", BAD_REQUEST, "bogus"),
        (
            "/settings/audit-log?cursor=yesterday",
            BAD_REQUEST,
            "not a valid cursor id",
        ),
        (
            "/settings/groups/sales",
            BAD_REQUEST,
            "not a valid group id",
        ),
        (
            "/settings/organization/users/bob/edit",
            BAD_REQUEST,
            "not a valid user id",
        ),
        ("/settings/outbox/1", BAD_REQUEST, "not a valid message id"),
        ("/users/me/photo", BAD_REQUEST, "not a valid user id"),
        (
            &format!("/settings/groups/{NO_SUCH_ID}"),
            NOT_FOUND,
            "group not found",
        ),
        (
            &format!("/users/{NO_SUCH_ID}/photo"),
            NOT_FOUND,
            "photo not found",
        ),
        ("/no/such/page", NOT_FOUND, "no page at this address"),
    ] {
        let page = web(t, Method::GET, path, Some(&session_cookie(&admin)), None).await;
        if page.status != want || !page.is_html() || !page.text.contains(needle) {
            fails.push(format!(
                "GET {path}: expected {want} with '{needle}', got {}: {:.300}",
                page.status, page.text
            ));
        }
    }
    assert!(fails.is_empty(), "{}", fails.join("\n"));
    assert_eq!(
        snapshot(t, &f.key, &f.extra).await,
        before,
        "a refused form changed something"
    );
    let (_, me) = t.get(&f.key, "/me").await;
    assert_eq!(
        (
            me["name"].as_str(),
            me["time_zone"].as_str(),
            me["has_photo"].as_bool()
        ),
        (Some("Ada Admin"), Some("Europe/Paris"), Some(false))
    );
    assert!(
        t.login(&org.admin_email, PASSWORD).await.is_some(),
        "the password changed"
    );
}

/// The setup page with bad fields re-renders and sets nothing up.
#[tokio::test]
async fn setup_with_bad_fields_rerenders() {
    let t = TestApp::spawn().await;
    let (cookie, csrf) = t.anon_csrf(&format!("{}/setup", t.url)).await;
    let jar = format!("convene_csrf={cookie}");
    let good = [
        ("org_name", "Acme"),
        ("name", "Ada"),
        ("email", "ada@acme.example"),
        ("password", PASSWORD),
        ("time_zone", "Europe/Paris"),
    ];
    for (field, bad, needle) in [
        ("org_name", "", "must not be empty"),
        ("org_name", "!!!", "slug"),
        ("email", "not an email", "email"),
        ("password", "short", "at least 10"),
        ("time_zone", "Europe/Atlantis", "unknown time zone"),
        ("name", "   ", "must not be empty"),
    ] {
        let mut all: Vec<(&str, &str)> = good
            .iter()
            .map(|(k, v)| if *k == field { (*k, bad) } else { (*k, *v) })
            .collect();
        all.push(("_csrf", &csrf));
        let page = web(&t, Method::POST, "/setup", Some(&jar), form_body(&all)).await;
        assert_eq!(page.status, UNPROCESSABLE, "{field}={bad:?}: {}", page.text);
        assert!(
            page.is_html() && page.text.contains(needle) && page.session.is_none(),
            "{field}={bad:?}: {}",
            page.text
        );
        assert!(t.app.setup_needed().await.unwrap());
    }
}
