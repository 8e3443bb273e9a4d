//! `convene demo`: serves Convene with a seeded organization — an admin, three hosts
//! whose Zoom and Google calendar are connected through the built-in sandboxes, and Round Robin, Collective
//! and personal event types — and prints the URLs to try, so a new user sees the whole
//! booking flow in a minute.
//!
//! The hosts join and connect Zoom through the same use cases and the same OAuth flow
//! (over HTTP, against the sandbox) a person would use; nothing is written around them.

use crate::config::Config;
use crate::startup::{self, Application};
use anyhow::{anyhow, bail, Context};
use convene_app::connections::oauth::Callback;
use convene_app::scheduling::{EventTypeInput, HostInput};
use convene_app::{Actor, App};
use convene_domain::{
    EventLocation, EventSlug, EventTitle, EventTypeKind, ManualDetails, MeetingLocationKind,
    OrgName, Password, PermissionSet, PersonName, Question, QuestionKind, Role, TimeZoneName,
    Timing, TimingInput,
};

const ORG: &str = "Demo Co";
const ADMIN_EMAIL: &str = "admin@demo.example";
const PASSWORD: &str = "convene-demo-password";
const HOSTS: [(&str, &str, &str); 3] = [
    ("Ana Alvarez", "ana@demo.example", "America/New_York"),
    ("Ben Becker", "ben@demo.example", "Europe/Berlin"),
    ("Chitra Chandran", "chitra@demo.example", "Asia/Kolkata"),
];

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let application = Application::build(config).await?;
    if application.zoom_sandbox.is_none() {
        bail!(
            "`convene demo` needs the Zoom sandbox: remove [providers.zoom] from the configuration"
        );
    }
    let url = application.url();
    let app = application.app.clone();
    let server = tokio::spawn(application.run_until(startup::shutdown_signal()));
    let slug = match seed(&app).await {
        Ok(slug) => slug,
        Err(e) => {
            server.abort();
            return Err(e);
        }
    };
    println!("\nConvene demo is running at {url}/\n");
    println!("  Sign in:             {url}/login  ({ADMIN_EMAIL} / {PASSWORD})");
    println!("  Round Robin booking: {url}/book/{slug}/sales-intro");
    println!("  Collective booking:  {url}/book/{slug}/team-demo");
    println!("  Personal booking:    {url}/book/{slug}/office-hours");
    println!("  Meetings on record:  {url}/meetings");
    println!("  Emails (outbox):     {url}/settings/outbox");
    println!("  Sandbox Zoom:        {url}/sandbox/zoom/control  (meetings appear here)");
    println!("  Sandbox Google:      {url}/sandbox/google/control  (add busy times; booked events appear here)\n");
    println!(
        "Book a slot, open the email in the outbox, then reschedule or cancel from its links."
    );
    server.await.context("server task")?
}

