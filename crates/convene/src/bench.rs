//! `convene bench …`: measures the figures issues ask for, over real HTTP against a
//! real server on a throw-away database, and prints them.

use crate::config::Config;
use crate::startup::{Application, Overrides};
use anyhow::Context;
use clap::Subcommand;
use convene_app::passwords::HashCost;
use convene_domain::{Email, OrgId, PermissionSet, Role, UserId, UserStatus};
use convene_store::NewUser;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Users-table API latency per filter for a large org, and a 1,000-address invite.
    Users {
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        /// Requests per filter.
        #[arg(long, default_value_t = 200)]
        requests: usize,
        #[arg(long, default_value_t = 1_000)]
        invites: usize,
        /// Run against this database instead of a temporary SQLite file
        /// (for PostgreSQL, an empty database).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Zoom token service and webhooks against the built-in sandbox: refreshes per
    /// concurrent burst of expired-token calls (must be 1), token-service overhead with
    /// a warm token, and webhook verification throughput.
    Tokens {
        /// Bursts, each after the stored token has expired.
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        /// Concurrent `POST …/connections/zoom/check` calls per burst.
        #[arg(long, default_value_t = 50)]
        concurrency: usize,
        /// Sequential `access_token` calls with a warm token.
        #[arg(long, default_value_t = 2_000)]
        token_calls: usize,
        /// In-process signature verifications.
        #[arg(long, default_value_t = 100_000)]
        verifications: usize,
        /// Sequential `POST /webhooks/zoom` requests (URL validation).
        #[arg(long, default_value_t = 2_000)]
        webhook_requests: usize,
    },
    /// Public slots API over a month for a large Round Robin team with many bookings.
    Slots {
        #[arg(long, default_value_t = 50)]
        hosts: usize,
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Existing bookings per host.
        #[arg(long, default_value_t = 300)]
        busy: usize,
        /// Sequential slots requests (and in-process calls).
        #[arg(long, default_value_t = 50)]
        requests: usize,
        #[arg(long)]
        database_url: Option<String>,
        /// Every host also connects a Google calendar (sandbox) with `--busy` events.
        #[arg(long)]
        calendars: bool,
        /// Latency the Google sandbox adds to every call (with `--calendars`).
        #[arg(long, default_value_t = 100)]
        calendar_latency_ms: u64,
    },
    /// Concurrent public bookings with Zoom meetings created by the job workers against
    /// a slowed-down sandbox; throughput, latency and resident memory.
    Bookings {
        #[arg(long, default_value_t = 500)]
        bookings: usize,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 20)]
        hosts: usize,
        #[arg(long, default_value_t = 150)]
        zoom_latency_ms: u64,
        /// Job workers.
        #[arg(long, default_value_t = 4)]
        workers: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Users {
            users,
            requests,
            invites,
            database_url,
        } => users_bench(users, requests, invites, database_url).await,
        BenchCommand::Tokens {
            rounds,
            concurrency,
            token_calls,
            verifications,
            webhook_requests,
        } => {
            tokens_bench(TokensParams {
                rounds,
                concurrency,
                token_calls,
                verifications,
                webhook_requests,
            })
            .await
        }
        BenchCommand::Slots {
            hosts,
            days,
            busy,
            requests,
            database_url,
            calendars,
            calendar_latency_ms,
        } => {
            crate::bench_booking::slots_bench(crate::bench_booking::SlotsParams {
                hosts,
                days,
                busy,
                requests,
                database_url,
                calendars,
                calendar_latency_ms,
            })
            .await
        }
        BenchCommand::Bookings {
            bookings,
            concurrency,
            hosts,
            zoom_latency_ms,
            workers,
            database_url,
        } => {
            crate::bench_booking::bookings_bench(crate::bench_booking::BookingsParams {
                bookings,
                concurrency,
                hosts,
                zoom_latency_ms,
                workers,
                database_url,
            })
            .await
        }
    }
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

