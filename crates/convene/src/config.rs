//! Configuration: built-in defaults, then a TOML file, then `CONVENE_*` environment
//! variables (`__` separates nested keys: `CONVENE_MAIL__SMTP__HOST`). With nothing
//! configured at all, Convene runs on SQLite in `./convene-data`.

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Where the SQLite database and the encryption key file live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to SQLite in the data folder.
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    /// The public URL of this server, used in emailed links; defaults to `http://<listen>`.
    pub base_url: Option<String>,
    /// `text` (default) or `json`.
    pub log_format: String,
    /// Encryption key file; defaults to `<data_dir>/secret.key`.
    pub key_file: Option<PathBuf>,
    pub invite_ttl_hours: u64,
    pub session_idle_hours: u64,
    pub lock_idle_minutes: u64,
    /// How long a claimed job is a worker's before another worker may run it again
    /// (after a crash). Jobs must finish well within it.
    pub job_lease_secs: u64,
    pub jobs: JobsConfig,
    pub mail: MailConfig,
    pub providers: ProvidersConfig,
}

/// Provider credentials and base URLs. A provider without a `client_id` runs against
/// the built-in sandbox under `/sandbox/...`.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersConfig {
    pub zoom: ZoomProviderConfig,
    pub google: GoogleProviderConfig,
    pub microsoft: MicrosoftProviderConfig,
}

/// Google Calendar (OAuth client of a Google Cloud project).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleProviderConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `https://accounts.google.com` (the consent page).
    pub oauth_base_url: Option<String>,
    /// `https://oauth2.googleapis.com` (token and revoke).
    pub token_base_url: Option<String>,
    /// `https://www.googleapis.com` (Calendar API and userinfo).
    pub api_base_url: Option<String>,
    /// Sandbox only: access-token lifetime in seconds.
    pub sandbox_token_ttl_secs: u64,
}

impl Default for GoogleProviderConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            oauth_base_url: None,
            token_base_url: None,
            api_base_url: None,
            sandbox_token_ttl_secs: 3599,
        }
    }
}

/// Microsoft identity platform + Graph (an Entra app registration).
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MicrosoftProviderConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// `common`, `organizations` or a tenant id.
    pub tenant: String,
    /// `https://login.microsoftonline.com`.
    pub login_base_url: Option<String>,
    /// `https://graph.microsoft.com`.
    pub graph_base_url: Option<String>,
    /// Sandbox only: access-token lifetime in seconds.
    pub sandbox_token_ttl_secs: u64,
}

impl Default for MicrosoftProviderConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            tenant: "common".into(),
            login_base_url: None,
            graph_base_url: None,
            sandbox_token_ttl_secs: 3599,
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoomProviderConfig {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Where `/oauth/authorize|token|revoke` live (`https://zoom.us`).
    pub oauth_base_url: Option<String>,
    /// Where `/v2/...` lives (`https://api.zoom.us`).
    pub api_base_url: Option<String>,
    /// The app's webhook secret token (Zoom Marketplace → Feature → Secret Token).
    pub webhook_secret: Option<String>,
    /// Sandbox only: access-token lifetime in seconds (Zoom: 3599).
    pub sandbox_token_ttl_secs: u64,
}

impl Default for ZoomProviderConfig {
    fn default() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            oauth_base_url: None,
            api_base_url: None,
            webhook_secret: None,
            sandbox_token_ttl_secs: 3599,
        }
    }
}

impl ZoomProviderConfig {
    /// Real Zoom credentials were configured (else the sandbox is used).
    pub fn is_real(&self) -> bool {
        self.client_id.as_deref().is_some_and(|c| !c.is_empty())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsConfig {
    pub workers: usize,
    pub poll_interval_ms: u64,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub from: String,
    pub smtp: Option<SmtpConfig>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// `none`, `starttls` (default) or `tls`.
    #[serde(default = "default_security")]
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

fn default_security() -> String {
    "starttls".into()
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The database URL may hold a password.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database",
                &self
                    .database_url
                    .as_ref()
                    .map(|u| u.split(':').next().unwrap_or("?")),
            )
            .field("base_url", &self.base_url)
            .field("jobs", &self.jobs)
            .field(
                "smtp",
                &self
                    .mail
                    .smtp
                    .as_ref()
                    .map(|s| format!("{}:{}", s.host, s.port)),
            )
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("convene-data"),
            database_url: None,
            database_max_connections: 16,
            base_url: None,
            log_format: "text".into(),
            key_file: None,
            invite_ttl_hours: 7 * 24,
            session_idle_hours: 7 * 24,
            lock_idle_minutes: 10,
            job_lease_secs: 300,
            jobs: JobsConfig {
                workers: 2,
                poll_interval_ms: 500,
            },
            mail: MailConfig {
                from: "Convene <no-reply@convene.localhost>".into(),
                smtp: None,
            },
            providers: ProvidersConfig::default(),
        }
    }
}

impl Config {
    /// Defaults ← `file` (or `CONVENE_CONFIG`, or `./convene.toml` when present) ← env.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("CONVENE_CONFIG").map(PathBuf::from))
            .or_else(|| {
                Path::new("convene.toml")
                    .exists()
                    .then(|| PathBuf::from("convene.toml"))
            });
        if let Some(f) = &file {
            anyhow::ensure!(
                f.exists(),
                "the configuration file {} does not exist",
                f.display()
            );
            fig = fig.merge(Toml::file(f));
        }
        // These CONVENE_* variables belong to the CLI, the log filter, the test suites and
        // the crash tests' failpoint.
        fig = fig.merge(Env::prefixed("CONVENE_").split("__").ignore(&[
            "config",
            "log",
            "test_postgres",
            "browser_tests",
            "failpoint",
            "caldav_tests",
        ]));
        fig.extract().context("reading the configuration")
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("convene.db").display()
            )
        })
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    pub fn uses_sqlite(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }
}