/// Seeds the demo org once; on a second run it only prints the URLs again.
async fn seed(app: &App) -> anyhow::Result<String> {
    if let Ok((org, _)) = app.public_event_type("demo-co", "sales-intro").await {
        return Ok(org.slug);
    }
    let (org, admin) = app
        .create_admin(convene_app::accounts::NewAdmin {
            org_name: OrgName::parse(ORG)?,
            org_slug: None,
            email: convene_domain::Email::parse(ADMIN_EMAIL)?,
            name: PersonName::parse("Dana Admin")?,
            password: Password::parse(PASSWORD)?,
            time_zone: TimeZoneName::parse("Europe/London")?,
        })
        .await
        .map_err(|e| anyhow!("creating the demo admin: {e}"))?;
    let admin = Actor::from_user(&admin);
    let emails: Vec<&str> = HOSTS.iter().map(|h| h.1).collect();
    app.invite(
        &admin,
        &emails.join(", "),
        Role::Meetings,
        PermissionSet::default(),
        None,
    )
    .await
    .map_err(|e| anyhow!("inviting the demo hosts: {e}"))?;
    convene_app::jobs::runner::run_pending(app).await?;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut hosts = Vec::new();
    for (i, (name, email, tz)) in HOSTS.iter().enumerate() {
        let token = join_token(app, &org.id, email).await?;
        let session = app
            .accept_invitation(
                &token,
                PersonName::parse(name)?,
                Password::parse(PASSWORD)?,
                TimeZoneName::parse(tz)?,
            )
            .await
            .map_err(|e| anyhow!("{email} joining: {e}"))?;
        let actor = Actor::from_user(&session.user);
        // Each host connects their own sandbox Zoom account and Google calendar, as in
        // the browser.
        let local = email.split('@').next().unwrap_or("host");
        for (provider, account) in [
            ("zoom", format!("{local}@zoom.sandbox")),
            ("google", format!("{local}@google.sandbox")),
        ] {
            sandbox_connect(app, &http, &actor, &session.token, provider, &account)
                .await
                .with_context(|| format!("connecting {provider} for {email}"))?;
        }
        hosts.push(HostInput {
            user_id: session.user.id,
            priority: 0,
            weight: if i == 0 { 2 } else { 1 },
            is_primary: i == 0,
        });
    }
    app.set_meeting_location(
        &admin,
        admin.user_id,
        MeetingLocationKind::Manual,
        Some(ManualDetails::parse(
            Some("https://meet.example.com/dana"),
            None,
            Some("+44 20 7946 0000"),
            None,
        )?),
    )
    .await
    .map_err(|e| anyhow!("{e}"))?;
    let timing = |minutes| {
        Timing::parse(TimingInput {
            duration_min: minutes,
            interval_min: None,
            buffer_before_min: 0,
            buffer_after_min: 10,
            min_notice_min: 60,
            window_days: 30,
            daily_limit: None,
        })
    };
    let company = Question {
        key: "company".into(),
        label: "Company".into(),
        kind: QuestionKind::ShortText,
        required: true,
    };
    let types = [
        (
            EventTypeKind::RoundRobin,
            "Sales intro",
            "sales-intro",
            30,
            hosts.clone(),
            vec![company.clone()],
        ),
        (
            EventTypeKind::Collective,
            "Team demo",
            "team-demo",
            45,
            hosts.clone(),
            vec![company],
        ),
        (
            EventTypeKind::Personal,
            "Office hours",
            "office-hours",
            20,
            vec![HostInput {
                user_id: admin.user_id,
                priority: 0,
                weight: 1,
                is_primary: true,
            }],
            vec![],
        ),
    ];
    for (kind, title, slug, minutes, hosts, questions) in types {
        app.create_event_type(
            &admin,
            EventTypeInput {
                kind,
                title: EventTitle::parse(title)?,
                slug: EventSlug::parse(slug)?,
                description: format!("A {minutes}-minute {} meeting (demo).", kind.label()),
                timing: timing(minutes)?,
                location: EventLocation::HostDefault,
                questions,
                hosts,
                active: true,
            },
        )
        .await
        .map_err(|e| anyhow!("creating {title}: {e}"))?;
    }
    Ok(org.slug)
}

/// Connects a provider through its sandbox consent page, over HTTP.
async fn sandbox_connect(
    app: &App,
    http: &reqwest::Client,
    actor: &Actor,
    session_token: &str,
    provider: &str,
    account: &str,
) -> anyhow::Result<()> {
    let authorize = app
        .start_connect(actor, session_token, provider)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let consent = http
        .post(&authorize)
        .form(&[("account", account)])
        .send()
        .await
        .context("sandbox consent")?;
    let callback = consent
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| anyhow!("the sandbox consent did not redirect"))?;
    let callback = url::Url::parse(callback)?;
    let param = |k: &str| {
        callback
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.to_string())
    };
    app.finish_connect(
        Some((actor, session_token)),
        Callback {
            code: param("code"),
            state: param("state"),
            error: None,
            error_description: None,
        },
    )
    .await
    .map_err(|e| anyhow!("{e:?}"))?;
    Ok(())
}

/// The Join Now token from the invitation email in the outbox.
async fn join_token(app: &App, org: &convene_domain::OrgId, email: &str) -> anyhow::Result<String> {
    let mut tx = app.store.read().await?;
    let mail = tx.outbox(*org, Some(email), 1).await?;
    let text = mail
        .first()
        .map(|m| m.text_body.clone())
        .ok_or_else(|| anyhow!("no invitation email to {email}"))?;
    text.split("/join/")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no join link in the invitation to {email}"))
}
