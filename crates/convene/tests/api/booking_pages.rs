//! The booking and scheduling pages held to bad input and CSRF: the public booking form,
//! the invitee's manage / reschedule / cancel pages behind the emailed token, and the
//! signed-in forms for availability, meeting location, event types and meetings (with
//! the CSV export).
//!
//! A refusal is an HTML page with a 4xx status and a message a person can act on, never
//! a 500, and it writes nothing: bookings, event types, availability, the outbox and the
//! audit log read back over the API are what they were before.

use crate::security::{form_body, session_cookie, snapshot, web, Page};
use convene_test_support::{Member, TestApp, TestOrg, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const EVERY_DAY: &str = "08:00-20:00";
const NOT_FROM_CONVENE: &str = "did not come from Convene";
const LINK_NOT_VALID: &str = "This booking link is not valid";
const NO_BOOKING_PAGE: &str = "There is no booking page at this address";
const NOT_AVAILABLE: &str = "That time is not available for this event type";
const IN_THE_PAST: &str = "That time is in the past";
const TAKEN: &str = "That time was just taken. Please pick another time.";

/// Form fields by name.
type Fields = Vec<(&'static str, String)>;

/// Changes to a form: `Some` sets a field (adding it when absent), `None` leaves it out.
type Changes<'a> = Vec<(&'static str, Option<&'a str>)>;

fn edit(base: &Fields, changes: &Changes<'_>) -> Fields {
    let mut out = base.clone();
    for (name, value) in changes {
        out.retain(|(n, _)| n != name);
        if let Some(v) = value {
            out.push((*name, v.to_string()));
        }
    }
    out
}

async fn get(t: &TestApp, path: &str, cookie: Option<&str>) -> Page {
    web(t, Method::GET, path, cookie, None).await
}

async fn post(t: &TestApp, path: &str, cookie: Option<&str>, fields: &Fields) -> Page {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    web(t, Method::POST, path, cookie, form_body(&pairs)).await
}

/// What a person reads on a page: its alerts, or its heading onwards when it has none.
fn gist(page: &Page) -> String {
    let alerts: Vec<&str> = page
        .text
        .split("role=\"alert\"")
        .skip(1)
        .filter_map(|rest| {
            let text = &rest[rest.find('>')? + 1..];
            Some(&text[..text.find('<').unwrap_or(text.len())])
        })
        .collect();
    if !alerts.is_empty() {
        return format!("{} alert: {}", page.status, alerts.join(" | "));
    }
    let from = page.text.find("<h1").unwrap_or(0);
    let text: String = page.text[from..].chars().take(1500).collect();
    format!("{} ({}): {text}", page.status, page.content_type)
}

/// Why the page is not one with this status, in HTML, saying `message`, if it is not.
fn mismatch(what: &str, page: &Page, status: StatusCode, message: &str) -> Option<String> {
    if page.status != status {
        Some(format!("{what}: expected {status}, got {}", gist(page)))
    } else if !page.is_html() {
        Some(format!("{what}: not an HTML page: {}", gist(page)))
    } else if !page.text.contains(message) {
        Some(format!(
            "{what}: the page does not say “{message}”: {}",
            gist(page)
        ))
    } else {
        None
    }
}

#[track_caller]
fn assert_page(what: &str, page: &Page, status: StatusCode, message: &str) {
    if let Some(why) = mismatch(what, page, status, message) {
        panic!("{why}");
    }
}

#[track_caller]
fn assert_redirect(what: &str, page: &Page, to: &str) {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{what}: {}", gist(page));
    let location = page.location.as_deref().unwrap_or("");
    assert!(
        location.starts_with(to),
        "{what}: redirected to {location}, not {to}"
    );
}

async fn put_json(t: &TestApp, key: &str, path: &str, body: Value) {
    let r = t
        .client
        .put(t.api(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "PUT {path}: {}",
        r.text().await.unwrap()
    );
}

/// A time `minutes` after `start` (RFC 3339).
fn shift(start: &str, minutes: i64) -> String {
    start
        .parse::<jiff::Timestamp>()
        .unwrap()
        .checked_add(jiff::SignedDuration::from_mins(minutes))
        .unwrap()
        .to_string()
}

fn from_now(t: &TestApp, minutes: i64) -> String {
    shift(&t.app.now().to_string(), minutes)
}

/// A browser without a session: its CSRF cookie (as a `Cookie` header) and the token
/// its forms carry.
struct Anon {
    cookie: String,
    csrf: String,
}

impl Anon {
    async fn from_page(t: &TestApp, path: &str) -> Self {
        let (cookie, csrf) = t.anon_csrf(&format!("{}{path}", t.url)).await;
        Self {
            cookie: format!("convene_csrf={cookie}"),
            csrf,
        }
    }
}

/// Ways an anonymous form post gets CSRF wrong: a name, the `Cookie` header, `_csrf`.
fn bad_anon_csrf(token: &str) -> Vec<(&'static str, Option<String>, Option<String>)> {
    let other = "B".repeat(43);
    let cookie = format!("convene_csrf={token}");
    vec![
        ("without the cookie", None, Some(token.to_string())),
        ("without the field", Some(cookie.clone()), None),
        (
            "with an empty field",
            Some(cookie.clone()),
            Some(String::new()),
        ),
        (
            "with a field that does not match",
            Some(cookie),
            Some(other.clone()),
        ),
        (
            "with a cookie that does not match",
            Some(format!("convene_csrf={other}")),
            Some(token.to_string()),
        ),
        (
            "with both empty",
            Some("convene_csrf=".into()),
            Some(String::new()),
        ),
    ]
}

/// Working hours every day, so tests do not depend on the weekday they run on.
async fn open_every_day(t: &TestApp, org: &TestOrg, user: &str) {
    let weekly: serde_json::Map<String, Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!([EVERY_DAY])))
        .collect();
    put_json(
        t,
        &org.key,
        &format!("/users/{user}/availability"),
        json!({ "weekly": weekly }),
    )
    .await;
}

/// A personal event type of `host`, 30 minutes, with one required question (`q1`).
async fn event_type(t: &TestApp, org: &TestOrg, host: &str, title: &str) -> Value {
    let (status, et) = t
        .post(
            &org.key,
            "/event-types",
            json!({"kind": "personal", "title": title, "duration_min": 30,
                   "questions": [{"label": "Topic", "kind": "short_text", "required": true}],
                   "hosts": [{"user_id": host}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{et}");
    et
}

async fn free_starts(t: &TestApp, et: &Value) -> Vec<String> {
    let path = format!("/event-types/{}/slots", et["id"].as_str().unwrap());
    let r = t.client.get(t.api(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap().to_string())
        .collect()
}

/// Books over the public API; returns the booking's id and manage token.
async fn book(t: &TestApp, et: &Value, start: &str, name: &str, email: &str) -> (String, String) {
    let r = t
        .client
        .post(t.api("/bookings"))
        .json(
            &json!({"event_type_id": et["id"], "start": start, "name": name,
                      "email": email, "time_zone": "America/New_York",
                      "answers": {"q1": "Roadmap"}}),
        )
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["booking"]["id"].as_str().unwrap().to_string(),
        body["manage_token"].as_str().unwrap().to_string(),
    )
}

/// An org whose host (a meetings user with a manual meeting link, open every day) has
/// a personal event type "Chat" at `/book/acme/chat`.
struct Fixture {
    t: TestApp,
    org: TestOrg,
    host: Member,
    et: Value,
    /// Free slot starts of "Chat", soonest first.
    free: Vec<String>,
}

impl Fixture {
    async fn new() -> Self {
        let t = TestApp::spawn().await;
        let org = t.create_org("Acme").await;
        let host = t.member(&org, "host@acme.example", "meetings").await;
        open_every_day(&t, &org, &host.id).await;
        put_json(
            &t,
            &org.key,
            &format!("/users/{}/meeting-location", host.id),
            json!({"kind": "manual", "url": "https://meet.example.com/host"}),
        )
        .await;
        let et = event_type(&t, &org, &host.id, "Chat").await;
        let free = free_starts(&t, &et).await;
        assert!(free.len() > 10, "few free slots: {free:?}");
        Self {
            t,
            org,
            host,
            et,
            free,
        }
    }

    fn form_path(&self) -> String {
        format!("/book/{}/chat/form", self.org.slug)
    }

    /// A browser that opened the booking form.
    async fn anon(&self) -> Anon {
        Anon::from_page(
            &self.t,
            &format!("{}?start={}&tz=UTC", self.form_path(), self.free[0]),
        )
        .await
    }

    /// The booking form of "Chat" at its first free time, filled in.
    fn booking_form(&self, csrf: &str) -> Fields {
        vec![
            ("_csrf", csrf.to_string()),
            ("start", self.free[0].clone()),
            ("tz", "America/New_York".into()),
            ("name", "Ivy Invitee".into()),
            ("email", "ivy@client.example".into()),
            ("answer_q1", "Roadmap".into()),
        ]
    }

    /// The event type form for a personal event type of the host (without `_csrf`).
    fn event_type_form(&self, title: &str, slug: &str) -> Fields {
        vec![
            ("kind", "personal".into()),
            ("title", title.into()),
            ("slug", slug.into()),
            ("duration", "30".into()),
            ("location", "host_default".into()),
            ("questions", "Topic | short_text | required | q1".into()),
            ("host", self.host.id.clone()),
            ("primary", self.host.id.clone()),
            ("active", "1".into()),
        ]
    }

    async fn book(&self, start: &str, email: &str) -> (String, String) {
        book(&self.t, &self.et, start, "Ivy Invitee", email).await
    }

    async fn bookings(&self) -> Vec<Value> {
        let (status, body) = self.t.get(&self.org.key, "/bookings?limit=500").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["bookings"].as_array().unwrap().clone()
    }

    async fn booking(&self, id: &str) -> Value {
        let (status, body) = self.t.get(&self.org.key, &format!("/bookings/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn emails_to(&self, to: &str) -> Vec<Value> {
        self.t.run_jobs().await;
        let (status, body) = self.t.get(&self.org.key, &format!("/outbox?to={to}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().unwrap().clone()
    }

    /// Everything a refused form could have written, read back: the API's view of the
    /// org (bookings, event types, the host's availability and user record, outbox,
    /// jobs, audit log) and the host's own availability page (which alone shows their
    /// manual meeting details).
    async fn snapshot(&self) -> Value {
        let h = &self.host.id;
        let extra = [
            "/bookings?limit=500".to_string(),
            "/event-types".to_string(),
            format!("/users/{h}/availability"),
            format!("/users/{h}"),
        ];
        let (status, _, page) = self
            .t
            .page(&self.host.session, "/settings/availability")
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        json!({"api": snapshot(&self.t, &self.org.key, &extra).await, "page": page})
    }
}

// ---------------------------------------------------------------------------------
// The public booking form.

#[tokio::test]
async fn the_public_booking_form_refuses_bad_input_and_books_a_slot_once() {
    let f = Fixture::new().await;
    let t = &f.t;
    let form = f.form_path();
    let start = f.free[0].clone();
    let anon = f.anon().await;
    let cookie = Some(anon.cookie.as_str());
    let base = f.booking_form(&anon.csrf);
    let off_grid = shift(&start, 7);
    let past = from_now(t, -180);
    let far = from_now(t, 400 * 24 * 60);
    let long_name = "n".repeat(101);
    let huge = "x".repeat(10_000);
    let no_event = "/book/acme/nope/form".to_string();
    let no_org = "/book/nope/chat/form".to_string();
    let long_event = format!("/book/acme/{}/form", "c".repeat(300));
    let bad = StatusCode::BAD_REQUEST;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let missing = StatusCode::NOT_FOUND;
    let cases: Vec<(&str, &str, Changes<'_>, StatusCode, &str)> = vec![
        (
            "missing name",
            &form,
            vec![("name", None)],
            invalid,
            "Name: the name must not be empty",
        ),
        (
            "blank name",
            &form,
            vec![("name", Some("  "))],
            invalid,
            "Name: the name must not be empty",
        ),
        (
            "name too long",
            &form,
            vec![("name", Some(&long_name))],
            invalid,
            "Name: the name must be at most 100 characters",
        ),
        (
            "name with a control character",
            &form,
            vec![("name", Some("Ivy\u{7}"))],
            invalid,
            "Name: the name must not contain control characters",
        ),
        (
            "missing email",
            &form,
            vec![("email", None)],
            invalid,
            "Email: the email address is empty",
        ),
        (
            "malformed email",
            &form,
            vec![("email", Some("not-an-email"))],
            invalid,
            "Email: the email address must contain exactly one '@'",
        ),
        (
            "email with a space",
            &form,
            vec![("email", Some("ivy @client.example"))],
            invalid,
            "Email: ",
        ),
        (
            "unknown time zone",
            &form,
            vec![("tz", Some("Mars/Base"))],
            bad,
            "unknown time zone 'Mars/Base'",
        ),
        (
            "missing start",
            &form,
            vec![("start", None)],
            bad,
            "is not a meeting time",
        ),
        (
            "start not a time",
            &form,
            vec![("start", Some("tomorrow at 3"))],
            bad,
            "'tomorrow at 3' is not a meeting time",
        ),
        (
            "start in the past",
            &form,
            vec![("start", Some(&past))],
            invalid,
            IN_THE_PAST,
        ),
        (
            "start at the dawn of time",
            &form,
            vec![("start", Some("0001-01-01T00:00:00Z"))],
            invalid,
            IN_THE_PAST,
        ),
        (
            "start off the slot grid",
            &form,
            vec![("start", Some(&off_grid))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            "start beyond the booking window",
            &form,
            vec![("start", Some(&far))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            "start at the end of time",
            &form,
            vec![("start", Some("9999-12-30T21:00:00Z"))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            "missing required answer",
            &form,
            vec![("answer_q1", None)],
            invalid,
            "'Topic' is required",
        ),
        (
            "blank required answer",
            &form,
            vec![("answer_q1", Some("   "))],
            invalid,
            "'Topic' is required",
        ),
        (
            "oversized answer",
            &form,
            vec![("answer_q1", Some(&huge))],
            invalid,
            "The answer to 'Topic' is longer than 300 characters",
        ),
        (
            "answer with a control character",
            &form,
            vec![("answer_q1", Some("a\u{0}b"))],
            invalid,
            "The answer to 'Topic' must not contain control characters",
        ),
        (
            "answer to no question",
            &form,
            vec![("answer_evil", Some("x"))],
            invalid,
            "There is no question 'evil'",
        ),
        (
            "malformed idempotency key",
            &form,
            vec![("idempotency_key", Some("has spaces"))],
            invalid,
            "The Idempotency-Key must be",
        ),
        (
            "unknown event type",
            &no_event,
            vec![],
            missing,
            NO_BOOKING_PAGE,
        ),
        ("unknown org", &no_org, vec![], missing, NO_BOOKING_PAGE),
        (
            "overlong event type slug",
            &long_event,
            vec![],
            missing,
            NO_BOOKING_PAGE,
        ),
    ];
    for (what, path, changes, status, message) in &cases {
        let page = post(t, path, cookie, &edit(&base, changes)).await;
        assert_page(what, &page, *status, message);
    }
    // What was typed comes back escaped.
    let script = "<script>alert(1)</script>";
    let page = post(
        t,
        &form,
        cookie,
        &edit(
            &base,
            &vec![("name", Some(script)), ("email", Some("nope"))],
        ),
    )
    .await;
    assert_page("markup in the name", &page, invalid, "Email: ");
    assert!(!page.text.contains(script), "the name was not escaped");
    assert!(
        f.bookings().await.is_empty(),
        "a refused booking was written"
    );
    assert!(f.emails_to("ivy@client.example").await.is_empty());

    // The form as a browser sends it books the slot and shows the booking.
    let good = edit(&base, &vec![("idempotency_key", Some("first-click"))]);
    let page = post(t, &form, cookie, &good).await;
    assert_redirect("booking", &page, "/booking/");
    let location = page.location.clone().unwrap();
    assert!(location.ends_with("?booked=1"), "{location}");
    let shown = get(t, &location, None).await;
    assert_page("the booked page", &shown, StatusCode::OK, "booked-banner");
    assert!(shown.text.contains("ivy@client.example"));
    // Submitting the same form again (a double click) is the same booking.
    let again = post(t, &form, cookie, &good).await;
    assert_eq!(again.location, page.location, "{}", gist(&again));
    // Another invitee at the same time is told it was taken, on the picker.
    let other = edit(
        &base,
        &vec![
            ("email", Some("ann@client.example")),
            ("idempotency_key", Some("second-invitee")),
        ],
    );
    let page = post(t, &form, cookie, &other).await;
    assert_page("the same slot again", &page, StatusCode::CONFLICT, TAKEN);
    assert!(page.text.contains("id=\"picker\""), "{}", gist(&page));
    let bookings = f.bookings().await;
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    assert_eq!(bookings[0]["start"], start.as_str(), "{bookings:?}");
    assert_eq!(f.emails_to("ivy@client.example").await.len(), 1);
    assert!(f.emails_to("ann@client.example").await.is_empty());
}

#[tokio::test]
async fn public_booking_forms_require_the_csrf_cookie() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (id, token) = f.book(&f.free[0], "ivy@client.example").await;
    t.run_jobs().await;
    let anon = f.anon().await;
    let forms: Vec<(String, Fields)> = vec![
        (
            f.form_path(),
            vec![
                ("start", f.free[1].clone()),
                ("tz", "UTC".into()),
                ("name", "Eve".into()),
                ("email", "eve@evil.example".into()),
                ("answer_q1", "x".into()),
            ],
        ),
        (
            format!("/booking/{token}/reschedule"),
            vec![("start", f.free[2].clone()), ("tz", "UTC".into())],
        ),
        (
            format!("/booking/{token}/cancel"),
            vec![("reason", "evil".into())],
        ),
    ];
    let before = f.snapshot().await;
    for (path, fields) in &forms {
        for (how, cookie, csrf) in bad_anon_csrf(&anon.csrf) {
            let mut all = fields.clone();
            if let Some(c) = csrf {
                all.push(("_csrf", c));
            }
            let page = post(t, path, cookie.as_deref(), &all).await;
            let what = format!("POST {path} {how}");
            assert_page(&what, &page, StatusCode::FORBIDDEN, NOT_FROM_CONVENE);
        }
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused form changed something"
    );
    let b = f.booking(&id).await;
    assert_eq!(
        (b["status"].as_str(), b["start"].as_str()),
        (Some("confirmed"), Some(f.free[0].as_str()))
    );

    // With the cookie and its token, the same forms go through.
    let expect = [
        "/booking/",
        &format!("/booking/{token}?rescheduled=1"),
        &format!("/booking/{token}?cancelled=1"),
    ];
    for ((path, fields), to) in forms.iter().zip(expect) {
        let mut all = fields.clone();
        all.push(("_csrf", anon.csrf.clone()));
        let page = post(t, path, Some(&anon.cookie), &all).await;
        assert_redirect(&format!("POST {path} with the token"), &page, to);
    }
    assert_eq!(f.bookings().await.len(), 2);
    assert_eq!(f.booking(&id).await["status"], "cancelled");
}

// ---------------------------------------------------------------------------------
// The manage pages behind the emailed link.

#[tokio::test]
async fn forged_manage_links_get_the_link_not_valid_page() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (id, token) = f.book(&f.free[0], "ivy@client.example").await;
    t.run_jobs().await;
    let anon = f.anon().await;
    let mut changed = token.clone();
    let last = if changed.pop() == Some('A') { 'B' } else { 'A' };
    changed.push(last);
    let tokens: Vec<(&str, String)> = vec![
        ("a made-up token", "forged-token".into()),
        ("an overlong token", "x".repeat(300)),
        ("a token's shape", "A".repeat(43)),
        ("the real token with one character changed", changed),
        ("the real token with more after it", format!("{token}x")),
        ("the booking's id", id.clone()),
        ("an encoded slash", "a%2Fb".into()),
        ("a NUL byte", "%00".into()),
    ];
    let before = f.snapshot().await;
    for (what, forged) in &tokens {
        for path in [
            format!("/booking/{forged}"),
            format!("/booking/{forged}/reschedule"),
            format!("/booking/{forged}/cancel"),
        ] {
            let page = get(t, &path, Some(&anon.cookie)).await;
            assert_page(
                &format!("GET {path} ({what})"),
                &page,
                StatusCode::NOT_FOUND,
                LINK_NOT_VALID,
            );
        }
        let posts: [(String, Fields); 2] = [
            (
                format!("/booking/{forged}/cancel"),
                vec![("_csrf", anon.csrf.clone()), ("reason", "x".into())],
            ),
            (
                format!("/booking/{forged}/reschedule"),
                vec![
                    ("_csrf", anon.csrf.clone()),
                    ("start", f.free[1].clone()),
                    ("tz", "UTC".into()),
                ],
            ),
        ];
        for (path, fields) in &posts {
            let page = post(t, path, Some(&anon.cookie), fields).await;
            assert_page(
                &format!("POST {path} ({what})"),
                &page,
                StatusCode::NOT_FOUND,
                LINK_NOT_VALID,
            );
        }
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a forged link changed something"
    );
    // The real link still works.
    let page = get(t, &format!("/booking/{token}"), None).await;
    assert_page(
        "the real link",
        &page,
        StatusCode::OK,
        "data-status=\"confirmed\"",
    );
}

#[tokio::test]
async fn cancelling_twice_is_idempotent_and_a_cancelled_booking_cannot_be_moved() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (id, token) = f.book(&f.free[0], "ivy@client.example").await;
    let anon = f.anon().await;
    let cancel = format!("/booking/{token}/cancel");
    for reason in ["Something came up", "Another reason"] {
        let fields = vec![("_csrf", anon.csrf.clone()), ("reason", reason.to_string())];
        let page = post(t, &cancel, Some(&anon.cookie), &fields).await;
        assert_redirect(reason, &page, &format!("/booking/{token}?cancelled=1"));
        let mail = f.emails_to("ivy@client.example").await;
        let subjects: Vec<&str> = mail
            .iter()
            .map(|m| m["subject"].as_str().unwrap())
            .collect();
        assert_eq!(
            subjects.len(),
            2,
            "one confirmation, one cancellation: {subjects:?}"
        );
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.starts_with("Cancelled"))
                .count(),
            1,
            "{subjects:?}"
        );
    }
    let b = f.booking(&id).await;
    assert_eq!(b["status"], "cancelled", "{b}");
    assert_eq!(
        b["cancel_reason"], "Something came up",
        "the second cancel changed it: {b}"
    );
    // The pages say so; the cancel page sends back to the booking.
    let page = get(t, &format!("/booking/{token}"), None).await;
    assert_page(
        "the cancelled booking",
        &page,
        StatusCode::OK,
        "data-status=\"cancelled\"",
    );
    let page = get(t, &cancel, None).await;
    assert_redirect(
        "the cancel page of a cancelled booking",
        &page,
        &format!("/booking/{token}"),
    );

    // It cannot be moved: the picker and the confirmation are a 409, and so is the post.
    let before = f.snapshot().await;
    let resched = format!("/booking/{token}/reschedule");
    for path in [resched.clone(), format!("{resched}?start={}", f.free[1])] {
        let page = get(t, &path, Some(&anon.cookie)).await;
        assert_page(
            &path,
            &page,
            StatusCode::CONFLICT,
            "This meeting was cancelled, so it cannot be changed.",
        );
    }
    let fields = vec![
        ("_csrf", anon.csrf.clone()),
        ("start", f.free[1].clone()),
        ("tz", "UTC".into()),
    ];
    let page = post(t, &resched, Some(&anon.cookie), &fields).await;
    assert_page(
        "rescheduling a cancelled booking",
        &page,
        StatusCode::CONFLICT,
        "this meeting was cancelled and cannot be rescheduled",
    );
    assert_eq!(f.snapshot().await, before, "a cancelled booking changed");
}

#[tokio::test]
async fn bad_reschedule_times_are_refused_and_move_nothing() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (id, token) = f.book(&f.free[0], "ivy@client.example").await;
    f.book(&f.free[1], "ann@client.example").await;
    t.run_jobs().await;
    let anon = f.anon().await;
    let path = format!("/booking/{token}/reschedule");
    let base: Fields = vec![
        ("_csrf", anon.csrf.clone()),
        ("start", f.free[2].clone()),
        ("tz", "America/New_York".into()),
    ];
    let off_grid = shift(&f.free[2], 7);
    let past = from_now(t, -180);
    let far = from_now(t, 400 * 24 * 60);
    let bad = StatusCode::BAD_REQUEST;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let cases: Vec<(&str, Changes<'_>, StatusCode, &str)> = vec![
        (
            "missing start",
            vec![("start", None)],
            bad,
            "is not a meeting time",
        ),
        (
            "empty start",
            vec![("start", Some(""))],
            bad,
            "is not a meeting time",
        ),
        (
            "start not a time",
            vec![("start", Some("nope"))],
            bad,
            "'nope' is not a meeting time",
        ),
        (
            "start in the past",
            vec![("start", Some(&past))],
            invalid,
            IN_THE_PAST,
        ),
        (
            "start off the slot grid",
            vec![("start", Some(&off_grid))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            "start beyond the booking window",
            vec![("start", Some(&far))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            "start at the end of time",
            vec![("start", Some("9999-12-30T21:00:00Z"))],
            bad,
            "that month is out of range",
        ),
        (
            "a time another invitee holds",
            vec![("start", Some(&f.free[1]))],
            StatusCode::CONFLICT,
            TAKEN,
        ),
        (
            "a refused time in an unknown time zone",
            vec![("start", Some(&off_grid)), ("tz", Some("Mars/Base"))],
            bad,
            "unknown time zone 'Mars/Base'",
        ),
    ];
    let before = f.snapshot().await;
    for (what, changes, status, message) in &cases {
        let page = post(t, &path, Some(&anon.cookie), &edit(&base, changes)).await;
        assert_page(what, &page, *status, message);
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused reschedule changed something"
    );
    assert_eq!(f.booking(&id).await["start"], f.free[0].as_str());
    // The same form with a free time moves it.
    let page = post(t, &path, Some(&anon.cookie), &base).await;
    assert_redirect(
        "a free time",
        &page,
        &format!("/booking/{token}?rescheduled=1"),
    );
    assert_eq!(f.booking(&id).await["start"], f.free[2].as_str());
}

#[tokio::test]
async fn junk_query_parameters_get_a_400_page() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (_, token) = f.book(&f.free[0], "ivy@client.example").await;
    let page = "/book/acme/chat".to_string();
    let form = f.form_path();
    let resched = format!("/booking/{token}/reschedule");
    let free = &f.free[1];
    let cases: Vec<(String, &str)> = vec![
        (format!("{page}?month=2026-13"), "'2026-13' is not a month"),
        (
            format!("{page}?month=december"),
            "'december' is not a month",
        ),
        (format!("{page}?date=nope"), "'nope' is not a date"),
        (
            format!("{page}?date=2026-02-30"),
            "'2026-02-30' is not a date",
        ),
        (
            format!("{page}?tz=Mars/Base"),
            "unknown time zone 'Mars/Base'",
        ),
        (format!("{page}?tz=Europe/Paris%00"), "unknown time zone"),
        (format!("{form}?start=nope"), "'nope' is not a meeting time"),
        (
            format!("{form}?start={free}&tz=Mars/Base"),
            "unknown time zone 'Mars/Base'",
        ),
        (
            format!("{resched}?month=2026-13"),
            "'2026-13' is not a month",
        ),
        (format!("{resched}?date=nope"), "'nope' is not a date"),
        (
            format!("{resched}?tz=Mars/Base"),
            "unknown time zone 'Mars/Base'",
        ),
        (
            format!("{resched}?start=nope"),
            "'nope' is not a meeting time",
        ),
    ];
    for (path, message) in &cases {
        let answer = get(t, path, None).await;
        assert_page(
            &format!("GET {path}"),
            &answer,
            StatusCode::BAD_REQUEST,
            message,
        );
    }
    assert_eq!(f.bookings().await.len(), 1);
}

/// What axum's own extractors refuse before a handler runs — a query parameter given
/// twice, a path segment that is not UTF-8 — is a 400 page a person can read too, as a
/// form body that cannot be read is (`HtmlForm`).
#[tokio::test]
async fn addresses_the_router_cannot_read_get_a_400_page() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (booking, token) = f.book(&f.free[0], "ivy@client.example").await;
    let cookie = session_cookie(&f.host.session);
    let cases: Vec<(String, &str)> = vec![
        (
            "/book/acme/chat?month=2026-01&month=2026-02".into(),
            "month",
        ),
        (
            format!("/booking/{token}/reschedule?tz=UTC&tz=Europe/Paris"),
            "tz",
        ),
        (
            format!("/meetings/{booking}/reschedule?date=2030-01-01&date=2030-01-02"),
            "date",
        ),
        (
            "/meetings?status=confirmed&status=cancelled".into(),
            "status",
        ),
        ("/booking/%FF".into(), "token"),
        ("/booking/%FF/cancel".into(), "token"),
        ("/book/%FF/chat".into(), "org"),
        ("/book/acme/%FF/form".into(), "slug"),
        ("/meetings/%FF/reschedule".into(), "id"),
    ];
    let mut wrong = Vec::new();
    for (path, names) in &cases {
        let page = get(t, path, Some(&cookie)).await;
        wrong.extend(mismatch(
            &format!("GET {path}"),
            &page,
            StatusCode::BAD_REQUEST,
            names,
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// What, where, signed in (or anonymous), the form and its changes (or a GET), and
/// the status and message expected.
type NulCase<'a> = (
    &'a str,
    String,
    bool,
    Option<(&'a Fields, Changes<'a>)>,
    StatusCode,
    &'a str,
);

/// Names, emails, answers and reasons refuse control characters; every other text a
/// form takes must too. A NUL byte cannot even be stored in (or looked up from)
/// PostgreSQL, so one that gets through is a 500 there — now or at the next booking.
#[tokio::test]
async fn a_nul_byte_anywhere_is_refused_and_never_stored() {
    let f = Fixture::new().await;
    let t = &f.t;
    let et = f.et["id"].as_str().unwrap().to_string();
    let anon = f.anon().await;
    let csrf = t.session_csrf(&f.host.session).await;
    let session = session_cookie(&f.host.session);
    let booking = f.booking_form(&anon.csrf);
    let event_type = edit(
        &f.event_type_form("New one", "new-one"),
        &vec![("_csrf", Some(&csrf))],
    );
    let location: Fields = vec![
        ("_csrf", csrf.clone()),
        ("location", "manual".into()),
        ("manual_url", "https://meet.example.com/host".into()),
    ];
    let nul = Some("a\u{0}b");
    let missing = StatusCode::NOT_FOUND;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let cases: Vec<NulCase<'_>> = vec![
        (
            "the booking page of an org slug with NUL",
            "/book/acme%00/chat".into(),
            false,
            None,
            missing,
            NO_BOOKING_PAGE,
        ),
        (
            "the booking page of an event type slug with NUL",
            "/book/acme/chat%00".into(),
            false,
            None,
            missing,
            NO_BOOKING_PAGE,
        ),
        (
            "booking at an org slug with NUL",
            "/book/acme%00/chat/form".into(),
            false,
            Some((&booking, vec![])),
            missing,
            NO_BOOKING_PAGE,
        ),
        (
            "booking at an event type slug with NUL",
            "/book/acme/chat%00/form".into(),
            false,
            Some((&booking, vec![])),
            missing,
            NO_BOOKING_PAGE,
        ),
        (
            "a new event type's description",
            "/event-types/new".into(),
            true,
            Some((&event_type, vec![("description", nul)])),
            invalid,
            "control characters",
        ),
        (
            "a saved event type's description",
            format!("/event-types/{et}"),
            true,
            Some((
                &event_type,
                vec![("slug", Some("chat")), ("description", nul)],
            )),
            invalid,
            "control characters",
        ),
        (
            "a question's label",
            "/event-types/new".into(),
            true,
            Some((
                &event_type,
                vec![
                    ("slug", Some("label")),
                    ("questions", Some("To\u{0}pic | short_text")),
                ],
            )),
            invalid,
            "Questions, line 1: ",
        ),
        (
            "an event type's dial-in details",
            "/event-types/new".into(),
            true,
            Some((
                &event_type,
                vec![
                    ("slug", Some("dial-in")),
                    ("location", Some("manual")),
                    ("loc_dial_in", nul),
                ],
            )),
            invalid,
            "Location: ",
        ),
        (
            "the host's dial-in details",
            "/settings/availability/location".into(),
            true,
            Some((&location, vec![("manual_dial_in", nul)])),
            invalid,
            "Meeting details: ",
        ),
        (
            "the host's address",
            "/settings/availability/location".into(),
            true,
            Some((&location, vec![("manual_address", nul)])),
            invalid,
            "Meeting details: ",
        ),
    ];
    let before = f.snapshot().await;
    let mut wrong = Vec::new();
    for (what, path, signed_in, form, status, message) in &cases {
        let cookie = if *signed_in { &session } else { &anon.cookie };
        let page = match form {
            Some((base, changes)) => post(t, path, Some(cookie), &edit(base, changes)).await,
            None => get(t, path, Some(cookie)).await,
        };
        wrong.extend(mismatch(what, &page, *status, message));
    }
    if f.snapshot().await != before {
        wrong.push("a refused form wrote something".into());
    }
    // Whatever was stored, the host can still be booked.
    let page = post(t, &f.form_path(), Some(&anon.cookie), &booking).await;
    if page.status != StatusCode::SEE_OTHER {
        wrong.push(format!("booking the host afterwards: {}", gist(&page)));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------
// Signed-in forms.

/// The host's forms, each filled in so that it would go through with the right token.
fn host_forms(f: &Fixture, booking: &str, et: &str) -> Vec<(String, Fields)> {
    let hours = edit(&hours_form(), &vec![("overrides", Some("2030-01-01 off"))]);
    vec![
        (
            format!("/meetings/{booking}/reschedule"),
            vec![("start", f.free[3].clone()), ("tz", "UTC".into())],
        ),
        (
            format!("/meetings/{booking}/cancel"),
            vec![("reason", "evil".into())],
        ),
        ("/settings/availability".into(), hours),
        (
            "/settings/availability/location".into(),
            vec![
                ("location", "in_person".into()),
                ("manual_address", "2 Side St".into()),
            ],
        ),
        ("/event-types/new".into(), f.event_type_form("Evil", "evil")),
        (
            format!("/event-types/{et}"),
            f.event_type_form("Renamed", "chat"),
        ),
    ]
}

/// The availability form: open every day, no date overrides.
fn hours_form() -> Fields {
    let days = [
        "hours_mon",
        "hours_tue",
        "hours_wed",
        "hours_thu",
        "hours_fri",
        "hours_sat",
        "hours_sun",
    ];
    let mut fields: Fields = days.map(|d| (d, EVERY_DAY.to_string())).to_vec();
    fields.push(("overrides", String::new()));
    fields
}

#[tokio::test]
async fn signed_in_scheduling_forms_require_the_sessions_csrf_token() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (booking, _) = f.book(&f.free[0], "ivy@client.example").await;
    t.run_jobs().await;
    let admin = t.login(&f.org.admin_email, PASSWORD).await.unwrap();
    let someone_elses = t.session_csrf(&admin).await;
    let real = t.session_csrf(&f.host.session).await;
    let made_up = "A".repeat(43);
    let forms = host_forms(&f, &booking, f.et["id"].as_str().unwrap());
    let cookie = session_cookie(&f.host.session);
    let before = f.snapshot().await;
    for (path, fields) in &forms {
        for (how, csrf) in [
            ("without _csrf", None),
            ("with an empty _csrf", Some("")),
            ("with a made-up _csrf", Some(made_up.as_str())),
            ("with another user's _csrf", Some(someone_elses.as_str())),
        ] {
            let mut all = fields.clone();
            if let Some(c) = csrf {
                all.push(("_csrf", c.to_string()));
            }
            let page = post(t, path, Some(&cookie), &all).await;
            assert_page(
                &format!("POST {path} {how}"),
                &page,
                StatusCode::FORBIDDEN,
                NOT_FROM_CONVENE,
            );
        }
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused form changed something"
    );

    // With the session's own token every one of them goes through (so the refusals
    // above were about the token, not the fields).
    for (path, fields) in &forms {
        let mut all = fields.clone();
        all.push(("_csrf", real.clone()));
        let page = post(t, path, Some(&cookie), &all).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "POST {path} with the token: {}",
            gist(&page)
        );
    }
    let b = f.booking(&booking).await;
    assert_eq!(
        (b["status"].as_str(), b["start"].as_str()),
        (Some("cancelled"), Some(f.free[3].as_str()))
    );
    let (_, types) = t.get(&f.org.key, "/event-types").await;
    let mut titles: Vec<&str> = types
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Evil", "Renamed"]);
}

#[tokio::test]
async fn the_availability_forms_refuse_bad_hours_and_locations() {
    let f = Fixture::new().await;
    let t = &f.t;
    let csrf = t.session_csrf(&f.host.session).await;
    let cookie = session_cookie(&f.host.session);
    let hours = edit(&hours_form(), &vec![("_csrf", Some(&csrf))]);
    let many_overrides: String = (0..401)
        .map(|i| {
            format!(
                "{} off\n",
                shift("2030-01-01T00:00:00Z", i * 24 * 60)
                    .get(..10)
                    .unwrap()
            )
        })
        .collect();
    let hour_cases: Vec<(&str, Changes<'_>, &str)> = vec![
        (
            "an end before the start",
            vec![("hours_mon", Some("17:00-09:00"))],
            "Monday: 17:00-09:00: the end must be after the start",
        ),
        (
            "overlapping ranges",
            vec![("hours_tue", Some("09:00-12:00, 11:00-13:00"))],
            "overlapping ranges on",
        ),
        (
            "not a range",
            vec![("hours_wed", Some("nine to five"))],
            "Wednesday: 'nine to five' is not a time range",
        ),
        (
            "a time past midnight",
            vec![("hours_thu", Some("23:00-25:00"))],
            "Thursday: ",
        ),
        (
            "an override on no date",
            vec![("overrides", Some("2026-13-45 off"))],
            "Date overrides, line 1: '2026-13-45' is not a date",
        ),
        (
            "an override without hours",
            vec![("overrides", Some("2030-12-24"))],
            "Date overrides, line 1: after the date write 'off'",
        ),
        (
            "an override given twice",
            vec![("overrides", Some("2030-12-24 off\n2030-12-24 09:00-10:00"))],
            "Date overrides, line 2: 2030-12-24 is given twice",
        ),
        (
            "an override with bad hours",
            vec![("overrides", Some("2030-12-24 17:00-09:00"))],
            "Date overrides, line 1: ",
        ),
        (
            "too many overrides",
            vec![("overrides", Some(&many_overrides))],
            "Date overrides: at most 400 lines",
        ),
    ];
    let location: Fields = vec![
        ("_csrf", csrf.clone()),
        ("location", "manual".into()),
        ("manual_url", "https://meet.example.com/other".into()),
    ];
    let long_address = "a".repeat(501);
    let location_cases: Vec<(&str, Changes<'_>, &str)> = vec![
        (
            "a plain http link",
            vec![("manual_url", Some("http://x"))],
            "Meeting details: the meeting link must be a valid https:// URL",
        ),
        (
            "a javascript: link",
            vec![("manual_url", Some("javascript:alert(1)"))],
            "Meeting details: the meeting link must be a valid https:// URL",
        ),
        (
            "manual without details",
            vec![("manual_url", None)],
            "Enter at least one of: meeting link, dial-in details, phone number, address",
        ),
        (
            "not a phone number",
            vec![("manual_phone", Some("call me"))],
            "Meeting details: 'call me' is not a phone number",
        ),
        (
            "an overlong address",
            vec![("manual_address", Some(&long_address))],
            "Meeting details: the address must be at most 500 characters",
        ),
        (
            "Microsoft Teams",
            vec![("location", Some("teams"))],
            "Microsoft Teams meetings cannot be created yet",
        ),
        (
            "no location",
            vec![("location", None)],
            "Choose where your meetings take place.",
        ),
        (
            "an unknown location",
            vec![("location", Some("carrier-pigeon"))],
            "Choose where your meetings take place.",
        ),
    ];
    let before = f.snapshot().await;
    for (what, changes, message) in &hour_cases {
        let page = post(
            t,
            "/settings/availability",
            Some(&cookie),
            &edit(&hours, changes),
        )
        .await;
        assert_page(what, &page, StatusCode::UNPROCESSABLE_ENTITY, message);
        assert!(
            page.text.contains("id=\"availability-error\""),
            "{what}: {}",
            gist(&page)
        );
    }
    for (what, changes, message) in &location_cases {
        let page = post(
            t,
            "/settings/availability/location",
            Some(&cookie),
            &edit(&location, changes),
        )
        .await;
        assert_page(what, &page, StatusCode::UNPROCESSABLE_ENTITY, message);
        assert!(
            page.text.contains("id=\"location-error\""),
            "{what}: {}",
            gist(&page)
        );
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused availability form changed something"
    );
    // The same forms as they were go through.
    let page = post(t, "/settings/availability", Some(&cookie), &hours).await;
    assert_redirect("good hours", &page, "/settings/availability");
    let page = post(
        t,
        "/settings/availability/location",
        Some(&cookie),
        &location,
    )
    .await;
    assert_redirect("a good location", &page, "/settings/availability");
}

#[tokio::test]
async fn the_event_type_forms_refuse_bad_definitions() {
    let f = Fixture::new().await;
    let t = &f.t;
    let other = event_type(t, &f.org, &f.host.id, "Other").await;
    assert_eq!(other["slug"], "other");
    let csrf = t.session_csrf(&f.host.session).await;
    let cookie = session_cookie(&f.host.session);
    let et = f.et["id"].as_str().unwrap().to_string();
    let base = edit(
        &f.event_type_form("New one", "new-one"),
        &vec![("_csrf", Some(&csrf))],
    );
    let long_title = "t".repeat(121);
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    // Refused the same way when creating and when saving.
    let both: Vec<(&str, Changes<'_>, &str)> = vec![
        (
            "a duration of 0",
            vec![("duration", Some("0"))],
            "Duration (minutes) must be between",
        ),
        (
            "a duration in words",
            vec![("duration", Some("half an hour"))],
            "Duration must be a whole number",
        ),
        (
            "no duration",
            vec![("duration", None)],
            "Duration must be a whole number",
        ),
        ("an unknown kind", vec![("kind", Some("weekly"))], "Kind: "),
        (
            "an empty title",
            vec![("title", Some(" "))],
            "Title: the title must be 1–120 characters",
        ),
        (
            "an overlong title",
            vec![("title", Some(&long_title))],
            "Title: the title must be 1–120 characters",
        ),
        (
            "a slug with spaces",
            vec![("slug", Some("my chat"))],
            "Address: the slug must be",
        ),
        (
            "a slug with a slash",
            vec![("slug", Some("../admin"))],
            "Address: the slug must be",
        ),
        (
            "a plain http meeting link",
            vec![("location", Some("manual")), ("loc_url", Some("http://x"))],
            "Location: the meeting link must be a valid https:// URL",
        ),
        (
            "in person without an address",
            vec![("location", Some("in_person"))],
            "Location: an in-person event type needs an address",
        ),
        (
            "an unknown location",
            vec![("location", Some("moon"))],
            "Location: 'moon' is not one of",
        ),
        (
            "a question of no kind",
            vec![("questions", Some("Topic | video"))],
            "Questions, line 1: 'video' is not a kind",
        ),
        (
            "a host who is not a user",
            vec![("host", Some("nobody")), ("primary", Some("nobody"))],
            "Hosts: a chosen host is not a user of this organization",
        ),
        (
            "a booking window of 0 days",
            vec![("window_days", Some("0"))],
            "must be between",
        ),
    ];
    let mut cases: Vec<(String, &str, Changes<'_>, StatusCode, &str)> = Vec::new();
    for (what, changes, message) in &both {
        cases.push((
            "/event-types/new".into(),
            what,
            changes.clone(),
            invalid,
            message,
        ));
        // Saving "Chat" keeps its own slug unless the case changes it.
        let mut saving: Changes<'_> = vec![("slug", Some("chat"))];
        saving.extend(changes.iter().cloned());
        cases.push((format!("/event-types/{et}"), what, saving, invalid, message));
    }
    // A member may only define their own personal event type: one without them as its
    // host, or of another kind, is not theirs to define.
    let forbidden = "you do not have permission to manage event types";
    cases.push((
        "/event-types/new".into(),
        "no host",
        vec![("host", None)],
        StatusCode::FORBIDDEN,
        forbidden,
    ));
    cases.push((
        format!("/event-types/{et}"),
        "no host",
        vec![("slug", Some("chat")), ("host", None)],
        StatusCode::FORBIDDEN,
        forbidden,
    ));
    cases.push((
        format!("/event-types/{et}"),
        "a change of kind",
        vec![("slug", Some("chat")), ("kind", Some("collective"))],
        StatusCode::FORBIDDEN,
        forbidden,
    ));
    cases.push((
        "/event-types/new".into(),
        "a slug that is taken",
        vec![("slug", Some("chat"))],
        invalid,
        "An event type with this slug already exists",
    ));
    cases.push((
        format!("/event-types/{et}"),
        "a slug that is taken",
        vec![("slug", Some("other"))],
        StatusCode::CONFLICT,
        "An event type with this slug already exists",
    ));
    cases.push((
        "/event-types/not-an-id".into(),
        "a malformed id",
        vec![],
        StatusCode::BAD_REQUEST,
        "'not-an-id' is not a valid event type id",
    ));
    cases.push((
        format!("/event-types/{}", crate::security::NO_SUCH_ID),
        "an unknown id",
        vec![],
        StatusCode::NOT_FOUND,
        "not found",
    ));
    let before = f.snapshot().await;
    for (path, what, changes, status, message) in &cases {
        let page = post(t, path, Some(&cookie), &edit(&base, changes)).await;
        assert_page(&format!("POST {path}: {what}"), &page, *status, message);
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused event type form changed something"
    );
    let page = post(t, "/event-types/new", Some(&cookie), &base).await;
    assert_redirect("a good event type", &page, "/event-types");
}

#[tokio::test]
async fn the_meetings_forms_refuse_bad_input() {
    let f = Fixture::new().await;
    let t = &f.t;
    let (booking, _) = f.book(&f.free[0], "ivy@client.example").await;
    f.book(&f.free[1], "ann@client.example").await;
    t.run_jobs().await;
    let csrf = t.session_csrf(&f.host.session).await;
    let cookie = session_cookie(&f.host.session);
    let resched = format!("/meetings/{booking}/reschedule");
    let cancel = format!("/meetings/{booking}/cancel");
    let nobody = crate::security::NO_SUCH_ID;
    let off_grid = shift(&f.free[2], 7);
    let past = from_now(t, -180);
    let far = from_now(t, 400 * 24 * 60);
    let long_reason = "r".repeat(1001);
    let base: Fields = vec![
        ("_csrf", csrf.clone()),
        ("start", f.free[2].clone()),
        ("tz", "UTC".into()),
    ];
    let bad = StatusCode::BAD_REQUEST;
    let invalid = StatusCode::UNPROCESSABLE_ENTITY;
    let posts: Vec<(String, &str, Changes<'_>, StatusCode, &str)> = vec![
        (
            resched.clone(),
            "missing start",
            vec![("start", None)],
            bad,
            "is not a meeting time",
        ),
        (
            resched.clone(),
            "start not a time",
            vec![("start", Some("nope"))],
            bad,
            "'nope' is not a meeting time",
        ),
        (
            resched.clone(),
            "start in the past",
            vec![("start", Some(&past))],
            invalid,
            IN_THE_PAST,
        ),
        (
            resched.clone(),
            "start off the slot grid",
            vec![("start", Some(&off_grid))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            resched.clone(),
            "start beyond the booking window",
            vec![("start", Some(&far))],
            invalid,
            NOT_AVAILABLE,
        ),
        (
            resched.clone(),
            "a time another invitee holds",
            vec![("start", Some(&f.free[1]))],
            StatusCode::CONFLICT,
            TAKEN,
        ),
        (
            resched.clone(),
            "a refused time in an unknown time zone",
            vec![("start", Some(&off_grid)), ("tz", Some("Mars/Base"))],
            bad,
            "unknown time zone 'Mars/Base'",
        ),
        (
            "/meetings/nope/reschedule".into(),
            "a malformed id",
            vec![],
            bad,
            "'nope' is not a valid booking id",
        ),
        (
            format!("/meetings/{nobody}/reschedule"),
            "an unknown id",
            vec![],
            StatusCode::NOT_FOUND,
            "booking not found",
        ),
        (
            cancel.clone(),
            "an overlong reason",
            vec![("start", None), ("reason", Some(&long_reason))],
            invalid,
            "the reason must be at most 1000 characters",
        ),
        (
            cancel.clone(),
            "a reason with a NUL byte",
            vec![("start", None), ("reason", Some("a\u{0}b"))],
            invalid,
            "the reason must be at most 1000 characters",
        ),
        (
            "/meetings/nope/cancel".into(),
            "a malformed id",
            vec![],
            bad,
            "'nope' is not a valid booking id",
        ),
        (
            format!("/meetings/{nobody}/cancel"),
            "an unknown id",
            vec![],
            StatusCode::NOT_FOUND,
            "booking not found",
        ),
    ];
    let gets: Vec<(String, StatusCode, &str)> = vec![
        ("/meetings?from=nope".into(), bad, "'nope' is not a date"),
        (
            "/meetings?to=2026-02-30".into(),
            bad,
            "'2026-02-30' is not a date",
        ),
        ("/meetings?status=maybe".into(), bad, "maybe"),
        (
            "/meetings?host=nobody".into(),
            bad,
            "'nobody' is not a valid user id",
        ),
        (
            "/meetings?cursor=garbage".into(),
            invalid,
            "the cursor is not one this server gave out",
        ),
        (
            "/meetings.csv?from=nope".into(),
            bad,
            "'nope' is not a date",
        ),
        (
            format!("{resched}?month=2026-13"),
            bad,
            "'2026-13' is not a month",
        ),
        (format!("{resched}?date=nope"), bad, "'nope' is not a date"),
        (
            format!("{resched}?tz=Mars/Base"),
            bad,
            "unknown time zone 'Mars/Base'",
        ),
        (
            format!("{resched}?start=nope"),
            bad,
            "'nope' is not a meeting time",
        ),
        (
            format!("/meetings/{nobody}/reschedule"),
            StatusCode::NOT_FOUND,
            "booking not found",
        ),
    ];
    let before = f.snapshot().await;
    for (path, what, changes, status, message) in &posts {
        let page = post(t, path, Some(&cookie), &edit(&base, changes)).await;
        assert_page(&format!("POST {path}: {what}"), &page, *status, message);
    }
    for (path, status, message) in &gets {
        let page = get(t, path, Some(&cookie)).await;
        assert_page(&format!("GET {path}"), &page, *status, message);
    }
    assert_eq!(
        f.snapshot().await,
        before,
        "a refused meetings form changed something"
    );
    assert_eq!(f.booking(&booking).await["start"], f.free[0].as_str());
}

// ---------------------------------------------------------------------------------
// The CSV export.

/// RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

const CSV_HEADER: [&str; 15] = [
    "id",
    "status",
    "start_utc",
    "end_utc",
    "title",
    "host",
    "host_email",
    "invitee_name",
    "invitee_email",
    "invitee_time_zone",
    "location",
    "meeting_link",
    "meeting_state",
    "created_utc",
    "cancel_reason",
];

/// `/meetings.csv` for a session: its rows (after the checked header), by booking id.
async fn meetings_csv(
    t: &TestApp,
    session: &str,
    query: &str,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let page = get(
        t,
        &format!("/meetings.csv{query}"),
        Some(&session_cookie(session)),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{query}: {}", gist(&page));
    assert!(
        page.content_type.starts_with("text/csv"),
        "{query}: {}",
        page.content_type
    );
    let mut records = csv_records(&page.text).into_iter();
    assert_eq!(records.next().unwrap(), CSV_HEADER, "{}", page.text);
    records
        .map(|r| {
            assert_eq!(r.len(), CSV_HEADER.len(), "{r:?} in {}", page.text);
            (r[0].clone(), r)
        })
        .collect()
}

#[tokio::test]
async fn the_meetings_csv_has_a_row_per_booking_and_members_see_only_their_own() {
    let f = Fixture::new().await;
    let t = &f.t;
    let bea = t.member(&f.org, "bea@acme.example", "meetings").await;
    open_every_day(t, &f.org, &bea.id).await;
    put_json(
        t,
        &f.org.key,
        &format!("/users/{}/meeting-location", bea.id),
        json!({"kind": "in_person", "address": "1 Main St, Springfield"}),
    )
    .await;
    let intro = event_type(t, &f.org, &bea.id, "Intro").await;
    let intro_free = free_starts(t, &intro).await;
    let formula = "=HYPERLINK(\"http://evil.example\")";
    let (a1, _) = f.book(&f.free[0], "ivy@client.example").await;
    let (a2, _) = book(t, &f.et, &f.free[1], formula, "eve@client.example").await;
    let (b1, _) = book(
        t,
        &intro,
        &intro_free[0],
        "Ann \"Annie\", Invitee",
        "ann@client.example",
    )
    .await;
    let (status, body) = t
        .post(
            &f.org.key,
            &format!("/bookings/{a2}/cancel"),
            json!({"reason": "Line one\nline two, \"quoted\""}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let admin = t.login(&f.org.admin_email, PASSWORD).await.unwrap();

    let all = meetings_csv(t, &admin, "").await;
    assert_eq!(all.keys().collect::<Vec<_>>(), sorted([&a1, &a2, &b1]));
    let col = |name: &str| CSV_HEADER.iter().position(|c| *c == name).unwrap();
    let row = &all[&a2];
    assert_eq!(row[col("status")], "cancelled");
    assert_eq!(
        row[col("invitee_name")],
        format!("'{formula}"),
        "a formula is defused"
    );
    assert_eq!(row[col("cancel_reason")], "Line one\nline two, \"quoted\"");
    assert_eq!(row[col("host_email")], "host@acme.example");
    assert_eq!(row[col("start_utc")], f.free[1]);
    let row = &all[&b1];
    assert_eq!(row[col("invitee_name")], "Ann \"Annie\", Invitee");
    assert!(
        row[col("location")].contains("1 Main St, Springfield"),
        "{row:?}"
    );
    assert_eq!(row[col("host_email")], "bea@acme.example");
    let cancelled = meetings_csv(t, &admin, "?status=cancelled").await;
    assert_eq!(cancelled.keys().collect::<Vec<_>>(), [&a2]);

    // Members get their own rows only.
    let mine = meetings_csv(t, &f.host.session, "").await;
    assert_eq!(mine.keys().collect::<Vec<_>>(), sorted([&a1, &a2]));
    assert!(mine
        .values()
        .all(|r| r[col("host_email")] == "host@acme.example"));
    let hers = meetings_csv(t, &bea.session, "").await;
    assert_eq!(hers.keys().collect::<Vec<_>>(), [&b1]);
    // …and cannot ask for someone else's, nor touch their meetings.
    let host = &f.host.id;
    for path in [
        format!("/meetings.csv?host={host}"),
        format!("/meetings?host={host}"),
    ] {
        let page = get(t, &path, Some(&session_cookie(&bea.session))).await;
        assert_page(
            &path,
            &page,
            StatusCode::FORBIDDEN,
            "you do not have permission to view other people's meetings",
        );
    }
    let page = get(t, "/meetings", Some(&session_cookie(&bea.session))).await;
    assert!(
        page.text.contains(&b1) && !page.text.contains(&a1),
        "{}",
        gist(&page)
    );
    let csrf = t.session_csrf(&bea.session).await;
    let before = f.snapshot().await;
    let page = post(
        t,
        &format!("/meetings/{a1}/cancel"),
        Some(&session_cookie(&bea.session)),
        &vec![("_csrf", csrf.clone())],
    )
    .await;
    assert_page(
        "cancelling someone else's meeting",
        &page,
        StatusCode::NOT_FOUND,
        "booking not found",
    );
    let page = get(
        t,
        &format!("/meetings/{a1}/reschedule"),
        Some(&session_cookie(&bea.session)),
    )
    .await;
    assert_page(
        "rescheduling someone else's meeting",
        &page,
        StatusCode::NOT_FOUND,
        "booking not found",
    );
    assert_eq!(f.snapshot().await, before);
}

fn sorted<const N: usize>(mut ids: [&String; N]) -> [&String; N] {
    ids.sort();
    ids
}
