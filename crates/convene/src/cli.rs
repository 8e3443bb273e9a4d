//! The command line: `serve`, `migrate`, `admin create`, `api-key create`, `bench`.

use crate::config::Config;
use crate::startup::{self, Application};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use convene_app::accounts::NewAdmin;
use convene_domain::{Email, OrgName, OrgSlug, Password, PersonName, TimeZoneName};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "convene", version, about = "Self-hosted meeting scheduling")]
pub struct Cli {
    /// A TOML configuration file (default: $CONVENE_CONFIG, or ./convene.toml if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, env = "CONVENE_LISTEN")]
        listen: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage admins.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage API keys.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Manage the encryption key of stored secrets.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Serve with a seeded demo organization (hosts with sandbox Zoom, event types) and
    /// print the URLs to try.
    Demo,
    /// Measure Convene's figures and print them.
    Bench {
        #[command(subcommand)]
        command: crate::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Add a new current key to the key file and re-seal every stored token with it.
    /// Older keys stay in the file; remove them by hand once no instance needs them.
    Rotate,
}

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an admin (and the organization, when it does not exist yet).
    Create(AdminCreate),
}

#[derive(Args)]
pub struct AdminCreate {
    /// Organization name; its slug is derived from it unless --slug is given.
    #[arg(long)]
    org: String,
    #[arg(long)]
    slug: Option<String>,
    #[arg(long)]
    email: String,
    /// Display name (default: the part of the email before '@').
    #[arg(long)]
    name: Option<String>,
    /// Read the password from this file instead of prompting.
    #[arg(long)]
    password_file: Option<PathBuf>,
    #[arg(long, default_value = "UTC")]
    time_zone: String,
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create an API key acting as the given user; prints the key alone on stdout.
    Create {
        /// Organization slug.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("CONVENE_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { listen } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            init_tracing(&config);
            let app = Application::build(&config).await?;
            tracing::info!(?config, "starting");
            println!(
                "Convene is running at {}/ (mail: {})",
                app.url(),
                app.app.mailer.kind()
            );
            app.run_until(startup::shutdown_signal()).await
        }
        Command::Migrate => {
            init_tracing(&config);
            startup::open_store(&config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::Create(a),
        } => admin_create(&config, a).await,
        Command::ApiKey {
            command: ApiKeyCommand::Create { org, email, name },
        } => {
            let app = cli_app(&config).await?;
            let key = app
                .create_api_key_for(&org, &email, &name)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", key.key);
            Ok(())
        }
        Command::Key {
            command: KeyCommand::Rotate,
        } => {
            startup::open_store(&config).await?;
            let rotated = convene_app::secrets::SecretBox::rotate_key_file(&config.key_file())?;
            let id = rotated.current_key_id().to_string();
            let app = cli_app(&config).await?;
            let n = app
                .reseal_tokens()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("new key {id} is current; re-sealed {n} stored tokens");
            Ok(())
        }
        Command::Bench { command } => crate::bench::run(command).await,
        Command::Demo => {
            init_tracing(&config);
            crate::demo::run(&config).await
        }
    }
}

/// The use cases without the HTTP server, for one-shot commands.
async fn cli_app(config: &Config) -> anyhow::Result<convene_app::App> {
    let store = startup::open_store(config).await?;
    std::fs::create_dir_all(&config.data_dir)?;
    let secrets = convene_app::secrets::SecretBox::load_or_create(&config.key_file())?;
    let base = config
        .base_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", config.listen));
    let clock: std::sync::Arc<dyn convene_app::Clock> =
        std::sync::Arc::new(convene_app::SystemClock);
    let (zoom, _, zoom_webhook_secret) = startup::zoom(config, &base, clock.clone())?;
    let mut settings = convene_app::AppSettings::defaults(&base);
    settings.zoom_webhook_secret = zoom_webhook_secret;
    Ok(convene_app::App::new(
        store,
        settings,
        clock.clone(),
        startup::mailer(config)?,
        secrets,
        convene_app::connections::Providers {
            zoom,
            google: startup::google(config, &base, clock.clone())?.0,
            microsoft: startup::microsoft(config, &base, clock.clone())?.0,
            caldav: startup::caldav(clock.clone())?,
        },
    ))
}

async fn admin_create(config: &Config, a: AdminCreate) -> anyhow::Result<()> {
    let email = Email::parse(&a.email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let name = a.name.unwrap_or_else(|| {
        email
            .as_str()
            .split('@')
            .next()
            .unwrap_or("Admin")
            .to_string()
    });
    let password = match &a.password_file {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .trim_end_matches(['\n', '\r'])
            .to_string(),
        None => {
            let p = rpassword::prompt_password("Password for the new admin: ")
                .context("reading the password")?;
            let again = rpassword::prompt_password("Repeat the password: ")
                .context("reading the password")?;
            anyhow::ensure!(p == again, "the passwords do not match");
            p
        }
    };
    let admin = NewAdmin {
        org_name: OrgName::parse(&a.org).map_err(|e| anyhow::anyhow!("--org: {e}"))?,
        org_slug: a
            .slug
            .as_deref()
            .map(OrgSlug::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--slug: {e}"))?,
        email,
        name: PersonName::parse(&name).map_err(|e| anyhow::anyhow!("--name: {e}"))?,
        password: Password::parse(&password).map_err(|e| anyhow::anyhow!("password: {e}"))?,
        time_zone: TimeZoneName::parse(&a.time_zone)
            .map_err(|e| anyhow::anyhow!("--time-zone: {e}"))?,
    };
    let app = cli_app(config).await?;
    let (org, user) = app
        .create_admin(admin)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "created admin {} in organization {} (slug: {})",
        user.email, org.name, org.slug
    );
    Ok(())
}
