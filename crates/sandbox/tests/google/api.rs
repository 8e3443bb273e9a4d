//! The Calendar API and userinfo: authentication and scopes, the calendar list and its
//! paging, free/busy, and events (client-chosen ids, duplicates, patch/put/delete,
//! deleted events), in Google's wire format; and injected faults.

use axum::http::StatusCode;
use convene_sandbox::Faults;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::*;

const PRIMARY: &str = "gina@google.sandbox";

fn ts(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[tokio::test]
async fn userinfo_names_the_account() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let (status, body) = json_of(sandbox.userinfo(&tokens.access).await).await;
    assert_eq!(status, StatusCode::OK);
    let sub = sandbox
        .google
        .stats()
        .user("gina@google.sandbox")
        .unwrap()
        .sub
        .clone();
    assert_eq!(body["sub"], sub.as_str());
    assert_eq!(sub.len(), 21);
    assert_eq!(body["email"], "gina@google.sandbox");
    assert_eq!(body["email_verified"], true);
    assert_eq!(body["name"], "Gina Granter");
    assert_eq!(body["given_name"], "Gina");

    // A bad token: userinfo answers in the OAuth shape.
    let response = sandbox.userinfo("ya29.nope").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let (_, body) = json_of(response).await;
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": "Invalid Credentials"})
    );
}

#[tokio::test]
async fn the_calendar_api_wants_a_valid_token() {
    let sandbox = start().await;
    for token in ["", "ya29.unknown"] {
        let response = sandbox
            .http
            .get(sandbox.url("/calendar/v3/users/me/calendarList"))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
        let (_, body) = json_of(response).await;
        assert_eq!(body["error"]["code"], 401);
        assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
        assert_eq!(reason(&body), "authError");
        assert_eq!(body["error"]["errors"][0]["message"], "Invalid Credentials");
    }
}

