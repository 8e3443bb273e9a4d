//! Graph: the user and calendars, calendarView paging, getSchedule, events with
//! transactionId idempotency, Teams online meetings, errors and injected faults.

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{json, Value};

use crate::harness::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[tokio::test]
async fn me_and_two_editable_calendars() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let (status, me) = sandbox.get("/me", &tokens.access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["mail"], MEGAN);
    assert_eq!(me["givenName"], "Megan");
    assert_eq!(me["id"].as_str().unwrap().len(), 36);

    let (status, calendars) = sandbox.get("/me/calendars", &tokens.access).await;
    assert_eq!(status, StatusCode::OK);
    let list = calendars["value"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["name"], "Calendar");
    assert_eq!(list[0]["isDefaultCalendar"], true);
    assert_eq!(list[1]["isDefaultCalendar"], false);
    assert!(list.iter().all(|c| c["canEdit"] == true));
    assert_eq!(list[0]["owner"]["address"], MEGAN);
    assert!(calendars.get("@odata.nextLink").is_none());
    // Calendar ids are stable: the same in another sandbox.
    let other = start().await;
    let other_tokens = other.connect(MEGAN).await;
    assert_eq!(
        other.default_calendar(&other_tokens.access).await,
        list[0]["id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn calendar_view_pages_by_ten_with_an_absolute_next_link() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let calendar = sandbox.default_calendar(&tokens.access).await;
    let day: Timestamp = ts("2026-12-01T00:00:00Z");
    for i in 0..25 {
        let start = day + jiff::SignedDuration::from_mins(30 * i);
        let end = start + jiff::SignedDuration::from_mins(20);
        sandbox
            .ms
            .add_busy(MEGAN, start, end, Some(&format!("Busy {i}")))
            .unwrap();
    }
    // Outside the window, and in another user's calendar: not listed.
    sandbox
        .ms
        .add_busy(
            MEGAN,
            ts("2026-12-03T09:00:00Z"),
            ts("2026-12-03T10:00:00Z"),
            None,
        )
        .unwrap();
    sandbox
        .ms
        .add_busy(
            "ada@example.com",
            ts("2026-12-01T09:00:00Z"),
            ts("2026-12-01T10:00:00Z"),
            None,
        )
        .unwrap();

    let mut url = sandbox.url(&format!(
        "/v1.0/me/calendars/{calendar}/calendarView?startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-02T00:00:00Z"
    ));
    let mut subjects = Vec::new();
    let mut pages = 0;
    loop {
        let response = sandbox
            .http
            .get(&url)
            .bearer_auth(&tokens.access)
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["preference-applied"],
            "outlook.timezone=\"UTC\""
        );
        let (status, page) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        pages += 1;
        let events = page["value"].as_array().unwrap();
        assert!(events.len() <= 10);
        for e in events {
            assert_eq!(e["start"]["timeZone"], "UTC");
            assert!(e["start"]["dateTime"]
                .as_str()
                .unwrap()
                .ends_with(":00.0000000"));
            assert_eq!(e["showAs"], "busy");
            assert_eq!(e["isCancelled"], false);
            subjects.push(e["subject"].as_str().unwrap().to_string());
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&sandbox.base), "{next}");
                url = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("Busy {i}")).collect();
    assert_eq!(subjects, expected);

    // The default calendar's view, in another zone.
    let response = sandbox
        .http
        .get(sandbox.url("/v1.0/me/calendarView"))
        .query(&[
            ("startDateTime", "2026-12-01T00:00:00"),
            ("endDateTime", "2026-12-01T01:00:00"),
        ])
        .bearer_auth(&tokens.access)
        .header("Prefer", "outlook.timezone=\"America/New_York\"")
        .send()
        .await
        .unwrap();
    let (_, page) = json_of(response).await;
    let events = page["value"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0]["start"],
        json!({"dateTime": "2026-11-30T19:00:00.0000000", "timeZone": "America/New_York"})
    );
}

