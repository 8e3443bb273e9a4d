//! `convene bench slots` and `convene bench bookings`: the scheduling figures, over real
//! HTTP against a real server on a throw-away database.
//!
//! `slots` seeds a large Round Robin team with many existing bookings (inserted straight
//! through the store, in a few big transactions) and times the public slots API over a
//! month, plus the in-process `App::slots`. `bookings` connects hosts to the built-in
//! Zoom sandbox through the real OAuth flow, slows the sandbox down, and measures booking
//! throughput with concurrent clients and the background jobs that create each booking's
//! Zoom meeting, with the process's resident memory.

use crate::config::{Config, JobsConfig};
use crate::startup::{Application, Overrides};
use anyhow::Context;
use convene_app::passwords::HashCost;
use convene_app::App;
use convene_domain::{
    BookingId, Email, EventTypeId, MeetingLocationKind, MeetingState, OrgId, PermissionSet, Role,
    UserId, UserStatus,
};
use convene_store::{NewBooking, NewUser};
use jiff::{SignedDuration, Timestamp};
use sha2::Digest;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ADMIN: &str = "admin@bench.example";
const PASSWORD: &str = "bench password 1234";
const WEEKLY: &str = "Mon-Fri 08:00-18:00";
const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Los_Angeles",
];
const MEETING_URL: &str = "https://meet.bench.example/room";

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / samples.len() as u32
}

/// The process's resident set size in KiB (`VmRSS` of `/proc/self/status`), if known.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "unknown".into(),
        |k| format!("{:.1} MiB", k as f64 / 1024.0),
    )
}

fn temp_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("convene-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

async fn build(
    dir: &std::path::Path,
    database_url: Option<String>,
    workers: usize,
) -> anyhow::Result<Application> {
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url,
        jobs: JobsConfig {
            workers,
            poll_interval_ms: 200,
        },
        ..Config::default()
    };
    Application::build_with(
        &config,
        Overrides {
            password_hash: HashCost::Test,
            ..Overrides::default()
        },
    )
    .await
}

struct Seeded {
    org: OrgId,
    hosts: Vec<(UserId, String)>,
    key: String,
}

/// One org, an admin with an API key, and `hosts` active hosts (password [`PASSWORD`])
/// working Mon–Fri 08:00–18:00 in a few time zones; `manual` gives them a manual link.
async fn seed_team(app: &App, hosts: usize, manual: bool) -> anyhow::Result<Seeded> {
    let org = OrgId::new();
    let now = app.now();
    let password = convene_domain::Password::parse(PASSWORD).map_err(err)?;
    let hash = convene_app::passwords::hash(&password, HashCost::Test)
        .await
        .map_err(err)?;
    let details = serde_json::json!({ "url": MEETING_URL }).to_string();
    let mut tx = app.store.write().await?;
    tx.insert_org(org, "bench", "Bench Org", now).await?;
    let user = |email: &str, name: String, tz: &str, role: Role| -> anyhow::Result<NewUser> {
        Ok(NewUser {
            id: UserId::new(),
            org_id: org,
            email: Email::parse(email).map_err(err)?,
            name: Some(name),
            time_zone: tz.into(),
            role,
            permissions: PermissionSet::empty(),
            status: UserStatus::Active,
            password_hash: Some(hash.clone()),
        })
    };
    tx.insert_user(&user(ADMIN, "Bench Admin".into(), "UTC", Role::Admin)?, now)
        .await?;
    let mut out = Vec::with_capacity(hosts);
    for i in 0..hosts {
        let tz = ZONES[i % ZONES.len()];
        let email = format!("host{i:03}@bench.example");
        let u = user(&email, format!("Host {i:03}"), tz, Role::Meetings)?;
        tx.insert_user(&u, now).await?;
        tx.set_availability(u.id, WEEKLY, "{}", now).await?;
        if manual {
            tx.set_meeting_location(org, u.id, MeetingLocationKind::Manual, Some(&details), now)
                .await?;
        }
        out.push((u.id, tz.to_string()));
    }
    tx.commit().await?;
    let key = app
        .create_api_key_for("bench", ADMIN, "bench")
        .await
        .map_err(err)?
        .key;
    Ok(Seeded {
        org,
        hosts: out,
        key,
    })
}