#[tokio::test]
async fn scopes_are_enforced() {
    let sandbox = start().await;
    let pkce = pkce();
    let params: Vec<_> = authorize_params(&pkce.challenge)
        .into_iter()
        .map(|(k, v)| {
            if k == "scope" {
                (k, "openid email".to_string())
            } else {
                (k, v)
            }
        })
        .collect();
    let response = sandbox.authorize_with(params, "gina@google.sandbox").await;
    let code = param(&location_query(&response), "code").unwrap();
    let (_, body) = json_of(sandbox.exchange(&code, &pkce.verifier).await).await;
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(sandbox.userinfo(access).await.status(), StatusCode::OK);
    let (status, body) = json_of(
        sandbox
            .api(
                Method::GET,
                "/calendar/v3/users/me/calendarList",
                access,
                None,
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reason(&body), "insufficientPermissions");
    assert_eq!(
        body["error"]["message"],
        "Request had insufficient authentication scopes."
    );
    let (status, _) = json_of(
        sandbox
            .insert_event(
                access,
                "primary",
                event_body("abcde12345", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_calendar_list_and_its_pages() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let list = |query: Vec<(&'static str, String)>| {
        let sandbox = sandbox.clone();
        let access = tokens.access.clone();
        async move {
            json_of(
                sandbox
                    .http
                    .get(sandbox.url("/calendar/v3/users/me/calendarList"))
                    .bearer_auth(access)
                    .query(&query)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, body) = list(vec![]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["kind"], "calendar#calendarList");
    assert!(body.get("nextPageToken").is_none());
    assert!(body["nextSyncToken"].is_string());
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["id"], PRIMARY);
    assert_eq!(items[0]["primary"], true);
    assert_eq!(items[0]["accessRole"], "owner");
    assert_eq!(items[0]["timeZone"], "America/New_York");
    assert_eq!(items[1]["summary"], "Team events");
    assert_eq!(items[1]["accessRole"], "writer");
    assert!(items[1]["id"]
        .as_str()
        .unwrap()
        .ends_with("@group.calendar.google.com"));
    assert!(items[1].get("primary").is_none());
    assert_eq!(items[2]["summary"], "Holidays");
    assert_eq!(items[2]["accessRole"], "reader");
    assert_eq!(items[2]["id"], "en.usa#holiday@group.v.calendar.google.com");

    // One per page, following nextPageToken.
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let mut query = vec![("maxResults", "1".to_string())];
        if let Some(t) = &token {
            query.push(("pageToken", t.clone()));
        }
        let (status, page) = list(query).await;
        assert_eq!(status, StatusCode::OK);
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].clone()),
        );
        match page["nextPageToken"].as_str() {
            Some(next) => {
                assert!(page.get("nextSyncToken").is_none());
                token = Some(next.to_string());
            }
            None => break,
        }
    }
    assert_eq!(
        ids,
        items.iter().map(|c| c["id"].clone()).collect::<Vec<_>>()
    );

    let (_, writable) = list(vec![("minAccessRole", "writer".into())]).await;
    assert_eq!(writable["items"].as_array().unwrap().len(), 2);
    for bad in [
        ("maxResults", "0"),
        ("pageToken", "garbage!"),
        ("minAccessRole", "god"),
    ] {
        let (status, body) = list(vec![(bad.0, bad.1.to_string())]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(reason(&body), "invalid", "{bad:?}");
    }
}

#[tokio::test]
async fn free_busy_merges_clips_and_reports_unreadable_calendars() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let g = &sandbox.google;
    // Two overlapping busy events, one inside the window's start, one after it.
    g.add_busy(
        PRIMARY,
        ts("2026-12-01T14:00:00Z"),
        ts("2026-12-01T15:30:00Z"),
        "A",
    )
    .unwrap();
    g.add_busy(
        PRIMARY,
        ts("2026-12-01T15:00:00Z"),
        ts("2026-12-01T16:00:00Z"),
        "B",
    )
    .unwrap();
    g.add_busy(
        PRIMARY,
        ts("2026-12-02T09:00:00Z"),
        ts("2026-12-02T10:00:00Z"),
        "Later",
    )
    .unwrap();
    g.add_busy_in(
        PRIMARY,
        "Team events",
        ts("2026-12-01T18:00:00Z"),
        ts("2026-12-01T19:00:00Z"),
        "Team",
    )
    .unwrap();
    // A transparent event and a deleted one do not count.
    sandbox
        .insert_event(&tokens.access, "primary", json!({
            "summary": "Reminder", "transparency": "transparent",
            "start": {"dateTime": "2026-12-01T20:00:00Z"}, "end": {"dateTime": "2026-12-01T21:00:00Z"}
        }))
        .await;
    let (_, deleted) = json_of(
        sandbox
            .insert_event(
                &tokens.access,
                "primary",
                event_body(
                    "deleted0001",
                    "2026-12-01T22:00:00Z",
                    "2026-12-01T23:00:00Z",
                ),
            )
            .await,
    )
    .await;
    assert_eq!(deleted["id"], "deleted0001");
    sandbox
        .event(
            Method::DELETE,
            &tokens.access,
            "primary",
            "deleted0001",
            None,
        )
        .await;

    let team_id = g.stats().user(PRIMARY).unwrap().calendars[1].id.clone();
    let (status, body) = json_of(
        sandbox
            .free_busy(
                &tokens.access,
                json!({
                    "timeMin": "2026-12-01T14:30:00Z",
                    "timeMax": "2026-12-02T00:00:00Z",
                    "timeZone": "UTC",
                    "items": [{"id": "primary"}, {"id": team_id}, {"id": "someone@else.test"}],
                }),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "calendar#freeBusy");
    assert_eq!(body["timeMin"], "2026-12-01T14:30:00Z");
    assert_eq!(
        body["calendars"]["primary"],
        json!({"busy": [{"start": "2026-12-01T14:30:00Z", "end": "2026-12-01T16:00:00Z"}]})
    );
    assert_eq!(
        body["calendars"][team_id.as_str()]["busy"],
        json!([{"start": "2026-12-01T18:00:00Z", "end": "2026-12-01T19:00:00Z"}])
    );
    assert_eq!(
        body["calendars"]["someone@else.test"],
        json!({"errors": [{"domain": "global", "reason": "notFound"}], "busy": []})
    );

    // In another time zone, times carry its offset.
    let (_, body) = json_of(
        sandbox
            .free_busy(
                &tokens.access,
                json!({
                    "timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-03T00:00:00Z",
                    "timeZone": "America/New_York", "items": [{"id": PRIMARY}],
                }),
            )
            .await,
    )
    .await;
    assert_eq!(
        body["calendars"][PRIMARY]["busy"],
        json!([
            {"start": "2026-12-01T09:00:00-05:00", "end": "2026-12-01T11:00:00-05:00"},
            {"start": "2026-12-02T04:00:00-05:00", "end": "2026-12-02T05:00:00-05:00"},
        ])
    );
    assert_eq!(g.stats().freebusy_queries, 2);
}

#[tokio::test]
async fn free_busy_refuses_bad_queries() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"id": format!("c{i}@x.test")}))
        .collect();
    let cases = [
        (
            json!({"timeMax": "2026-12-02T00:00:00Z", "items": []}),
            "required",
        ),
        (
            json!({"timeMin": "yesterday", "timeMax": "2026-12-02T00:00:00Z"}),
            "invalid",
        ),
        (
            json!({"timeMin": "2026-12-02T00:00:00Z", "timeMax": "2026-12-01T00:00:00Z"}),
            "timeRangeEmpty",
        ),
        (
            json!({"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z", "timeZone": "Mars/Base"}),
            "invalid",
        ),
        (
            json!({"timeMin": "2026-12-01T00:00:00Z", "timeMax": "2026-12-02T00:00:00Z", "items": many}),
            "tooManyCalendarsRequested",
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = json_of(sandbox.free_busy(&tokens.access, body.clone()).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reason(&answer), expected, "{body}");
    }
    let response = sandbox
        .http
        .post(sandbox.url("/calendar/v3/freeBusy"))
        .bearer_auth(&tokens.access)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(reason(&body), "parseError");
}

