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
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Users {
            users,
            requests,
            invites,
            database_url,
        } => users_bench(users, requests, invites, database_url).await,
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