/// Creates a Round Robin event type with every host over the API; returns its id.
async fn round_robin(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    hosts: &[(UserId, String)],
    location: serde_json::Value,
) -> anyhow::Result<String> {
    let hosts: Vec<_> = hosts
        .iter()
        .map(|(id, _)| serde_json::json!({ "user_id": id.to_string() }))
        .collect();
    let r = client
        .post(format!("{url}/api/v1/event-types"))
        .bearer_auth(key)
        .json(&serde_json::json!({
            "kind": "round_robin",
            "title": "Bench team call",
            "duration_min": 30,
            "location": location,
            "hosts": hosts,
        }))
        .send()
        .await?;
    let status = r.status();
    let body: serde_json::Value = r.json().await?;
    anyhow::ensure!(
        status.is_success(),
        "creating the event type: {status} {body}"
    );
    body["id"]
        .as_str()
        .map(str::to_string)
        .context("the event type has no id")
}

async fn get_slots(
    client: &reqwest::Client,
    url: &str,
    event_type: &str,
    from: Timestamp,
    to: Timestamp,
) -> anyhow::Result<serde_json::Value> {
    let r = client
        .get(format!("{url}/api/v1/event-types/{event_type}/slots"))
        .query(&[("from", from.to_string()), ("to", to.to_string())])
        .send()
        .await?;
    let status = r.status();
    let body: serde_json::Value = r.json().await?;
    anyhow::ensure!(status.is_success(), "slots: {status} {body}");
    Ok(body)
}

// ---------------------------------------------------------------------------------
// `convene bench slots`
// ---------------------------------------------------------------------------------

pub struct SlotsParams {
    pub hosts: usize,
    pub days: i64,
    pub busy: usize,
    pub requests: usize,
    pub database_url: Option<String>,
    /// Every host also connects a Google calendar in the built-in sandbox, with `busy`
    /// busy events spread over the days.
    pub calendars: bool,
    /// Latency the Google sandbox adds to every call (with `calendars`).
    pub calendar_latency_ms: u64,
}