async fn users_bench(
    users: usize,
    requests: usize,
    invites: usize,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.clone(),
        database_url: database_url.clone(),
        jobs: crate::config::JobsConfig {
            workers: 0,
            poll_interval_ms: 1000,
        },
        ..Config::default()
    };
    let application = Application::build_with(
        &config,
        Overrides {
            password_hash: HashCost::Test,
            ..Overrides::default()
        },
    )
    .await?;
    let app = application.app.clone();
    let url = application.url();
    let server = application.spawn();

    // Seed: one org, an admin, and `users` users across roles and statuses.
    let seed_started = Instant::now();
    let org = OrgId::new();
    let now = app.now();
    let mut tx = app.store.write().await?;
    tx.insert_org(org, "bench", "Bench Org", now).await?;
    let admin = UserId::new();
    tx.insert_user(
        &NewUser {
            id: admin,
            org_id: org,
            email: Email::parse("admin@bench.example").map_err(|e| anyhow::anyhow!("{e}"))?,
            name: Some("Bench Admin".into()),
            time_zone: "UTC".into(),
            role: Role::Admin,
            permissions: PermissionSet::empty(),
            status: UserStatus::Active,
            password_hash: None,
        },
        now,
    )
    .await?;
    for i in 0..users {
        let role = [
            Role::Meetings,
            Role::Chat,
            Role::Meetings,
            Role::CustomAdmin,
            Role::Admin,
        ][i % 5];
        let status = [
            UserStatus::Active,
            UserStatus::Active,
            UserStatus::Pending,
            UserStatus::Active,
            UserStatus::Deactivated,
            UserStatus::Active,
        ][i % 6];
        tx.insert_user(
            &NewUser {
                id: UserId::new(),
                org_id: org,
                email: Email::parse(&format!("user{i:05}@bench.example"))
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                name: Some(format!("User {i:05}")),
                time_zone: "Europe/Paris".into(),
                role,
                permissions: PermissionSet::empty(),
                status,
                password_hash: None,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    println!(
        "seeded {users} users in {:.1} s ({})",
        seed_started.elapsed().as_secs_f64(),
        if database_url.is_some() {
            "given database"
        } else {
            "SQLite"
        }
    );
    let key = app
        .create_api_key_for("bench", "admin@bench.example", "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .key;

    let client = reqwest::Client::new();
    println!("\nGET /api/v1/users?filter=…&limit=50 ({requests} sequential requests per filter, {users} users)");
    println!("{:<12} {:>10} {:>10} {:>10}", "filter", "p50", "p99", "max");
    for filter in convene_domain::UserFilter::ALL {
        let mut samples = Vec::with_capacity(requests);
        for _ in 0..requests {
            let started = Instant::now();
            let resp = client
                .get(format!(
                    "{url}/api/v1/users?filter={}&limit=50",
                    filter.as_str()
                ))
                .bearer_auth(&key)
                .send()
                .await?;
            anyhow::ensure!(
                resp.status().is_success(),
                "users request failed: {}",
                resp.status()
            );
            resp.bytes().await?;
            samples.push(started.elapsed());
        }
        samples.sort();
        println!(
            "{:<12} {:>10} {:>10} {:>10}",
            filter.as_str(),
            ms(percentile(&samples, 0.5)),
            ms(percentile(&samples, 0.99)),
            ms(*samples.last().unwrap_or(&Duration::ZERO))
        );
    }

    let addresses: Vec<String> = (0..invites)
        .map(|i| format!("invitee{i:05}@bench.example"))
        .collect();
    let started = Instant::now();
    let resp = client
        .post(format!("{url}/api/v1/invitations"))
        .bearer_auth(&key)
        .json(&serde_json::json!({"emails": addresses.join(", "), "role": "meetings"}))
        .send()
        .await?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().await?;
    let elapsed = started.elapsed();
    anyhow::ensure!(status.is_success(), "invite failed: {status} {body}");
    let invited = body["invited"].as_array().map(Vec::len).unwrap_or(0);
    println!("\nPOST /api/v1/invitations with {invites} addresses: {} ({invited} invited, emails queued as jobs)", ms(elapsed));

    server.abort();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("convene-bench-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

// ---------------------------------------------------------------------------------
// `convene bench tokens`
// ---------------------------------------------------------------------------------

struct TokensParams {
    rounds: usize,
    concurrency: usize,
    token_calls: usize,
    verifications: usize,
    webhook_requests: usize,
}

const BENCH_ADMIN: &str = "admin@bench.example";
const BENCH_PASSWORD: &str = "bench password 1234";
/// The sandbox account the bench connects (created on the fly; it approves).
const BENCH_ZOOM_ACCOUNT: &str = "bench@zoom.sandbox";

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn app_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// `x-zm-signature` as Zoom computes it: `v0=` + hex HMAC-SHA256(secret token,
/// `v0:{timestamp}:{raw body}`).
fn zoom_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn hmac_hex(secret: &str, message: &str) -> String {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn tokens_bench(p: TokensParams) -> anyhow::Result<()> {
    anyhow::ensure!(
        p.rounds > 0 && p.concurrency > 0,
        "--rounds and --concurrency must be at least 1"
    );
    let dir = tempfile_dir()?;
    let outcome = tokens_bench_in(&dir, &p).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn tokens_bench_in(dir: &std::path::Path, p: &TokensParams) -> anyhow::Result<()> {
    use convene_app::accounts::NewAdmin;
    use convene_app::clock::ManualClock;
    use convene_app::connections::oauth::Callback;
    use convene_app::connections::zoom_webhook::WEBHOOK_TOLERANCE;
    use convene_app::Actor;
    use convene_domain::{OrgName, Password, PersonName, TimeZoneName};
    use std::hint::black_box;
    use std::sync::Arc;

    // The sandbox issues real-length tokens (3599 s); Convene decides staleness on its
    // own clock, which the bench moves forward before each burst.
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        jobs: crate::config::JobsConfig {
            workers: 0,
            poll_interval_ms: 1000,
        },
        ..Config::default()
    };
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now()));
    let application = Application::build_with(
        &config,
        Overrides {
            clock: clock.clone(),
            password_hash: HashCost::Test,
        },
    )
    .await?;
    let sandbox = application
        .zoom_sandbox
        .clone()
        .context("the built-in Zoom sandbox is not running")?;
    let app = application.app.clone();
    let url = application.url();
    let server = application.spawn();

    // An admin with a known password, signed in for the OAuth state's session binding.
    let (org, _) = app
        .create_admin(NewAdmin {
            org_name: OrgName::parse("Bench").map_err(app_err)?,
            org_slug: None,
            email: Email::parse(BENCH_ADMIN).map_err(app_err)?,
            name: PersonName::parse("Bench Admin").map_err(app_err)?,
            password: Password::parse(BENCH_PASSWORD).map_err(app_err)?,
            time_zone: TimeZoneName::parse("UTC").map_err(app_err)?,
        })
        .await
        .map_err(app_err)?;
    let session = app
        .login(BENCH_ADMIN, BENCH_PASSWORD)
        .await
        .map_err(app_err)?;
    let actor = Actor::from_user(&session.user);
    let key = app
        .create_api_key_for(&org.slug, BENCH_ADMIN, "bench")
        .await
        .map_err(app_err)?
        .key;

    // Connect Zoom: Convene's authorize URL → the sandbox's consent form over HTTP →
    // the callback's code and state back into Convene.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let authorize = app
        .start_connect(&actor, &session.token, "zoom")
        .await
        .map_err(app_err)?;
    let consent = no_redirects
        .post(&authorize)
        .form(&[("account", BENCH_ZOOM_ACCOUNT)])
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
    .map_err(|f| anyhow::anyhow!("connecting Zoom failed: {f:?}"))?;
    let connection_id = app
        .zoom_connection_id(actor.user_id)
        .await
        .map_err(app_err)?;
    println!(
        "connected {BENCH_ADMIN} to the sandbox's {BENCH_ZOOM_ACCOUNT} (server {url}, SQLite)"
    );

    // 1. Refreshes per concurrent burst of calls that all find the token expired.
    let check_url = format!(
        "{url}/api/v1/users/{}/connections/zoom/check",
        actor.user_id
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(p.concurrency)
        .build()?;
    let failures_before = sandbox.stats().refresh_failures;
    let mut per_burst = Vec::with_capacity(p.rounds);
    let mut burst_times = Vec::with_capacity(p.rounds);
    let mut call_times = Vec::with_capacity(p.rounds * p.concurrency);
    for round in 1..=p.rounds {
        // Two hours on: the stored access token (3599 s) is past its expiry.
        clock.advance(jiff::SignedDuration::from_hours(2));
        let before = sandbox.stats().refreshes_of(BENCH_ZOOM_ACCOUNT);
        let started = Instant::now();
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..p.concurrency {
            let (client, check_url, key) = (client.clone(), check_url.clone(), key.clone());
            calls.spawn(async move {
                let sent = Instant::now();
                let r = client.post(&check_url).bearer_auth(&key).send().await?;
                let status = r.status();
                let body: serde_json::Value = r.json().await?;
                anyhow::Ok((status, body, sent.elapsed()))
            });
        }
        while let Some(joined) = calls.join_next().await {
            let (status, body, took) = joined??;
            anyhow::ensure!(
                status.is_success() && body["status"] == "active" && body["last_error"].is_null(),
                "round {round}: a check failed: {status} {body}"
            );
            call_times.push(took);
        }
        burst_times.push(started.elapsed());
        per_burst.push(sandbox.stats().refreshes_of(BENCH_ZOOM_ACCOUNT) - before);
    }
    let refresh_failures = sandbox.stats().refresh_failures - failures_before;
    burst_times.sort();
    call_times.sort();
    let (min, max) = (
        per_burst.iter().copied().min().unwrap_or(0),
        per_burst.iter().copied().max().unwrap_or(0),
    );
    println!(
        "\nRefreshes per burst: {} concurrent POST /api/v1/users/{{id}}/connections/zoom/check, {} rounds, Convene's clock advanced 2 h before each",
        p.concurrency, p.rounds
    );
    println!(
        "  refreshes at the sandbox per burst: min {min}, max {max}  [{}]",
        per_burst
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("  refused refreshes: {refresh_failures}");
    println!(
        "  burst wall time: p50 {}, max {}; per call: p50 {}, p99 {}, max {}",
        ms(percentile(&burst_times, 0.5)),
        ms(*burst_times.last().unwrap_or(&Duration::ZERO)),
        ms(percentile(&call_times, 0.5)),
        ms(percentile(&call_times, 0.99)),
        ms(*call_times.last().unwrap_or(&Duration::ZERO)),
    );
    let single_flight = min == 1 && max == 1 && refresh_failures == 0;

    // 2. Token-service overhead with a warm token (one store read and one unseal).
    app.access_token(&connection_id).await.map_err(app_err)?;
    let refreshes_before = sandbox.stats().refreshes_of(BENCH_ZOOM_ACCOUNT);
    let mut samples = Vec::with_capacity(p.token_calls);
    for _ in 0..p.token_calls {
        let started = Instant::now();
        let token = app.access_token(&connection_id).await.map_err(app_err)?;
        samples.push(started.elapsed());
        black_box(token);
    }
    samples.sort();
    let warm_refreshes = sandbox.stats().refreshes_of(BENCH_ZOOM_ACCOUNT) - refreshes_before;
    println!(
        "\nToken service with a warm token: {} sequential App::access_token calls",
        p.token_calls
    );
    println!(
        "  p50 {}, p99 {}, max {} ({warm_refreshes} refreshes)",
        us(percentile(&samples, 0.5)),
        us(percentile(&samples, 0.99)),
        us(*samples.last().unwrap_or(&Duration::ZERO)),
    );

    // 3. Webhook signature verification, in process, on an app_deauthorized delivery.
    let secret = app.settings.zoom_webhook_secret.clone();
    let now = app.now();
    let deauthorization_time = now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let body = serde_json::json!({
        "event": "app_deauthorized",
        "event_ts": now.as_millisecond(),
        "payload": {
            "account_id": "R_wgrwrN8bEPu97xyCMAMQ",
            "user_id": "sJOirh4xzCwSBZh-tRMjIg",
            "signature": hmac_hex("convene-sandbox-zoom-secret", &format!("sJOirh4xzCwSBZh-tRMjIg:R_wgrwrN8bEPu97xyCMAMQ:{deauthorization_time}")),
            "deauthorization_time": deauthorization_time,
            "client_id": crate::startup::SANDBOX_ZOOM_CLIENT_ID,
            "user_data_retention": "false",
        },
    })
    .to_string();
    let timestamp = now.as_second().to_string();
    let signature = zoom_signature(secret.expose(), now.as_second(), body.as_bytes());
    let verify = |body: &[u8]| {
        convene_providers::zoom::webhook::verify(
            black_box(&secret),
            Some(black_box(timestamp.as_str())),
            Some(black_box(signature.as_str())),
            black_box(body),
            now,
            WEBHOOK_TOLERANCE,
        )
    };
    verify(body.as_bytes()).map_err(app_err)?;
    anyhow::ensure!(
        verify(body.replace("false", "true").as_bytes()).is_err(),
        "a changed body must fail verification"
    );
    let started = Instant::now();
    for _ in 0..p.verifications {
        verify(body.as_bytes()).map_err(app_err)?;
    }
    let elapsed = started.elapsed();
    println!(
        "\nWebhook verification: {} × convene_providers::zoom::webhook::verify on a {}-byte app_deauthorized body",
        p.verifications,
        body.len()
    );
    println!(
        "  {:.0} verifications/s ({:.2} µs each)",
        p.verifications as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / p.verifications.max(1) as f64
    );

    // 4. End to end: POST /webhooks/zoom with a signed endpoint.url_validation.
    let hook = format!("{url}/webhooks/zoom");
    let mut samples = Vec::with_capacity(p.webhook_requests);
    let started = Instant::now();
    for i in 0..p.webhook_requests {
        let plain = format!("bench-plain-token-{i:06}");
        let now = app.now();
        let body = serde_json::json!({
            "payload": { "plainToken": plain },
            "event_ts": now.as_millisecond(),
            "event": "endpoint.url_validation",
        })
        .to_string();
        let signature = zoom_signature(secret.expose(), now.as_second(), body.as_bytes());
        let sent = Instant::now();
        let r = client
            .post(&hook)
            .header("content-type", "application/json; charset=utf-8")
            .header("x-zm-request-timestamp", now.as_second().to_string())
            .header("x-zm-signature", signature)
            .body(body)
            .send()
            .await?;
        let status = r.status();
        let answer: serde_json::Value = r.json().await?;
        samples.push(sent.elapsed());
        anyhow::ensure!(
            status == reqwest::StatusCode::OK
                && answer["plainToken"] == plain.as_str()
                && answer["encryptedToken"] == hmac_hex(secret.expose(), &plain).as_str(),
            "the URL validation answer is wrong: {status} {answer}"
        );
    }
    let elapsed = started.elapsed();
    samples.sort();
    println!(
        "\nPOST /webhooks/zoom (endpoint.url_validation, signed): {} sequential requests",
        p.webhook_requests
    );
    println!(
        "  {:.0} requests/s; p50 {}, p99 {}, max {}",
        p.webhook_requests as f64 / elapsed.as_secs_f64(),
        ms(percentile(&samples, 0.5)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap_or(&Duration::ZERO)),
    );

    server.abort();
    anyhow::ensure!(
        single_flight,
        "single-flight refresh broken: refreshes per burst ranged {min}..={max} (expected exactly 1), {refresh_failures} refused"
    );
    Ok(())
}