#[tokio::test]
async fn calendar_view_needs_a_window_and_a_calendar_of_the_caller() {
    let sandbox = start().await;
    let megan = sandbox.connect(MEGAN).await;
    let ada = sandbox.connect("ada@example.com").await;
    let calendar = sandbox.default_calendar(&megan.access).await;
    let (status, body) = sandbox
        .get(
            &format!("/me/calendars/{calendar}/calendarView"),
            &megan.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "ErrorInvalidParameter");
    let window = "startDateTime=2026-12-01T00:00:00Z&endDateTime=2026-12-02T00:00:00Z";
    let (status, body) = sandbox
        .get(
            &format!("/me/calendars/{calendar}/calendarView?{window}"),
            &ada.access,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["code"], "ErrorItemNotFound");
    let (status, _) = sandbox
        .get(
            &format!("/me/calendars/{calendar}/calendarView?{window}&$top=0"),
            &megan.access,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_repeated_create_with_the_same_transaction_id_returns_the_same_event() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let calendar = sandbox.default_calendar(&tokens.access).await;
    let path = format!("/me/calendars/{calendar}/events");
    let body = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        Some("convene-abc"),
    );
    let (status, first) = sandbox.post(&path, &tokens.access, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["transactionId"], "convene-abc");
    assert_eq!(first["subject"], "Intro call");
    assert_eq!(
        first["start"],
        json!({"dateTime": "2026-12-01T15:00:00.0000000", "timeZone": "UTC"})
    );
    assert_eq!(
        first["location"]["displayName"],
        "https://teams.example/l/1"
    );
    assert_eq!(
        first["attendees"][0]["emailAddress"]["address"],
        "ada@example.com"
    );
    assert_eq!(first["attendees"][0]["type"], "required");
    assert_eq!(first["organizer"]["emailAddress"]["address"], MEGAN);
    assert!(first["@odata.etag"].as_str().unwrap().starts_with("W/\""));

    let (status, again) = sandbox.post(&path, &tokens.access, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again["id"], first["id"]);
    // Through /me/events (the default calendar) too.
    let (_, via_default) = sandbox.post("/me/events", &tokens.access, body).await;
    assert_eq!(via_default["id"], first["id"]);

    let live: Vec<_> = sandbox
        .ms
        .events()
        .into_iter()
        .filter(|e| !e.deleted)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].calendar_id, calendar);
    assert_eq!(live[0].attendees[0].name, "Ada Lovelace");
    let stats = sandbox.ms.stats();
    assert_eq!((stats.events_created, stats.events_deduplicated), (1, 2));

    // Another transactionId, or none, makes another event.
    let other = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        Some("convene-def"),
    );
    let (_, second) = sandbox.post(&path, &tokens.access, other).await;
    assert_ne!(second["id"], first["id"]);
    let none = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        None,
    );
    let (status, third) = sandbox.post("/me/events", &tokens.access, none).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(third["transactionId"], Value::Null);
    assert_eq!(sandbox.ms.events().len(), 3);
}