#[tokio::test]
async fn events_with_client_chosen_ids() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let id = "0123456789abcdefghijklmnopqrstuv";
    let body = event_body(id, "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z");
    let (status, event) = json_of(
        sandbox
            .insert_event(&tokens.access, "primary", body.clone())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["kind"], "calendar#event");
    assert_eq!(event["id"], id);
    assert_eq!(event["status"], "confirmed");
    assert_eq!(event["summary"], "Intro call with Ada");
    assert_eq!(event["location"], "https://zoom.sandbox/j/1");
    assert_eq!(event["description"], "Join: https://zoom.sandbox/j/1");
    // Times come back in the calendar's zone (New York for gina).
    assert_eq!(
        event["start"],
        json!({"dateTime": "2026-12-01T10:00:00-05:00"})
    );
    assert_eq!(
        event["end"],
        json!({"dateTime": "2026-12-01T10:30:00-05:00"})
    );
    assert_eq!(
        event["attendees"],
        json!([{"email": "ada@example.com", "displayName": "Ada Lovelace", "responseStatus": "needsAction"}])
    );
    assert_eq!(event["organizer"]["email"], PRIMARY);
    assert_eq!(event["iCalUID"], format!("{id}@google.com"));
    assert_eq!(event["sequence"], 0);
    assert!(event["etag"].as_str().unwrap().starts_with('"'));

    // The same id again is a duplicate, whatever the body.
    let (status, dup) = json_of(
        sandbox
            .insert_event(&tokens.access, PRIMARY, body.clone())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(reason(&dup), "duplicate");
    assert_eq!(
        dup["error"]["message"],
        "The requested identifier already exists."
    );
    // …but only within one calendar.
    let team_id = sandbox.google.stats().user(PRIMARY).unwrap().calendars[1]
        .id
        .clone();
    let (status, _) = json_of(sandbox.insert_event(&tokens.access, &team_id, body).await).await;
    assert_eq!(status, StatusCode::OK);

    for bad in ["ABCDE12345", "abcd", "abcdwxyz00", "has-dash00"] {
        let (status, answer) = json_of(
            sandbox
                .insert_event(
                    &tokens.access,
                    "primary",
                    event_body(bad, "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
                )
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            answer["error"]["message"], "Invalid resource id value.",
            "{bad}"
        );
    }
    // Without an id, Google picks one (base32hex).
    let (status, event) = json_of(
        sandbox
            .insert_event(&tokens.access, "primary", json!({
                "summary": "Local time", "start": {"dateTime": "2026-12-01T09:00:00", "timeZone": "Europe/Paris"},
                "end": {"dateTime": "2026-12-01T10:00:00", "timeZone": "Europe/Paris"}
            }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let server_id = event["id"].as_str().unwrap();
    assert_eq!(server_id.len(), 26);
    assert!(server_id
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)));
    assert_eq!(
        event["start"],
        json!({"dateTime": "2026-12-01T09:00:00+01:00", "timeZone": "Europe/Paris"})
    );

    let stats = sandbox.google.stats();
    assert_eq!((stats.events_created, stats.duplicate_creates), (3, 1));
    let events = sandbox.google.events();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[0].calendar_id, PRIMARY,
        "the primary alias is resolved"
    );
    assert_eq!(events[0].account.as_deref(), Some(PRIMARY));
    assert_eq!(events[0].start, ts("2026-12-01T15:00:00Z"));
    assert_eq!(
        events[0].attendees[0].display_name.as_deref(),
        Some("Ada Lovelace")
    );
}

#[tokio::test]
async fn bad_event_writes_are_refused() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let ok = event_body("valid00001", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z");
    let holidays = "en.usa#holiday@group.v.calendar.google.com";
    let (status, body) = json_of(
        sandbox
            .insert_event(&tokens.access, holidays, ok.clone())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reason(&body), "requiredAccessLevel");
    let (status, body) = json_of(
        sandbox
            .insert_event(&tokens.access, "denise@google.sandbox", ok.clone())
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(reason(&body), "notFound");

    let mut no_end = ok.clone();
    no_end.as_object_mut().unwrap().remove("end");
    let mut backwards = ok.clone();
    backwards["end"] = json!({"dateTime": "2026-12-01T14:00:00Z"});
    let mut mixed = ok.clone();
    mixed["end"] = json!({"date": "2026-12-02"});
    let mut no_zone = ok.clone();
    no_zone["start"] = json!({"dateTime": "2026-12-01T15:00:00"});
    let mut bad_attendee = ok.clone();
    bad_attendee["attendees"] = json!([{"displayName": "Nobody"}]);
    let cases = [
        (no_end, "Missing end time."),
        (backwards, "The specified time range is empty."),
        (
            mixed,
            "Start and end times must either both be date or both be dateTime.",
        ),
        (no_zone, "Missing time zone definition for start time."),
        (bad_attendee, "Missing attendee email."),
    ];
    for (body, expected) in cases {
        let (status, answer) =
            json_of(sandbox.insert_event(&tokens.access, "primary", body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{expected}");
        assert_eq!(answer["error"]["message"], expected);
    }
    let response = sandbox
        .http
        .post(sandbox.url("/calendar/v3/calendars/primary/events?sendUpdates=everyone"))
        .bearer_auth(&tokens.access)
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(sandbox.google.events().is_empty());
}

#[tokio::test]
async fn patch_put_delete_and_what_a_deleted_event_answers() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let team = sandbox.google.stats().user(PRIMARY).unwrap().calendars[1]
        .id
        .clone();
    let id = "e0000000000000000000000000000001";
    let created = json_of(
        sandbox
            .insert_event(
                &tokens.access,
                &team,
                event_body(id, "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
            )
            .await,
    )
    .await
    .1;
    let call = |method: Method, body: Option<Value>| {
        let sandbox = sandbox.clone();
        let access = tokens.access.clone();
        let team = team.clone();
        async move { json_of(sandbox.event(method, &access, &team, id, body).await).await }
    };

    let (status, got) = call(Method::GET, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["etag"], created["etag"]);

    // PATCH changes only what it names; null clears.
    let (status, patched) = call(
        Method::PATCH,
        Some(json!({"location": null, "summary": "Renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["summary"], "Renamed");
    assert!(patched.get("location").is_none());
    assert_eq!(patched["description"], created["description"]);
    assert_eq!(patched["sequence"], 0, "same time: same sequence");
    assert_ne!(patched["etag"], created["etag"]);
    let (_, moved) = call(
        Method::PATCH,
        Some(json!({"start": {"dateTime": "2026-12-02T15:00:00Z"}, "end": {"dateTime": "2026-12-02T15:30:00Z"}})),
    )
    .await;
    assert_eq!(moved["sequence"], 1);
    assert_eq!(moved["summary"], "Renamed");

    // PUT replaces the event: what it leaves out is gone.
    let (status, put) = call(
        Method::PUT,
        Some(json!({"summary": "Replaced", "start": {"dateTime": "2026-12-03T15:00:00Z"}, "end": {"dateTime": "2026-12-03T16:00:00Z"}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{put}");
    assert!(put.get("description").is_none());
    assert!(put.get("attendees").is_none());
    let (status, _) = call(Method::PUT, Some(json!({"summary": "No times"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = call(Method::DELETE, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    // Google still returns a deleted event, cancelled; changing or deleting it is 410.
    let (status, gone) = call(Method::GET, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["status"], "cancelled");
    for (method, body) in [
        (Method::DELETE, None),
        (Method::PATCH, Some(json!({"summary": "x"}))),
        (
            Method::PUT,
            Some(
                json!({"start": {"dateTime": "2026-12-03T15:00:00Z"}, "end": {"dateTime": "2026-12-03T16:00:00Z"}}),
            ),
        ),
    ] {
        let (status, answer) = call(method.clone(), body).await;
        assert_eq!(status, StatusCode::GONE, "{method}");
        assert_eq!(reason(&answer), "deleted");
        assert_eq!(answer["error"]["message"], "Resource has been deleted");
    }
    // Its id stays taken.
    let (status, _) = json_of(
        sandbox
            .insert_event(
                &tokens.access,
                &team,
                event_body(id, "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // An unknown event is 404.
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({}));
        let (status, answer) = json_of(
            sandbox
                .event(method.clone(), &tokens.access, &team, "unknown00", body)
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
        assert_eq!(reason(&answer), "notFound");
    }

    let stats = sandbox.google.stats();
    assert_eq!(
        (
            stats.events_created,
            stats.events_updated,
            stats.events_deleted
        ),
        (1, 3, 1)
    );
    let event = &sandbox.google.events()[0];
    assert!(event.deleted);
    assert_eq!(event.updates, 3);
    assert_eq!(event.summary, "Replaced");
    assert_eq!(event.calendar_id, team);
}

#[tokio::test]
async fn unknown_paths_get_googles_html_404() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    let response = sandbox
        .api(
            Method::GET,
            "/calendar/v3/colors/everything",
            &tokens.access,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("The requested URL was not found"));
}

#[tokio::test]
async fn injected_faults_in_googles_format() {
    let sandbox = start().await;
    let tokens = sandbox.connect("gina@google.sandbox").await;
    sandbox.google.set_faults(Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 2,
        ..Faults::default()
    });
    let response = sandbox
        .api(
            Method::GET,
            "/calendar/v3/users/me/calendarList",
            &tokens.access,
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    let (_, body) = json_of(response).await;
    assert_eq!(reason(&body), "rateLimitExceeded");
    assert_eq!(body["error"]["errors"][0]["domain"], "usageLimits");

    sandbox.google.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let (status, body) = json_of(sandbox.userinfo(&tokens.access).await).await;
    assert!(matches!(status.as_u16(), 500 | 503), "{status}");
    assert_eq!(reason(&body), "backendError");
    // The control surface is never faulty.
    let response = sandbox
        .http
        .get(sandbox.url("/control/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    sandbox.google.set_faults(Faults::default());
    assert_eq!(
        sandbox.userinfo(&tokens.access).await.status(),
        StatusCode::OK
    );
    let stats = sandbox.google.stats();
    assert_eq!((stats.injected_rate_limits, stats.injected_errors), (1, 1));
}