pub async fn slots_bench(p: SlotsParams) -> anyhow::Result<()> {
    anyhow::ensure!(
        p.hosts > 0 && p.requests > 0 && (1..=62).contains(&p.days),
        "--hosts and --requests must be at least 1, --days 1 to 62"
    );
    let dir = temp_dir()?;
    let outcome = slots_bench_in(&dir, &p).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

/// The weekdays (in `tz`) among the `days` days from today.
fn weekdays(tz: &jiff::tz::TimeZone, now: Timestamp, days: i64) -> Vec<jiff::civil::Date> {
    let today = now.to_zoned(tz.clone()).date();
    (0..days)
        .filter_map(|d| today.checked_add(jiff::Span::new().days(d)).ok())
        .filter(|d| {
            !matches!(
                d.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            )
        })
        .collect()
}

async fn slots_bench_in(dir: &std::path::Path, p: &SlotsParams) -> anyhow::Result<()> {
    let application = build(dir, p.database_url.clone(), 0).await?;
    let google = if p.calendars {
        Some(
            application
                .google_sandbox
                .clone()
                .context("the built-in Google sandbox is not running")?,
        )
    } else {
        None
    };
    let app = application.app.clone();
    let url = application.url();
    let server = application.spawn();
    let client = reqwest::Client::new();

    let started = Instant::now();
    let team = seed_team(&app, p.hosts, true).await?;
    let et = round_robin(
        &client,
        &url,
        &team.key,
        &team.hosts,
        serde_json::json!({ "kind": "host_default" }),
    )
    .await?;
    let et_id: EventTypeId = et.parse().map_err(err)?;

    // Existing bookings: `busy` per host on the weekdays ahead, 30 minutes each inside
    // the host's own working hours (about 14 of each day's 20 half hours at 300).
    let now = app.now();
    let sealed_for = |i: usize| app.secrets.seal(format!("bench-token-{i}").as_bytes());
    let hosts_per_tx = 10;
    let mut inserted = 0usize;
    for chunk in team.hosts.chunks(hosts_per_tx) {
        let mut tx = app.store.write().await?;
        for (h, (host, tz_name)) in chunk.iter().enumerate() {
            let tz = jiff::tz::TimeZone::get(tz_name).map_err(err)?;
            let days = weekdays(&tz, now, p.days);
            anyhow::ensure!(!days.is_empty(), "no weekdays in --days {}", p.days);
            for k in 0..p.busy {
                let day = days[k % days.len()];
                let half_hour = ((k / days.len()) * 3 + h + inserted) % 20;
                let start = day
                    .at(8 + (half_hour / 2) as i8, (half_hour % 2) as i8 * 30, 0, 0)
                    .to_zoned(tz.clone())
                    .map_err(err)?
                    .timestamp();
                let end = start
                    .checked_add(SignedDuration::from_mins(30))
                    .map_err(err)?;
                let n = inserted * p.busy + k;
                tx.insert_booking(
                    &NewBooking {
                        id: BookingId::new(),
                        org_id: team.org,
                        event_type_id: et_id,
                        host_user_id: *host,
                        hosts: vec![*host],
                        start_at: start,
                        end_at: end,
                        title: "Bench team call".into(),
                        invitee_name: format!("Invitee {n}"),
                        invitee_email: format!("invitee{n}@client.example"),
                        invitee_time_zone: "UTC".into(),
                        answers: "{}".into(),
                        location_kind: "manual".into(),
                        location_text: Some(MEETING_URL.into()),
                        manage_token_hash: hex::encode(sha2::Sha256::digest(
                            format!("bench-token-{n}").as_bytes(),
                        )),
                        manage_token_sealed: sealed_for(n)?,
                        idempotency_key: None,
                        request_hash: None,
                        meeting_state: MeetingState::NotNeeded,
                        notified_seq: 0,
                    },
                    now,
                )
                .await?;
            }
            inserted += 1;
        }
        tx.commit().await?;
    }
    let db = if p.database_url.is_some() {
        "given database"
    } else {
        "SQLite"
    };
    println!(
        "seeded {} hosts, 1 Round Robin event type and {} bookings in {:.1} s ({db}, server {url})",
        p.hosts,
        p.hosts * p.busy,
        started.elapsed().as_secs_f64(),
    );
    if let Some(google) = &google {
        let started = Instant::now();
        connect_calendars(google, &app, &team, p).await?;
        println!(
            "connected {} hosts to Google Calendar (sandbox) through OAuth and added {} busy events each in {:.1} s; sandbox latency now {} ms per call",
            p.hosts,
            p.busy,
            started.elapsed().as_secs_f64(),
            p.calendar_latency_ms,
        );
    }

    let from = app.now();
    let to = from
        .checked_add(SignedDuration::from_hours(24 * p.days))
        .map_err(err)?;
    let view = app.public_event_type_by_id(et_id).await.map_err(err)?;
    // Cold fetches: every host's calendar read from the (slowed) sandbox.
    let mut cold = Vec::new();
    if p.calendars {
        for _ in 0..COLD_ROUNDS {
            for (host, _) in &team.hosts {
                app.busy_cache.invalidate(*host);
            }
            let started = Instant::now();
            let answer = app.slots(view.clone(), from, to).await.map_err(err)?;
            cold.push(started.elapsed());
            anyhow::ensure!(
                answer.unavailable.is_empty(),
                "{} hosts unbookable after a cold fetch",
                answer.unavailable.len()
            );
        }
        let rounds: Vec<String> = cold.iter().map(|d| ms(*d)).collect();
        cold.sort();
        println!(
            "\ncold slots (busy cache emptied, {} hosts' calendars fetched, at most {} at once, {} ms per sandbox call): {}",
            p.hosts,
            convene_app::calendars::busy::PARALLEL_FETCHES,
            p.calendar_latency_ms,
            rounds.join(", "),
        );
    }
    // Warm up (and check) once.
    let body = get_slots(&client, &url, &et, from, to).await?;
    let slot_count = body["slots"].as_array().map_or(0, Vec::len);
    let unavailable = body["unavailable_hosts"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        unavailable == 0,
        "{unavailable} hosts are unbookable: {}",
        body["unavailable_hosts"]
    );

    let mut http = Vec::with_capacity(p.requests);
    let mut bytes = 0usize;
    for _ in 0..p.requests {
        let sent = Instant::now();
        let r = client
            .get(format!("{url}/api/v1/event-types/{et}/slots"))
            .query(&[("from", from.to_string()), ("to", to.to_string())])
            .send()
            .await?;
        anyhow::ensure!(r.status().is_success(), "slots: {}", r.status());
        bytes = r.bytes().await?.len();
        http.push(sent.elapsed());
    }
    http.sort();

    let mut inproc = Vec::with_capacity(p.requests);
    let mut inproc_slots = 0;
    for _ in 0..p.requests {
        let started = Instant::now();
        let answer = app.slots(view.clone(), from, to).await.map_err(err)?;
        inproc.push(started.elapsed());
        inproc_slots = answer.slots.len();
    }
    inproc.sort();

    // The same, with the bookings cache emptied before every call: the first request
    // after a booking changed a host's schedule (calendar busy times stay cached).
    let host_ids: Vec<_> = view.hosts.iter().map(|h| h.user.id).collect();
    let mut missed = Vec::with_capacity(p.requests);
    for _ in 0..p.requests {
        app.bookings_cache.invalidate(&host_ids);
        let started = Instant::now();
        app.slots(view.clone(), from, to).await.map_err(err)?;
        missed.push(started.elapsed());
    }
    missed.sort();

    println!(
        "\nGET /api/v1/event-types/{{id}}/slots?from=now&to=+{} days: {} sequential requests ({bytes}-byte answer)",
        p.days, p.requests
    );
    println!(
        "  HTTP        p50 {}, p95 {}, p99 {}, mean {}, max {}",
        ms(percentile(&http, 0.5)),
        ms(percentile(&http, 0.95)),
        ms(percentile(&http, 0.99)),
        ms(mean(&http)),
        ms(*http.last().unwrap_or(&Duration::ZERO)),
    );
    println!(
        "  in-process  App::slots p50 {}, p99 {}, mean {} ({inproc_slots} slots)",
        ms(percentile(&inproc, 0.5)),
        ms(percentile(&inproc, 0.99)),
        ms(mean(&inproc)),
    );
    println!(
        "  in-process, bookings cache missed every call: p50 {}, p99 {}, mean {}",
        ms(percentile(&missed, 0.5)),
        ms(percentile(&missed, 0.99)),
        ms(mean(&missed)),
    );
    println!(
        "\nslots, {}-host Round Robin, {} days, {} bookings/host ({db}): HTTP p50 {} p99 {}; in-process p50 {}; {slot_count} slots",
        p.hosts,
        p.days,
        p.busy,
        ms(percentile(&http, 0.5)),
        ms(percentile(&http, 0.99)),
        ms(percentile(&inproc, 0.5)),
    );
    if p.calendars {
        println!(
            "calendars: cold fetch of {} hosts with {} ms per call: p50 {} (min {}, max {}, {COLD_ROUNDS} rounds; bounded {} in parallel)",
            p.hosts,
            p.calendar_latency_ms,
            ms(percentile(&cold, 0.5)),
            ms(*cold.first().unwrap_or(&Duration::ZERO)),
            ms(*cold.last().unwrap_or(&Duration::ZERO)),
            convene_app::calendars::busy::PARALLEL_FETCHES,
        );
        println!(
            "slots with calendar busy times (warm cache): HTTP p50 {} p95 {} p99 {}; in-process p50 {} p95 {} p99 {}; {slot_count} slots ({} bookings + {} calendar events per host)",
            ms(percentile(&http, 0.5)),
            ms(percentile(&http, 0.95)),
            ms(percentile(&http, 0.99)),
            ms(percentile(&inproc, 0.5)),
            ms(percentile(&inproc, 0.95)),
            ms(percentile(&inproc, 0.99)),
            p.busy,
            p.busy,
        );
    }
    server.abort();
    Ok(())
}

/// How many times the cold fetch is measured.
const COLD_ROUNDS: usize = 5;

/// Connects every host's Google Calendar in the sandbox (account `host{i}@google.sandbox`)
/// through OAuth, puts `busy` 30-minute busy events in each spread evenly over `days`
/// (around the clock, so some fall outside working hours), then slows the sandbox down.
async fn connect_calendars(
    google: &convene_sandbox::GoogleSandbox,
    app: &App,
    team: &Seeded,
    p: &SlotsParams,
) -> anyhow::Result<()> {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let now = app.now();
    let step = SignedDuration::from_secs((p.days * 24 * 3600) / p.busy.max(1) as i64);
    for i in 0..team.hosts.len() {
        let account = format!("host{i}@google.sandbox");
        connect_provider(
            app,
            &no_redirects,
            &format!("host{i:03}@bench.example"),
            convene_app::calendars::GOOGLE,
            &account,
        )
        .await?;
        // Hosts' events start at different minutes past the hour.
        let offset = SignedDuration::from_mins((i as i64 * 7) % 60);
        for k in 0..p.busy {
            let start = now
                .checked_add(step * k as i32)
                .and_then(|t| t.checked_add(offset))
                .map_err(err)?;
            let end = start
                .checked_add(SignedDuration::from_mins(30))
                .map_err(err)?;
            google.add_busy(&account, start, end, "Busy").map_err(err)?;
        }
    }
    google.set_faults(convene_sandbox::Faults {
        latency: Duration::from_millis(p.calendar_latency_ms),
        ..Default::default()
    });
    Ok(())
}

// ---------------------------------------------------------------------------------
// `convene bench bookings`
// ---------------------------------------------------------------------------------

pub struct BookingsParams {
    pub bookings: usize,
    pub concurrency: usize,
    pub hosts: usize,
    pub zoom_latency_ms: u64,
    pub workers: usize,
    pub database_url: Option<String>,
}

pub async fn bookings_bench(p: BookingsParams) -> anyhow::Result<()> {
    anyhow::ensure!(
        p.bookings > 0 && p.concurrency > 0 && p.hosts > 0 && p.workers > 0,
        "--bookings, --concurrency, --hosts and --workers must be at least 1"
    );
    let dir = temp_dir()?;
    let outcome = bookings_bench_in(&dir, &p).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

/// Connects `email`'s `provider` account through its sandbox: Convene's authorize URL →
/// the sandbox's consent form over HTTP → the callback's code and state back into Convene.
async fn connect_provider(
    app: &App,
    no_redirects: &reqwest::Client,
    email: &str,
    provider: &str,
    account: &str,
) -> anyhow::Result<()> {
    use convene_app::connections::oauth::Callback;
    let session = app.login(email, PASSWORD).await.map_err(err)?;
    let actor = convene_app::Actor::from_user(&session.user);
    let authorize = app
        .start_connect(&actor, &session.token, provider)
        .await
        .map_err(err)?;
    let consent = no_redirects
        .post(&authorize)
        .form(&[("account", account)])
        .send()
        .await?;
    anyhow::ensure!(
        consent.status().is_redirection(),
        "the sandbox consent answered {}",
        consent.status()
    );
    let location = consent
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .context("the consent redirect has no Location")?;
    let callback = url::Url::parse(location).context("the consent redirect's Location")?;
    let param = |name: &str| {
        callback
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    app.finish_connect(
        Some((&actor, &session.token)),
        Callback {
            code: param("code"),
            state: param("state"),
            error: param("error"),
            error_description: param("error_description"),
        },
    )
    .await
    .map_err(|f| anyhow::anyhow!("connecting {email} to {provider} failed: {f:?}"))?;
    Ok(())
}

async fn bookings_bench_in(dir: &std::path::Path, p: &BookingsParams) -> anyhow::Result<()> {
    let application = build(dir, p.database_url.clone(), p.workers).await?;
    let sandbox = application
        .zoom_sandbox
        .clone()
        .context("the built-in Zoom sandbox is not running")?;
    let app = application.app.clone();
    let url = application.url();
    let server = application.spawn();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency)
        .build()?;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;

    let started = Instant::now();
    let team = seed_team(&app, p.hosts, false).await?;
    for i in 0..p.hosts {
        connect_provider(
            &app,
            &no_redirects,
            &format!("host{i:03}@bench.example"),
            "zoom",
            &format!("host{i:03}@zoom.sandbox"),
        )
        .await?;
    }
    let et = round_robin(
        &client,
        &url,
        &team.key,
        &team.hosts,
        serde_json::json!({ "kind": "zoom" }),
    )
    .await?;
    let from = app.now();
    let to = from
        .checked_add(SignedDuration::from_hours(24 * 30))
        .map_err(err)?;
    let body = get_slots(&client, &url, &et, from, to).await?;
    let free = body["slots"].as_array().cloned().unwrap_or_default();
    anyhow::ensure!(
        body["unavailable_hosts"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "unbookable hosts: {}",
        body["unavailable_hosts"]
    );
    // Distinct (start, host) slots: every start once, then every start again for its
    // next free host, … so concurrent requests rarely aim at the same start.
    let mut targets = Vec::with_capacity(p.bookings);
    let mut round = 0;
    while targets.len() < p.bookings {
        let before = targets.len();
        for s in &free {
            let hosts = s["host_ids"].as_array().map_or(0, Vec::len);
            if round < hosts && targets.len() < p.bookings {
                if let Some(start) = s["start"].as_str() {
                    targets.push(start.to_string());
                }
            }
        }
        anyhow::ensure!(
            targets.len() > before,
            "only {} free (start, host) slots in 30 days; ask for fewer --bookings",
            targets.len()
        );
        round += 1;
    }
    let rest = rss_kib();
    println!(
        "seeded {} hosts connected to the Zoom sandbox through OAuth and a Round Robin event type in {:.1} s ({}, server {url}, {} job workers); {} free starts in 30 days",
        p.hosts,
        started.elapsed().as_secs_f64(),
        if p.database_url.is_some() { "given database" } else { "SQLite" },
        p.workers,
        free.len(),
    );
    println!("resident memory at rest after seeding: {}", mib(rest));

    sandbox.set_faults(convene_sandbox::Faults {
        latency: Duration::from_millis(p.zoom_latency_ms),
        ..Default::default()
    });
    let created_before = sandbox.stats().meetings_created;

    // Peak resident memory, sampled every 50 ms through the load.
    let peak = Arc::new(AtomicU64::new(rest.unwrap_or(0)));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(k) = rss_kib() {
                    peak.fetch_max(k, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };

    let targets = Arc::new(targets);
    let next = Arc::new(AtomicUsize::new(0));
    let load_started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..p.concurrency {
        let (client, targets, next, et, url) = (
            client.clone(),
            targets.clone(),
            next.clone(),
            et.clone(),
            url.clone(),
        );
        clients.spawn(async move {
            let mut times = Vec::new();
            let mut refused = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(start) = targets.get(i) else { break };
                let sent = Instant::now();
                let r = client
                    .post(format!("{url}/api/v1/bookings"))
                    .json(&serde_json::json!({
                        "event_type_id": et,
                        "start": start,
                        "name": "Ivy Invitee",
                        "email": format!("invitee{i}@client.example"),
                        "time_zone": "America/New_York",
                    }))
                    .send()
                    .await?;
                let status = r.status();
                let body = r.bytes().await?;
                times.push(sent.elapsed());
                if status != reqwest::StatusCode::CREATED {
                    refused.push(format!("{status} {}", String::from_utf8_lossy(&body)));
                }
            }
            anyhow::Ok((times, refused))
        });
    }
    let mut times = Vec::with_capacity(p.bookings);
    let mut refused = Vec::new();
    while let Some(joined) = clients.join_next().await {
        let (t, r) = joined??;
        times.extend(t);
        refused.extend(r);
    }
    let posts_done = load_started.elapsed();
    times.sort();
    let booked = (times.len() - refused.len()) as u64;

    // Until every booking's Zoom meeting exists.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut created = 0;
    while Instant::now() < deadline {
        created = sandbox.stats().meetings_created - created_before;
        if created >= booked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let meetings_done = load_started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let peak = peak.load(Ordering::Relaxed);

    // The bookings' own view: every one should have its meeting ready.
    let ready = count_ready(&client, &url, &team.key).await?;

    println!(
        "\nPOST /api/v1/bookings: {} bookings, {} concurrent clients, sandbox Zoom latency {} ms",
        p.bookings, p.concurrency, p.zoom_latency_ms
    );
    println!(
        "  {booked} created, {} refused{}",
        refused.len(),
        refused
            .first()
            .map(|r| format!(" (first: {r})"))
            .unwrap_or_default()
    );
    println!(
        "  {:.1} bookings/s ({} for all requests); latency p50 {}, p99 {}, max {}",
        booked as f64 / posts_done.as_secs_f64(),
        ms(posts_done),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
    );
    println!(
        "  Zoom meetings: {created} of {booked} created {:.2} s after the first request ({:.2} s after the last answer): {:.1} meetings/s with {} job workers; {ready} bookings with meeting_state ready",
        meetings_done.as_secs_f64(),
        meetings_done.saturating_sub(posts_done).as_secs_f64(),
        created as f64 / meetings_done.as_secs_f64(),
        p.workers,
    );
    println!(
        "  resident memory: {} at rest after seeding, peak {} during the load",
        mib(rest),
        mib(Some(peak)),
    );
    println!(
        "\nbookings, {} hosts, {} concurrent, Zoom +{} ms: {:.1} bookings/s, p50 {} p99 {}; all {created} meetings after {:.2} s ({:.1} meetings/s); RSS {} at rest, {} peak",
        p.hosts,
        p.concurrency,
        p.zoom_latency_ms,
        booked as f64 / posts_done.as_secs_f64(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        meetings_done.as_secs_f64(),
        created as f64 / meetings_done.as_secs_f64(),
        mib(rest),
        mib(Some(peak)),
    );
    server.abort();
    anyhow::ensure!(
        refused.is_empty() && created >= booked,
        "{} bookings refused, {created} of {booked} meetings created",
        refused.len()
    );
    Ok(())
}

/// Bookings whose meeting is ready, through the admin API (paged).
async fn count_ready(client: &reqwest::Client, url: &str, key: &str) -> anyhow::Result<usize> {
    let mut ready = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut req = client
            .get(format!("{url}/api/v1/bookings"))
            .bearer_auth(key)
            .query(&[("limit", "500")]);
        if let Some(c) = &cursor {
            req = req.query(&[("cursor", c.as_str())]);
        }
        let r = req.send().await?;
        let status = r.status();
        let body: serde_json::Value = r.json().await?;
        anyhow::ensure!(status.is_success(), "listing bookings: {status} {body}");
        ready += body["bookings"].as_array().map_or(0, |b| {
            b.iter().filter(|b| b["meeting_state"] == "ready").count()
        });
        match body["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_string()),
            _ => return Ok(ready),
        }
    }
}