#[tokio::test]
async fn events_are_updated_in_place_and_deleted() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let body = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        Some("t-1"),
    );
    let (_, created) = sandbox.post("/me/events", &tokens.access, body).await;
    let path = format!("/me/events/{}", created["id"].as_str().unwrap());

    let (status, updated) = sandbox
        .patch(
            &path,
            &tokens.access,
            json!({
                "start": {"dateTime": "2026-12-02T10:00:00", "timeZone": "Europe/Berlin"},
                "end": {"dateTime": "2026-12-02T10:30:00", "timeZone": "Europe/Berlin"},
                "location": {"displayName": ""},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["start"]["dateTime"], "2026-12-02T09:00:00.0000000");
    assert_ne!(updated["changeKey"], created["changeKey"]);
    let (status, body) = sandbox
        .patch(&path, &tokens.access, json!({"transactionId": "t-2"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "ErrorInvalidRequest");
    let (status, read) = sandbox.get(&path, &tokens.access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["location"]["displayName"], "");
    let event = &sandbox.ms.events()[0];
    assert_eq!(event.start, ts("2026-12-02T09:00:00Z"));
    assert_eq!(event.updates, 1);

    // Another user cannot see it.
    let ada = sandbox.connect("ada@example.com").await;
    assert_eq!(
        sandbox.get(&path, &ada.access).await.0,
        StatusCode::NOT_FOUND
    );

    let (status, _) = sandbox.delete(&path, &tokens.access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (status, body) in [
        sandbox.get(&path, &tokens.access).await,
        sandbox.delete(&path, &tokens.access).await,
        sandbox
            .patch(&path, &tokens.access, json!({"subject": "x"}))
            .await,
    ] {
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "ErrorItemNotFound");
    }
    assert!(sandbox.ms.events()[0].deleted);
    // A deleted event's transactionId no longer answers a create.
    let body = event_body(
        "Intro call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        Some("t-1"),
    );
    let (_, recreated) = sandbox.post("/me/events", &tokens.access, body).await;
    assert_ne!(recreated["id"], created["id"]);
}

#[tokio::test]
async fn event_bodies_are_checked_as_graph_does() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let cases = [
        (json!({"subject": "x"}), "ErrorInvalidRequest"),
        (
            json!({"start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "Eastern Standard Time"}, "end": {"dateTime": "2026-12-01T16:00:00", "timeZone": "UTC"}}),
            "TimeZoneNotSupportedException",
        ),
        (
            json!({"start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "UTC"}, "end": {"dateTime": "2026-12-01T16:00:00", "timeZone": "UTC"}, "transactionID": "x"}),
            "RequestBodyRead",
        ),
        (
            json!({"start": {"dateTime": "tomorrow", "timeZone": "UTC"}, "end": {"dateTime": "2026-12-01T16:00:00", "timeZone": "UTC"}}),
            "UnableToDeserializePostBody",
        ),
    ];
    for (body, code) in cases {
        let (status, answer) = sandbox.post("/me/events", &tokens.access, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer["error"]["code"], code);
    }
    let response = sandbox
        .http
        .post(sandbox.url("/v1.0/me/events"))
        .bearer_auth(&tokens.access)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = sandbox.get("/me/nothing", &tokens.access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'nothing'."
    );
    let (status, body) = sandbox.get("/me", "not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert!(sandbox.ms.events().is_empty());
}

#[tokio::test]
async fn events_with_is_online_meeting_get_a_teams_link() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let mut body = event_body(
        "Teams call",
        "2026-12-01T15:00:00",
        "2026-12-01T15:30:00",
        None,
    );
    body["isOnlineMeeting"] = json!(true);
    body["onlineMeetingProvider"] = json!("teamsForBusiness");
    let (status, created) = sandbox.post("/me/events", &tokens.access, body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(created["onlineMeeting"]["joinUrl"]
        .as_str()
        .unwrap()
        .starts_with("https://teams.microsoft.sandbox/l/meetup-join/"));
    assert_eq!(created["isOnlineMeeting"], true);
}

#[tokio::test]
async fn get_schedule_reports_busy_times_by_email() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    sandbox
        .ms
        .add_busy(
            "ada@example.com",
            ts("2026-12-01T09:30:00Z"),
            ts("2026-12-01T10:00:00Z"),
            Some("Dentist"),
        )
        .unwrap();
    let (status, body) = sandbox
        .post(
            "/me/calendar/getSchedule",
            &tokens.access,
            json!({
                "schedules": ["ada@example.com", "nobody@example.com"],
                "startTime": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"},
                "endTime": {"dateTime": "2026-12-01T11:00:00", "timeZone": "UTC"},
                "availabilityViewInterval": 30,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ada = &body["value"][0];
    assert_eq!(ada["scheduleId"], "ada@example.com");
    assert_eq!(ada["availabilityView"], "0200");
    assert_eq!(ada["scheduleItems"][0]["status"], "busy");
    assert_eq!(ada["scheduleItems"][0]["subject"], "Dentist");
    assert_eq!(
        ada["scheduleItems"][0]["start"]["dateTime"],
        "2026-12-01T09:30:00.0000000"
    );
    let nobody = &body["value"][1];
    assert_eq!(
        nobody["error"]["responseCode"],
        "ErrorMailRecipientNotFound"
    );

    let (status, _) = sandbox
        .post(
            "/me/calendar/getSchedule",
            &tokens.access,
            json!({"schedules": [], "startTime": {"dateTime": "2026-12-01T09:00:00", "timeZone": "UTC"}, "endTime": {"dateTime": "2026-12-01T11:00:00", "timeZone": "UTC"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn online_meetings_are_created_updated_in_place_and_deleted() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    let (status, created) = sandbox
        .post(
            "/me/onlineMeetings",
            &tokens.access,
            json!({"subject": "Intro call", "startDateTime": "2026-12-01T15:00:00Z", "endDateTime": "2026-12-01T15:30:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let join = created["joinWebUrl"].as_str().unwrap().to_string();
    assert!(join.starts_with("https://teams.microsoft.sandbox/l/meetup-join/"));
    assert_eq!(created["joinUrl"], created["joinWebUrl"]);
    assert_eq!(created["startDateTime"], "2026-12-01T15:00:00.0000000Z");
    assert_eq!(created["joinMeetingIdSettings"]["isPasscodeRequired"], true);
    assert_eq!(created["participants"]["organizer"]["upn"], MEGAN);

    let path = format!("/me/onlineMeetings/{id}");
    let (status, moved) = sandbox
        .patch(
            &path,
            &tokens.access,
            json!({"startDateTime": "2026-12-02T09:00:00Z", "endDateTime": "2026-12-02T09:30:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["id"], id);
    assert_eq!(moved["joinWebUrl"], join.as_str());
    assert_eq!(moved["subject"], "Intro call");

    let filter = format!("JoinWebUrl eq '{join}'");
    let response = sandbox
        .http
        .get(sandbox.url("/v1.0/me/onlineMeetings"))
        .query(&[("$filter", filter.as_str())])
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    let (status, found) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["value"][0]["id"], id);
    assert_eq!(
        sandbox.get("/me/onlineMeetings", &tokens.access).await.0,
        StatusCode::BAD_REQUEST
    );

    let (status, _) = sandbox.delete(&path, &tokens.access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        sandbox.get(&path, &tokens.access).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        sandbox.delete(&path, &tokens.access).await.0,
        StatusCode::NOT_FOUND
    );
    let meetings = sandbox.ms.online_meetings();
    assert_eq!(meetings.len(), 1);
    assert!(meetings[0].deleted);
    assert_eq!(
        (meetings[0].updates, meetings[0].start),
        (1, ts("2026-12-02T09:00:00Z"))
    );
    let stats = sandbox.ms.stats();
    assert_eq!(
        (
            stats.online_meetings_created,
            stats.online_meetings_updated,
            stats.online_meetings_deleted
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn injected_faults_answer_in_graphs_shape() {
    let sandbox = start().await;
    let tokens = sandbox.connect(MEGAN).await;
    sandbox.ms.set_faults(convene_sandbox::Faults {
        rate_limit_rate: 1.0,
        retry_after_secs: 3,
        ..Default::default()
    });
    let response = sandbox
        .graph(reqwest::Method::GET, "/me", &tokens.access, None)
        .await;
    assert_eq!(response.headers()["retry-after"], "3");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["error"]["code"], "TooManyRequests");
    sandbox.ms.set_faults(convene_sandbox::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let (status, body) = sandbox.get("/me", &tokens.access).await;
    assert!(
        status == StatusCode::INTERNAL_SERVER_ERROR || status == StatusCode::SERVICE_UNAVAILABLE
    );
    assert!(body["error"]["code"].is_string());
    sandbox.ms.set_faults(convene_sandbox::Faults::default());
    assert_eq!(sandbox.get("/me", &tokens.access).await.0, StatusCode::OK);
    let stats = sandbox.ms.stats();
    assert_eq!((stats.injected_rate_limits, stats.injected_errors), (1, 1));
}
