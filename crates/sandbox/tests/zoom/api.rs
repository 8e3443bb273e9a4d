//! The `/v2` API: authentication, meetings CRUD, validation, other users' ids and
//! meetings, the admin's user list, and injected faults.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use convene_sandbox::Faults;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn calls_without_a_valid_token_get_code_124() {
    let sandbox = start().await;
    let response = sandbox
        .http
        .get(sandbox.url("/v2/users/me"))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"code": 124, "message": "Invalid access token."})
    );
    let (status, body) = json_of(sandbox.me("made-up").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 124);
}

#[tokio::test]
async fn meetings_are_created_read_updated_and_deleted() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    let (_, me) = json_of(sandbox.me(&alice.access).await).await;

    let (status, meeting) = json_of(
        sandbox
            .create_meeting(&alice.access, "me", "Intro call")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = meeting["id"].as_u64().expect("a numeric id");
    assert!(id >= 10_000_000_000);
    assert_eq!(meeting["host_id"], me["id"]);
    assert_eq!(meeting["host_email"], "alice@zoom.sandbox");
    assert_eq!(meeting["topic"], "Intro call");
    assert_eq!(meeting["type"], 2);
    assert_eq!(meeting["start_time"], "2026-12-01T15:00:00Z");
    assert_eq!(meeting["duration"], 30);
    assert_eq!(meeting["timezone"], "Europe/Paris");
    assert_eq!(meeting["agenda"], "Demo of Convene");
    assert_eq!(meeting["settings"]["join_before_host"], true);
    let join_url = meeting["join_url"].as_str().unwrap();
    assert!(
        join_url.starts_with(&format!("https://zoom.sandbox/j/{id}?pwd=")),
        "{join_url}"
    );
    for field in ["uuid", "start_url", "password", "created_at"] {
        assert!(
            meeting[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }

    // Created by id too; every meeting has its own link.
    let path = format!("/users/{}/meetings", me["id"].as_str().unwrap());
    let (status, other) = json_of(
        sandbox
            .api(
                Method::POST,
                &path,
                &alice.access,
                Some(json!({"topic": "Second", "start_time": "2026-12-02T10:00:00Z"})),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(other["join_url"], meeting["join_url"]);
    assert_eq!(other["duration"], 60);
    assert_eq!(other["timezone"], "America/New_York");

    let path = format!("/meetings/{id}");
    let (status, read) = json_of(sandbox.api(Method::GET, &path, &alice.access, None).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["join_url"], meeting["join_url"]);

    let response = sandbox
        .api(
            Method::PATCH,
            &path,
            &alice.access,
            Some(json!({"topic": "Intro call (moved)", "start_time": "2026-12-01T17:30:00", "timezone": "Europe/Paris"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.text().await.unwrap().is_empty());
    let (_, read) = json_of(sandbox.api(Method::GET, &path, &alice.access, None).await).await;
    assert_eq!(read["topic"], "Intro call (moved)");
    assert_eq!(read["start_time"], "2026-12-01T16:30:00Z");
    assert_eq!(read["duration"], 30);
    assert_eq!(read["join_url"], meeting["join_url"], "updated in place");

    let response = sandbox
        .api(Method::DELETE, &path, &alice.access, None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"topic": "x"}));
        let (status, error) = json_of(
            sandbox
                .api(method.clone(), &path, &alice.access, body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(
            error,
            json!({"code": 3001, "message": format!("Meeting {id} is not found or has expired.")})
        );
    }

    let stats = sandbox.zoom.stats();
    assert_eq!(stats.meetings.len(), 2);
    assert_eq!(stats.live_meetings().count(), 1);
    let gone = stats.meetings.iter().find(|m| m.id == id).unwrap();
    assert!(gone.deleted);
    assert_eq!(gone.updates, 1);
    assert_eq!(gone.host_user_id, me["id"].as_str().unwrap());
    assert_eq!(
        (
            stats.meetings_created,
            stats.meetings_updated,
            stats.meetings_deleted
        ),
        (2, 1, 1)
    );
}

fn zoom_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Creates a meeting for `user` starting `offset` from now; returns its id.
async fn meeting_at(
    sandbox: &Sandbox,
    token: &str,
    user: &str,
    topic: &str,
    offset: jiff::SignedDuration,
    minutes: u32,
) -> u64 {
    let start = jiff::Timestamp::now().checked_add(offset).unwrap();
    let (status, meeting) = json_of(
        sandbox
            .api(
                Method::POST,
                &format!("/users/{user}/meetings"),
                token,
                Some(json!({"topic": topic, "type": 2, "start_time": zoom_time(start), "duration": minutes, "agenda": format!("About {topic}")})),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    meeting["id"].as_u64().unwrap()
}

async fn list(sandbox: &Sandbox, token: &str, path_and_query: &str) -> (StatusCode, Value) {
    json_of(sandbox.api(Method::GET, path_and_query, token, None).await).await
}

fn ids(page: &Value) -> Vec<u64> {
    page["meetings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn meetings_are_listed_by_type_and_paged() {
    use jiff::SignedDuration as D;
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    let dana = sandbox.connect("dana@example.com").await;
    let a = &alice.access;
    let past = meeting_at(&sandbox, a, "me", "Past", D::from_hours(-72), 30).await;
    let live = meeting_at(&sandbox, a, "me", "Live", D::from_mins(-10), 60).await;
    let day1 = meeting_at(&sandbox, a, "me", "Day 1", D::from_hours(24), 30).await;
    let day2 = meeting_at(&sandbox, a, "me", "Day 2", D::from_hours(48), 30).await;
    let day3 = meeting_at(&sandbox, a, "me", "Day 3", D::from_hours(72), 30).await;
    let deleted = meeting_at(&sandbox, a, "me", "Deleted", D::from_hours(96), 30).await;
    sandbox
        .api(Method::DELETE, &format!("/meetings/{deleted}"), a, None)
        .await;
    let danas = meeting_at(
        &sandbox,
        &dana.access,
        "me",
        "Dana's",
        D::from_hours(24),
        30,
    )
    .await;

    // Upcoming, two at a time: live ones count as upcoming, as at Zoom.
    let (status, first) = list(&sandbox, a, "/users/me/meetings?type=upcoming&page_size=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["total_records"], 4);
    assert_eq!(ids(&first), [live, day1]);
    let entry = &first["meetings"][1];
    assert_eq!(entry["topic"], "Day 1");
    assert_eq!(entry["agenda"], "About Day 1");
    assert_eq!(entry["type"], 2);
    assert_eq!(entry["duration"], 30);
    assert!(entry["start_time"].as_str().unwrap().ends_with('Z'));
    assert!(entry["join_url"]
        .as_str()
        .unwrap()
        .starts_with(&format!("https://zoom.sandbox/j/{day1}?pwd=")));
    for field in ["uuid", "host_id", "timezone", "created_at"] {
        assert!(
            entry[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field}"
        );
    }
    // The list has no host credentials.
    assert!(entry.get("start_url").is_none() && entry.get("password").is_none());

    // A meeting created between two pages, before the cursor, does not shift the next page.
    let token = first["next_page_token"].as_str().unwrap().to_string();
    assert!(!token.is_empty());
    let early = meeting_at(&sandbox, a, "me", "Early", D::from_hours(1), 15).await;
    let (_, second) = list(
        &sandbox,
        a,
        &format!("/users/me/meetings?type=upcoming&page_size=2&next_page_token={token}"),
    )
    .await;
    assert_eq!(ids(&second), [day2, day3]);
    assert_eq!(second["next_page_token"], "");
    assert_eq!(second["total_records"], 5);

    // The other types; the default is `scheduled` (past, unexpired ones included), 30 a page.
    let (_, all) = list(&sandbox, a, "/users/me/meetings").await;
    assert_eq!(ids(&all), [past, live, early, day1, day2, day3]);
    assert_eq!(all["page_size"], 30);
    let (_, now) = list(&sandbox, a, "/users/me/meetings?type=live").await;
    assert_eq!(ids(&now), [live]);
    let (_, before) = list(&sandbox, a, "/users/me/meetings?type=previous_meetings").await;
    assert_eq!(ids(&before), [past]);
    let (_, big) = list(&sandbox, a, "/users/me/meetings?page_size=1000").await;
    assert_eq!(big["page_size"], 300);

    // By id or email; the admin of the account may list alice's; dana's stay hers.
    let alice_id = sandbox
        .zoom
        .stats()
        .user("alice@zoom.sandbox")
        .unwrap()
        .id
        .clone();
    let (_, by_id) = list(
        &sandbox,
        a,
        &format!("/users/{alice_id}/meetings?type=upcoming"),
    )
    .await;
    assert_eq!(ids(&by_id), [live, early, day1, day2, day3]);
    let admin = sandbox.connect("admin@zoom.sandbox").await;
    let (status, for_alice) = list(
        &sandbox,
        &admin.access,
        "/users/alice@zoom.sandbox/meetings",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(for_alice["total_records"], 6);
    let (_, danas_list) = list(&sandbox, &dana.access, "/users/me/meetings").await;
    assert_eq!(ids(&danas_list), [danas]);
    let dana_id = sandbox
        .zoom
        .stats()
        .user("dana@example.com")
        .unwrap()
        .id
        .clone();
    let (status, error) = list(&sandbox, a, &format!("/users/{dana_id}/meetings")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error,
        json!({"code": 1001, "message": format!("User does not exist: {dana_id}.")})
    );

    // Bad parameters are 400 code 300; no token is 124.
    for query in [
        "page_size=0",
        "page_size=ten",
        "type=weekly",
        "next_page_token=garbage",
    ] {
        let (status, error) = list(&sandbox, a, &format!("/users/me/meetings?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(error["code"], 300, "{query}");
    }
    let (status, error) = list(&sandbox, "made-up", "/users/me/meetings").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error["code"], 124);
}

#[tokio::test]
async fn bad_meeting_bodies_get_code_300() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    for body in [
        json!({"start_time": "2026-12-01T15:00:00Z"}),
        json!({"topic": "No time"}),
        json!({"topic": "Bad time", "start_time": "next tuesday"}),
        json!({"topic": "Recurring", "type": 8, "start_time": "2026-12-01T15:00:00Z"}),
        json!({"topic": "Negative", "start_time": "2026-12-01T15:00:00Z", "duration": -1}),
    ] {
        let (status, error) = json_of(
            sandbox
                .api(
                    Method::POST,
                    "/users/me/meetings",
                    &alice.access,
                    Some(body.clone()),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error["code"], 300, "{body}");
        assert!(error["errors"][0]["field"].is_string(), "{body}");
    }
    let response = sandbox
        .http
        .post(sandbox.url("/v2/users/me/meetings"))
        .bearer_auth(&alice.access)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, error) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], 300);
    assert!(sandbox.zoom.stats().meetings.is_empty());
}

#[tokio::test]
async fn other_users_and_their_meetings() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;
    let dana = sandbox.connect("dana@example.com").await;
    let admin = sandbox.connect("admin@zoom.sandbox").await;
    let alice_id = sandbox
        .zoom
        .stats()
        .user("alice@zoom.sandbox")
        .unwrap()
        .id
        .clone();
    let dana_id = sandbox
        .zoom
        .stats()
        .user("dana@example.com")
        .unwrap()
        .id
        .clone();

    // Another user's id is 1001.
    let (status, error) = json_of(
        sandbox
            .create_meeting(&alice.access, &dana_id, "Not mine")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        error,
        json!({"code": 1001, "message": format!("User does not exist: {dana_id}.")})
    );

    let (_, meeting) = json_of(sandbox.create_meeting(&alice.access, "me", "Alice's").await).await;
    let path = format!("/meetings/{}", meeting["id"]);
    // Not the host: 3003.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"topic": "Hijacked"}));
        let (status, error) =
            json_of(sandbox.api(method.clone(), &path, &dana.access, body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method}");
        assert_eq!(
            error,
            json!({"code": 3003, "message": "You are not the meeting host."})
        );
    }
    // The admin of alice's account may act for her (org-managed Zoom).
    let response = sandbox
        .api(
            Method::PATCH,
            &path,
            &admin.access,
            Some(json!({"duration": 45})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let (status, created) = json_of(
        sandbox
            .create_meeting(&admin.access, "alice@zoom.sandbox", "For Alice")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(created["host_id"], alice_id.as_str());
    let (status, _) = json_of(
        sandbox
            .create_meeting(&admin.access, &dana_id, "Other account")
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The admin lists the account's users; a member may not.
    let (status, list) = json_of(
        sandbox
            .api(
                Method::GET,
                "/users?status=active&page_size=2",
                &admin.access,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["total_records"], 3, "{list}"); // admin, alice, carol
    assert_eq!(list["users"].as_array().unwrap().len(), 2);
    let next = list["next_page_token"].as_str().unwrap();
    let (_, rest) = json_of(
        sandbox
            .api(
                Method::GET,
                &format!("/users?page_size=2&next_page_token={next}"),
                &admin.access,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(rest["users"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_page_token"], "");
    let (status, _) = json_of(
        sandbox
            .api(Method::GET, "/users", &alice.access, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, error) = json_of(
        sandbox
            .api(Method::GET, "/webinars/1", &alice.access, None)
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert!(error["message"].is_string(), "{error}");
}

#[tokio::test]
async fn injected_rate_limits_errors_and_latency() {
    let sandbox = start().await;
    let alice = sandbox.connect("alice@zoom.sandbox").await;

    sandbox.zoom.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let response = sandbox.me(&alice.access).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers().clone();
    assert_eq!(headers["retry-after"], "7");
    assert!(headers.contains_key("x-ratelimit-limit"));
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    let (_, body) = json_of(response).await;
    assert_eq!(
        body,
        json!({"code": 429, "message": "You have reached the maximum per-second rate limit for this API. Try again later."})
    );
    // The token endpoint too, and a refused refresh does not spend the token.
    let response = sandbox.refresh(&alice.refresh).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "7");

    sandbox.zoom.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (status, body) = json_of(sandbox.create_meeting(&alice.access, "me", "Fails").await).await;
    assert!(
        status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(body["code"], status.as_u16());
    assert!(sandbox.zoom.stats().meetings.is_empty());

    sandbox.zoom.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(sandbox.me(&alice.access).await.status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    sandbox.zoom.set_faults(Faults::default());
    assert_eq!(
        sandbox.refresh(&alice.refresh).await.status(),
        StatusCode::OK
    );
    let stats = sandbox.zoom.stats();
    assert_eq!((stats.injected_rate_limits, stats.injected_errors), (2, 1));
}
