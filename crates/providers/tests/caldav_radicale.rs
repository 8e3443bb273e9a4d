//! The CalDAV adapter against a real CalDAV server: Radicale (`python3 -m radicale`),
//! started per test on a free loopback port with its own folder, a plaintext
//! htpasswd user and no web UI. Events are seeded with plain HTTP, so the server, not
//! the adapter, decides what they mean. Failure modes the real server cannot show
//! (a web page, silence, a huge answer) come from small axum servers.
//!
//! Without Radicale installed the Radicale tests print why they skip and pass;
//! `CONVENE_CALDAV_TESTS=1` (CI) turns a missing Radicale into a failure.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too; a panic is a test failure

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use convene_providers::caldav::{CalDavClient, CalDavCredentials};
use convene_providers::calendar::{Attendee, BusyTime, EventDraft};
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::{ProviderError, Secret};
use jiff::Timestamp;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use url::Url;

const USER: &str = "alice";
const PASSWORD: &str = "correct horse";

// ---------------------------------------------------------------- Radicale

struct Radicale {
    child: Child,
    dir: tempfile::TempDir,
    base: Url,
}

impl Drop for Radicale {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn radicale_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import radicale"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running Radicale, or `None` (with a message) when it is not installed and the
/// environment does not demand it.
async fn radicale() -> Option<Radicale> {
    if !radicale_installed() {
        if std::env::var("CONVENE_CALDAV_TESTS").as_deref() == Ok("1") {
            panic!("CONVENE_CALDAV_TESTS=1 but `python3 -m radicale` is not available (pip install radicale)");
        }
        eprintln!("skipping: Radicale is not installed (pip install radicale; CONVENE_CALDAV_TESTS=1 makes this a failure)");
        return None;
    }
    // The free port is found by binding and releasing it; another process may take
    // it in between, so a start that fails is tried again on a new port.
    let mut last_log = String::new();
    for _ in 0..3 {
        match start_radicale().await {
            Ok(server) => return Some(server),
            Err(log) => last_log = log,
        }
    }
    panic!("Radicale did not start:\n{last_log}");
}

async fn start_radicale() -> Result<Radicale, String> {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let users = dir.path().join("users");
    std::fs::write(&users, format!("{USER}:{PASSWORD}\n")).unwrap();
    let storage = dir.path().join("collections");
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[server]\nhosts = 127.0.0.1:{port}\n\n\
             [auth]\ntype = htpasswd\nhtpasswd_filename = {}\nhtpasswd_encryption = plain\ndelay = 0\n\n\
             [rights]\ntype = owner_only\n\n\
             [storage]\nfilesystem_folder = {}\n\n\
             [web]\ntype = none\n\n\
             [logging]\nlevel = warning\n",
            users.display(),
            storage.display()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("radicale.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new("python3")
        .args(["-m", "radicale", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("exited with {status}:\n{log}"));
        }
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!("not listening after 30 s:\n{log}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(Radicale {
        child,
        dir,
        base: Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap(),
    })
}

impl Radicale {
    fn creds(&self) -> CalDavCredentials {
        CalDavCredentials {
            server_url: self.base.clone(),
            username: USER.into(),
            password: Secret::from(PASSWORD),
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    async fn raw(&self, method: &str, path: &str, body: Option<(&str, String)>) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                self.url(path),
            )
            .basic_auth(USER, Some(PASSWORD));
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        if method == "PROPFIND" {
            request = request.header("depth", "1");
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// `MKCALENDAR` with a display name and the components it takes.
    async fn mkcalendar(&self, path: &str, name: &str, components: &[&str]) {
        let comps: String = components
            .iter()
            .map(|c| format!(r#"<C:comp name="{c}"/>"#))
            .collect();
        let body = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>{name}</D:displayname>
    <C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"#
        );
        let (status, text) = self
            .raw("MKCALENDAR", path, Some(("application/xml", body)))
            .await;
        assert_eq!(status, 201, "MKCALENDAR {path}: {text}");
    }

    async fn put_event(&self, path: &str, ics: &str) {
        let (status, text) = self
            .raw(
                "PUT",
                path,
                Some(("text/calendar", ics.replace('\n', "\r\n"))),
            )
            .await;
        assert!(
            status == 201 || status == 204,
            "PUT {path}: {status} {text}"
        );
    }

    /// How many event resources the collection holds.
    async fn count_events(&self, calendar: &str) -> usize {
        let (status, text) = self.raw("PROPFIND", calendar, None).await;
        assert_eq!(status, 207, "{text}");
        text.matches(".ics</").count()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("radicale.log")).unwrap_or_default()
    }
}

fn client() -> CalDavClient {
    CalDavClient::new(HttpClient::new(HttpConfig::default()).unwrap())
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn spans(busy: &[BusyTime]) -> Vec<(String, String)> {
    busy.iter()
        .map(|b| (b.start.to_string(), b.end.to_string()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn rejected_code(e: &ProviderError) -> (u16, &str, &str) {
    match e {
        ProviderError::Rejected {
            status,
            code,
            message,
        } => (*status, code.as_str(), message.as_str()),
        other => panic!("expected Rejected, got {other:?}"),
    }
}

/// Joins folded iCalendar lines, so a long link can be searched for.
fn unfold(ics: &str) -> String {
    ics.replace("\r\n ", "").replace("\n ", "")
}

fn draft(key: &str, start: &str, end: &str) -> EventDraft {
    EventDraft {
        key: key.into(),
        summary: "Intro call, with Jane; 30 min".into(),
        description:
            "Join the meeting: https://zoom.us/j/85746065432?pwd=abcDEF123\nSee you there.".into(),
        location: Some("https://zoom.us/j/85746065432?pwd=abcDEF123".into()),
        start: ts(start),
        end: ts(end),
        attendees: vec![Attendee {
            name: Some("Jane Doe".into()),
            email: "jane@example.org".into(),
        }],
    }
}

const BERLIN: &str = "BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
";

fn calendar(body: &str) -> String {
    format!("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{body}END:VCALENDAR\n")
}

// ---------------------------------------------------------------- discovery

#[tokio::test]
async fn discovery_finds_the_calendar() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    server.mkcalendar("alice/tasks/", "Tasks", &["VTODO"]).await;

    let (account, calendars) = client()
        .discover(&server.creds())
        .await
        .unwrap_or_else(|e| {
            panic!("{e}\n{}", server.log());
        });
    assert_eq!(account.id, server.url("alice/").to_string());
    // Radicale names no mailto address and no display name: the user name stands in.
    assert_eq!(account.email, USER);
    assert_eq!(account.display_name, USER);
    assert_eq!(calendars.len(), 1, "{calendars:?}");
    let work = &calendars[0];
    assert_eq!(work.id, server.url("alice/work/").to_string());
    assert_eq!(work.name, "Work");
    assert!(work.primary && work.writable);

    // A server URL deeper in the tree finds the same account.
    let mut creds = server.creds();
    creds.server_url = server.url("alice/work/");
    let (again, _) = client().discover(&creds).await.unwrap();
    assert_eq!(again.id, account.id);
}

// ---------------------------------------------------------------- busy times

#[tokio::test]
async fn busy_times_expand_recurrences_across_dst_and_skip_free_events() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    // Mondays 10:00-11:00 Berlin; Berlin moves to summer time on 2026-03-29.
    server
        .put_event(
            "alice/work/weekly.ics",
            &calendar(&format!(
                "{BERLIN}BEGIN:VEVENT\nUID:weekly\nDTSTAMP:20260101T000000Z\nDTSTART;TZID=Europe/Berlin:20260316T100000\nDTEND;TZID=Europe/Berlin:20260316T110000\nRRULE:FREQ=WEEKLY\nSUMMARY:Standup\nEND:VEVENT\n"
            )),
        )
        .await;
    server
        .put_event(
            "alice/work/offsite.ics",
            &calendar("BEGIN:VEVENT\nUID:offsite\nDTSTAMP:20260101T000000Z\nDTSTART;VALUE=DATE:20260325\nDTEND;VALUE=DATE:20260326\nSUMMARY:Offsite\nEND:VEVENT\n"),
        )
        .await;
    server
        .put_event(
            "alice/work/focus.ics",
            &calendar("BEGIN:VEVENT\nUID:focus\nDTSTAMP:20260101T000000Z\nDTSTART:20260324T120000Z\nDTEND:20260324T140000Z\nTRANSP:TRANSPARENT\nSUMMARY:Focus time (free)\nEND:VEVENT\n"),
        )
        .await;
    server
        .put_event(
            "alice/work/called-off.ics",
            &calendar("BEGIN:VEVENT\nUID:called-off\nDTSTAMP:20260101T000000Z\nDTSTART:20260326T120000Z\nDTEND:20260326T130000Z\nSTATUS:CANCELLED\nSUMMARY:Cancelled\nEND:VEVENT\n"),
        )
        .await;

    let client = client();
    let creds = server.creds();
    let (_, calendars) = client.discover(&creds).await.unwrap();
    let ids: Vec<String> = calendars.into_iter().map(|c| c.id).collect();
    let busy = client
        .busy(
            &creds,
            &ids,
            ts("2026-03-16T00:00:00Z"),
            ts("2026-04-06T00:00:00Z"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(
        spans(&busy),
        pairs(&[
            ("2026-03-16T09:00:00Z", "2026-03-16T10:00:00Z"),
            ("2026-03-23T09:00:00Z", "2026-03-23T10:00:00Z"),
            ("2026-03-25T00:00:00Z", "2026-03-26T00:00:00Z"),
            ("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"),
        ])
    );

    // A narrower window only gets what overlaps it.
    let busy = client
        .busy(
            &creds,
            &ids,
            ts("2026-03-29T00:00:00Z"),
            ts("2026-04-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        spans(&busy),
        pairs(&[("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z")])
    );
}

// ---------------------------------------------------------------- writing events

#[tokio::test]
async fn creating_twice_with_the_same_key_makes_one_event_with_the_link() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    let client = client();
    let creds = server.creds();
    let calendar = server.url("alice/work/").to_string();
    let d = draft(
        "booking-1-host-7",
        "2026-12-01T15:00:00Z",
        "2026-12-01T15:30:00Z",
    );

    let created = client
        .create_event(&creds, &calendar, &d)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(created.id, format!("{calendar}booking-1-host-7.ics"));
    assert!(created.etag.is_some());

    let (status, ics) = server
        .raw("GET", "alice/work/booking-1-host-7.ics", None)
        .await;
    assert_eq!(status, 200);
    let ics = unfold(&ics);
    assert!(ics.contains("UID:booking-1-host-7"), "{ics}");
    assert!(
        ics.contains("LOCATION:https://zoom.us/j/85746065432?pwd=abcDEF123"),
        "{ics}"
    );
    assert!(ics.contains("DESCRIPTION:Join the meeting: https://zoom.us/j/85746065432?pwd=abcDEF123\\nSee you there."), "{ics}");
    assert!(
        ics.contains("SUMMARY:Intro call\\, with Jane\\; 30 min"),
        "{ics}"
    );
    assert!(ics.contains("mailto:jane@example.org"), "{ics}");

    // The retried create adopts the event instead of writing a second one.
    let again = client.create_event(&creds, &calendar, &d).await.unwrap();
    assert_eq!(again, created);
    assert_eq!(server.count_events("alice/work/").await, 1);

    let busy = client
        .busy(
            &creds,
            &[calendar.as_str()],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        spans(&busy),
        pairs(&[("2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z")])
    );

    // A key with characters unsafe in a URL gets a stable hashed name.
    let odd = draft(
        "booking:2/host 7",
        "2026-12-02T15:00:00Z",
        "2026-12-02T15:30:00Z",
    );
    let first = client.create_event(&creds, &calendar, &odd).await.unwrap();
    let second = client.create_event(&creds, &calendar, &odd).await.unwrap();
    assert_eq!(first.id, second.id);
    assert!(
        first.id.starts_with(&format!("{calendar}convene-")),
        "{}",
        first.id
    );
    assert_eq!(server.count_events("alice/work/").await, 2);
}

#[tokio::test]
async fn moving_an_event_changes_its_times_even_with_a_stale_etag() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    let client = client();
    let creds = server.creds();
    let calendar = server.url("alice/work/").to_string();
    let window = (ts("2026-12-01T00:00:00Z"), ts("2026-12-05T00:00:00Z"));

    let created = client
        .create_event(
            &creds,
            &calendar,
            &draft("booking-9", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
        )
        .await
        .unwrap();
    let moved = client
        .update_event(
            &creds,
            &created.id,
            &draft("booking-9", "2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z"),
            created.etag.as_deref(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    assert_eq!(moved.id, created.id);
    assert_ne!(moved.etag, created.etag);
    let busy = client
        .busy(&creds, &[calendar.as_str()], window.0, window.1)
        .await
        .unwrap();
    assert_eq!(
        spans(&busy),
        pairs(&[("2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z")])
    );

    // The ETag from before the move is stale: the adapter refetches it and writes.
    let again = client
        .update_event(
            &creds,
            &created.id,
            &draft("booking-9", "2026-12-04T09:00:00Z", "2026-12-04T09:45:00Z"),
            created.etag.as_deref(),
        )
        .await
        .unwrap();
    // And without any ETag.
    client
        .update_event(
            &creds,
            &again.id,
            &draft("booking-9", "2026-12-04T10:00:00Z", "2026-12-04T10:45:00Z"),
            None,
        )
        .await
        .unwrap();
    let busy = client
        .busy(&creds, &[calendar.as_str()], window.0, window.1)
        .await
        .unwrap();
    assert_eq!(
        spans(&busy),
        pairs(&[("2026-12-04T10:00:00Z", "2026-12-04T10:45:00Z")])
    );
    assert_eq!(server.count_events("alice/work/").await, 1);
}

#[tokio::test]
async fn deleting_removes_the_event_and_deleting_again_is_fine() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    let client = client();
    let creds = server.creds();
    let calendar = server.url("alice/work/").to_string();
    let d = draft("booking-3", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z");
    let created = client.create_event(&creds, &calendar, &d).await.unwrap();

    client.delete_event(&creds, &created.id).await.unwrap();
    let (status, _) = server.raw("GET", "alice/work/booking-3.ics", None).await;
    assert_eq!(status, 404);
    assert_eq!(server.count_events("alice/work/").await, 0);
    client.delete_event(&creds, &created.id).await.unwrap();

    // Moving an event the user deleted says so rather than writing it back.
    let moved = client
        .update_event(&creds, &created.id, &d, created.etag.as_deref())
        .await;
    assert!(
        matches!(moved, Err(ProviderError::NotFound { .. })),
        "{moved:?}"
    );
    assert_eq!(server.count_events("alice/work/").await, 0);
}

// ---------------------------------------------------------------- failures

#[tokio::test]
async fn a_wrong_password_is_a_clear_bad_credentials_error() {
    let Some(server) = radicale().await else {
        return;
    };
    server.mkcalendar("alice/work/", "Work", &["VEVENT"]).await;
    let mut creds = server.creds();
    creds.password = Secret::from("wrong");
    let client = client();

    let e = client.discover(&creds).await.unwrap_err();
    assert_eq!(
        rejected_code(&e),
        (
            401,
            "bad_credentials",
            "the CalDAV server refused the user name or password"
        )
    );
    assert!(!e.to_string().contains("wrong"));

    let calendar = server.url("alice/work/").to_string();
    let e = client
        .busy(
            &creds,
            &[calendar.as_str()],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).1, "bad_credentials");
    let e = client
        .create_event(
            &creds,
            &calendar,
            &draft("booking-1", "2026-12-01T15:00:00Z", "2026-12-01T15:30:00Z"),
        )
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).1, "bad_credentials");
}

/// A server on 127.0.0.1:0 that answers everything with `app`.
async fn serve(app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

fn creds_for(server_url: Url) -> CalDavCredentials {
    CalDavCredentials {
        server_url,
        username: USER.into(),
        password: Secret::from(PASSWORD),
    }
}

/// What a hosted server (Nextcloud, iCloud) looks like: nothing at the root, a
/// well-known redirect, principals and calendars under their own paths, a shared
/// read-only calendar, a task list and a scheduling inbox beside the calendars.
#[tokio::test]
async fn discovery_follows_the_well_known_redirect_and_reads_a_hosted_layout() {
    async fn dav(request: axum::extract::Request) -> axum::response::Response {
        let multistatus = |body: &str| {
            (
                StatusCode::MULTI_STATUS,
                [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
                format!(
                    r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:cal="urn:ietf:params:xml:ns:caldav">{body}</d:multistatus>"#
                ),
            )
                .into_response()
        };
        let ok = r#"<d:status>HTTP/1.1 200 OK</d:status>"#;
        let depth = request
            .headers()
            .get("depth")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        match (
            request.method().as_str(),
            request.uri().path(),
            depth.as_str(),
        ) {
            ("PROPFIND", "/.well-known/caldav", _) => {
                (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/dav/")]).into_response()
            }
            ("PROPFIND", "/dav/", "0") => multistatus(&format!(
                r#"<d:response><d:href>/dav/</d:href><d:propstat><d:prop><d:current-user-principal><d:href>/dav/principals/alice/</d:href></d:current-user-principal></d:prop>{ok}</d:propstat></d:response>"#
            )),
            ("PROPFIND", "/dav/principals/alice/", "0") => multistatus(&format!(
                r#"<d:response><d:href>/dav/principals/alice/</d:href><d:propstat><d:prop>
                  <cal:calendar-home-set><d:href>/dav/calendars/alice/</d:href></cal:calendar-home-set>
                  <cal:calendar-user-address-set><d:href>/dav/principals/alice/</d:href><d:href>MAILTO:Alice@Example.org</d:href></cal:calendar-user-address-set>
                  <d:displayname>Alice Example</d:displayname>
                </d:prop>{ok}</d:propstat></d:response>"#
            )),
            ("PROPFIND", "/dav/calendars/alice/", "1") => {
                let calendar = |path: &str, name: &str, comps: &str, privileges: &str| {
                    format!(
                        r#"<d:response><d:href>/dav/calendars/alice/{path}</d:href><d:propstat><d:prop>
                          <d:resourcetype><d:collection/><cal:calendar/></d:resourcetype>
                          <d:displayname>{name}</d:displayname>
                          <cal:supported-calendar-component-set>{comps}</cal:supported-calendar-component-set>
                          <d:current-user-privilege-set>{privileges}</d:current-user-privilege-set>
                        </d:prop>{ok}</d:propstat></d:response>"#
                    )
                };
                let read = "<d:privilege><d:read/></d:privilege>";
                let write =
                    "<d:privilege><d:read/></d:privilege><d:privilege><d:write/></d:privilege>";
                let event = r#"<cal:comp name="VEVENT"/>"#;
                multistatus(&format!(
                    r#"<d:response><d:href>/dav/calendars/alice/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/></d:resourcetype></d:prop>{ok}</d:propstat></d:response>
                    <d:response><d:href>/dav/calendars/alice/inbox/</d:href><d:propstat><d:prop><d:resourcetype><d:collection/><cal:schedule-inbox/></d:resourcetype></d:prop>{ok}</d:propstat></d:response>
                    {}{}{}"#,
                    calendar("shared/", "Team (shared)", event, read),
                    calendar("tasks/", "Tasks", r#"<cal:comp name="VTODO"/>"#, write),
                    calendar("personal/", "Personal", event, write),
                ))
            }
            _ => (StatusCode::NOT_FOUND, "Not Found").into_response(),
        }
    }
    let url = serve(Router::new().fallback(dav)).await;
    let (account, calendars) = client().discover(&creds_for(url.clone())).await.unwrap();
    assert_eq!(
        account.id,
        url.join("dav/principals/alice/").unwrap().to_string()
    );
    assert_eq!(account.email, "Alice@Example.org");
    assert_eq!(account.display_name, "Alice Example");
    let summary: Vec<(String, &str, bool, bool)> = calendars
        .iter()
        .map(|c| {
            (
                c.id.strip_prefix(url.as_str()).unwrap().to_owned(),
                c.name.as_str(),
                c.primary,
                c.writable,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "dav/calendars/alice/shared/".to_owned(),
                "Team (shared)",
                false,
                false
            ),
            (
                "dav/calendars/alice/personal/".to_owned(),
                "Personal",
                true,
                true
            ),
        ]
    );
}

/// A server that ignores `<expand>` and sends the recurring master as stored: the
/// adapter expands the rule itself, and refuses one it cannot read.
#[tokio::test]
async fn recurrences_a_server_leaves_unexpanded_are_expanded_or_refused() {
    async fn report(request: axum::extract::Request) -> axum::response::Response {
        let rule = match request.uri().path() {
            "/alice/simple/" => "FREQ=WEEKLY;BYDAY=MO;COUNT=10",
            _ => "FREQ=MONTHLY;BYDAY=2TU",
        };
        let event = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r\r\nDTSTART;TZID=Europe/Berlin:20260316T100000\r\nDTEND;TZID=Europe/Berlin:20260316T110000\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        (
            StatusCode::MULTI_STATUS,
            [(header::CONTENT_TYPE, "application/xml")],
            format!(
                r#"<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>{}r.ics</href><propstat><prop><getetag>"1"</getetag><C:calendar-data>{event}</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#,
                request.uri().path()
            ),
        )
            .into_response()
    }
    let url = serve(Router::new().fallback(report)).await;
    let creds = creds_for(url.clone());
    let (from, to) = (ts("2026-03-16T00:00:00Z"), ts("2026-04-06T00:00:00Z"));
    let busy = client()
        .busy(
            &creds,
            &[url.join("alice/simple/").unwrap().to_string()],
            from,
            to,
        )
        .await
        .unwrap();
    assert_eq!(
        spans(&busy),
        pairs(&[
            ("2026-03-16T09:00:00Z", "2026-03-16T10:00:00Z"),
            ("2026-03-23T09:00:00Z", "2026-03-23T10:00:00Z"),
            ("2026-03-30T08:00:00Z", "2026-03-30T09:00:00Z"),
        ])
    );
    let e = client()
        .busy(
            &creds,
            &[url.join("alice/tricky/").unwrap().to_string()],
            from,
            to,
        )
        .await
        .unwrap_err();
    let (_, code, message) = rejected_code(&e);
    assert_eq!(code, "unsupported_icalendar", "{message}");
    assert!(message.contains("cannot expand"), "{message}");
    assert!(message.contains("BYDAY=2TU"), "{message}");
}

#[tokio::test]
async fn a_website_is_not_a_caldav_server() {
    let page = || async {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Welcome</title></head><body>Our homepage</body></html>",
        )
    };
    let url = serve(Router::new().fallback(page)).await;
    let e = client().discover(&creds_for(url)).await.unwrap_err();
    assert_eq!(
        rejected_code(&e),
        (
            200,
            "not_caldav",
            "the server did not answer like a CalDAV server"
        )
    );

    // A server that knows nothing of the path, with or without a well-known address.
    let missing = || async { (StatusCode::NOT_FOUND, "Not Found") };
    let url = serve(Router::new().fallback(missing)).await;
    let e = client().discover(&creds_for(url)).await.unwrap_err();
    assert_eq!(
        rejected_code(&e),
        (404, "no_caldav_service", "no CalDAV service at this URL")
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_transient() {
    // Accepts connections and holds them without a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let http = HttpClient::new(HttpConfig {
        connect_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    })
    .unwrap();
    let client = CalDavClient::new(http);
    let creds = creds_for(Url::parse(&format!("http://{addr}/")).unwrap());
    let started = Instant::now();
    let e = client.discover(&creds).await.unwrap_err();
    assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
    assert!(e.is_retryable());
    let e = client
        .busy(
            &creds,
            &[format!("http://{addr}/alice/work/")],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ProviderError::Transient(_)), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_huge_answer_is_refused() {
    // 6 MB of well-formed multistatus: larger than Convene reads.
    let huge = || async {
        let mut body = String::from(r#"<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">"#);
        let entry = "<d:response><d:href>/alice/work/x.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>";
        while body.len() < 6 * 1024 * 1024 {
            body.push_str(entry);
        }
        body.push_str("</d:multistatus>");
        (
            StatusCode::MULTI_STATUS,
            [(header::CONTENT_TYPE, "application/xml")],
            body,
        )
            .into_response()
    };
    let url = serve(Router::new().fallback(huge)).await;
    let creds = creds_for(url.clone());
    let e = client().discover(&creds).await.unwrap_err();
    let (status, code, message) = rejected_code(&e);
    assert_eq!((status, code), (207, "response_too_large"), "{message}");
    let e = client()
        .busy(
            &creds,
            &[url.join("alice/work/").unwrap().to_string()],
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-02T00:00:00Z"),
        )
        .await
        .unwrap_err();
    assert_eq!(rejected_code(&e).1, "response_too_large");
}
