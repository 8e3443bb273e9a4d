//! Building and running the application. `main` and the tests share this path: tests
//! listen on port 0 and read the real port back, so nothing sleeps waiting for a port.

use crate::config::Config;
use anyhow::Context;
use convene_app::connections::Providers;
use convene_app::mail::{Mailer, SmtpSecurity, SmtpSettings};
use convene_app::passwords::HashCost;
use convene_app::secrets::SecretBox;
use convene_app::{App, AppSettings, Clock, SystemClock};
use convene_providers::caldav::CalDavClient;
use convene_providers::google::{GoogleClient, GoogleConfig};
use convene_providers::http::{HttpClient, HttpConfig};
use convene_providers::microsoft::{MicrosoftClient, MicrosoftConfig};
use convene_providers::zoom::{ZoomClient, ZoomConfig};
use convene_providers::Secret;
use convene_sandbox::{
    GoogleSandbox, GoogleSandboxConfig, MicrosoftSandbox, MicrosoftSandboxConfig, ZoomSandbox,
    ZoomSandboxConfig,
};
use convene_store::Store;
use convene_web::AppState;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What tests may change about a built application.
pub struct Overrides {
    pub clock: Arc<dyn Clock>,
    pub password_hash: HashCost,
}

impl Default for Overrides {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            password_hash: HashCost::Standard,
        }
    }
}

pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    pub app: App,
    state: AppState,
    workers: usize,
    /// The built-in Zoom sandbox, when no real Zoom app is configured.
    pub zoom_sandbox: Option<ZoomSandbox>,
    /// The built-in Google and Microsoft sandboxes, when not configured for real.
    pub google_sandbox: Option<GoogleSandbox>,
    pub microsoft_sandbox: Option<MicrosoftSandbox>,
}

/// The fixed credentials of the built-in sandbox's Convene app. They only ever travel
/// between this server and itself.
pub const SANDBOX_ZOOM_CLIENT_ID: &str = "convene-sandbox-zoom";
pub const SANDBOX_ZOOM_CLIENT_SECRET: &str = "convene-sandbox-zoom-secret";
pub const SANDBOX_ZOOM_WEBHOOK_SECRET: &str = "convene-sandbox-zoom-webhook-secret";

/// The Zoom client (real or sandbox) and, in sandbox mode, the sandbox itself.
pub fn zoom(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(ZoomClient, Option<ZoomSandbox>, Secret)> {
    let z = &config.providers.zoom;
    let http = HttpClient::new(HttpConfig::default())
        .map_err(|e| anyhow::anyhow!("starting the HTTP client: {e}"))?
        .with_clock(move || clock.now());
    let redirect_uri = format!("{base_url}/oauth/zoom/callback");
    if z.is_real() {
        let webhook_secret = Secret::new(z.webhook_secret.clone().unwrap_or_default());
        let cfg = ZoomConfig {
            client_id: z.client_id.clone().unwrap_or_default(),
            client_secret: Secret::new(
                z.client_secret
                    .clone()
                    .context("providers.zoom.client_secret is required with client_id")?,
            ),
            oauth_base_url: z
                .oauth_base_url
                .clone()
                .unwrap_or_else(|| "https://zoom.us".into()),
            api_base_url: z
                .api_base_url
                .clone()
                .unwrap_or_else(|| "https://api.zoom.us".into()),
            redirect_uri,
            webhook_secret: webhook_secret.clone(),
        };
        return Ok((ZoomClient::new(cfg, http), None, webhook_secret));
    }
    let sandbox_base = format!("{base_url}/sandbox/zoom");
    let sandbox = ZoomSandbox::new(ZoomSandboxConfig {
        client_id: SANDBOX_ZOOM_CLIENT_ID.into(),
        client_secret: SANDBOX_ZOOM_CLIENT_SECRET.into(),
        webhook_url: format!("{base_url}/webhooks/zoom"),
        webhook_secret: SANDBOX_ZOOM_WEBHOOK_SECRET.into(),
        access_token_ttl: Duration::from_secs(z.sandbox_token_ttl_secs.max(1)),
    });
    let webhook_secret = Secret::new(SANDBOX_ZOOM_WEBHOOK_SECRET.into());
    let cfg = ZoomConfig {
        client_id: SANDBOX_ZOOM_CLIENT_ID.into(),
        client_secret: Secret::new(SANDBOX_ZOOM_CLIENT_SECRET.into()),
        oauth_base_url: z
            .oauth_base_url
            .clone()
            .unwrap_or_else(|| sandbox_base.clone()),
        api_base_url: z.api_base_url.clone().unwrap_or(sandbox_base),
        redirect_uri,
        webhook_secret: webhook_secret.clone(),
    };
    Ok((ZoomClient::new(cfg, http), Some(sandbox), webhook_secret))
}

/// The fixed credentials of the built-in Google and Microsoft sandboxes' Convene app.
pub const SANDBOX_GOOGLE_CLIENT_ID: &str = "convene-sandbox-google";
pub const SANDBOX_GOOGLE_CLIENT_SECRET: &str = "convene-sandbox-google-secret";
pub const SANDBOX_MICROSOFT_CLIENT_ID: &str = "convene-sandbox-microsoft";
pub const SANDBOX_MICROSOFT_CLIENT_SECRET: &str = "convene-sandbox-microsoft-secret";

fn provider_http(clock: Arc<dyn Clock>) -> anyhow::Result<HttpClient> {
    Ok(HttpClient::new(HttpConfig::default())
        .map_err(|e| anyhow::anyhow!("starting the HTTP client: {e}"))?
        .with_clock(move || clock.now()))
}

/// The CalDAV client (servers are per connection, so it needs no configuration).
pub fn caldav(clock: Arc<dyn Clock>) -> anyhow::Result<CalDavClient> {
    Ok(CalDavClient::new(provider_http(clock)?))
}

/// The Google Calendar client (real or sandbox) and, in sandbox mode, the sandbox.
pub fn google(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(GoogleClient, Option<GoogleSandbox>)> {
    let g = &config.providers.google;
    let redirect_uri = format!("{base_url}/oauth/google/callback");
    let http = provider_http(clock)?;
    if let Some(id) = &g.client_id {
        let cfg = GoogleConfig {
            client_id: id.clone(),
            client_secret: Secret::new(
                g.client_secret
                    .clone()
                    .context("providers.google.client_secret is required with client_id")?,
            ),
            oauth_base_url: g
                .oauth_base_url
                .clone()
                .unwrap_or_else(|| "https://accounts.google.com".into()),
            token_base_url: g
                .token_base_url
                .clone()
                .unwrap_or_else(|| "https://oauth2.googleapis.com".into()),
            api_base_url: g
                .api_base_url
                .clone()
                .unwrap_or_else(|| "https://www.googleapis.com".into()),
            redirect_uri,
        };
        return Ok((GoogleClient::new(cfg, http), None));
    }
    let sandbox_base = format!("{base_url}/sandbox/google");
    let sandbox = GoogleSandbox::new(GoogleSandboxConfig {
        client_id: SANDBOX_GOOGLE_CLIENT_ID.into(),
        client_secret: SANDBOX_GOOGLE_CLIENT_SECRET.into(),
        access_token_ttl: Duration::from_secs(g.sandbox_token_ttl_secs.max(1)),
    });
    let base = |o: &Option<String>| o.clone().unwrap_or_else(|| sandbox_base.clone());
    let cfg = GoogleConfig {
        client_id: SANDBOX_GOOGLE_CLIENT_ID.into(),
        client_secret: Secret::new(SANDBOX_GOOGLE_CLIENT_SECRET.into()),
        oauth_base_url: base(&g.oauth_base_url),
        token_base_url: base(&g.token_base_url),
        api_base_url: base(&g.api_base_url),
        redirect_uri,
    };
    Ok((GoogleClient::new(cfg, http), Some(sandbox)))
}

/// The Microsoft client (real or sandbox) and, in sandbox mode, the sandbox.
pub fn microsoft(
    config: &Config,
    base_url: &str,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(MicrosoftClient, Option<MicrosoftSandbox>)> {
    let m = &config.providers.microsoft;
    let redirect_uri = format!("{base_url}/oauth/microsoft/callback");
    let http = provider_http(clock)?;
    if let Some(id) = &m.client_id {
        let cfg = MicrosoftConfig {
            client_id: id.clone(),
            client_secret: Secret::new(
                m.client_secret
                    .clone()
                    .context("providers.microsoft.client_secret is required with client_id")?,
            ),
            tenant: m.tenant.clone(),
            login_base_url: m
                .login_base_url
                .clone()
                .unwrap_or_else(|| "https://login.microsoftonline.com".into()),
            graph_base_url: m
                .graph_base_url
                .clone()
                .unwrap_or_else(|| "https://graph.microsoft.com".into()),
            redirect_uri,
        };
        return Ok((MicrosoftClient::new(cfg, http), None));
    }
    let sandbox_base = format!("{base_url}/sandbox/microsoft");
    let sandbox = MicrosoftSandbox::new(MicrosoftSandboxConfig {
        client_id: SANDBOX_MICROSOFT_CLIENT_ID.into(),
        client_secret: SANDBOX_MICROSOFT_CLIENT_SECRET.into(),
        access_token_ttl: Duration::from_secs(m.sandbox_token_ttl_secs.max(1)),
    });
    let cfg = MicrosoftConfig {
        client_id: SANDBOX_MICROSOFT_CLIENT_ID.into(),
        client_secret: Secret::new(SANDBOX_MICROSOFT_CLIENT_SECRET.into()),
        tenant: m.tenant.clone(),
        login_base_url: m
            .login_base_url
            .clone()
            .unwrap_or_else(|| sandbox_base.clone()),
        graph_base_url: m.graph_base_url.clone().unwrap_or(sandbox_base),
        redirect_uri,
    };
    Ok((MicrosoftClient::new(cfg, http), Some(sandbox)))
}

/// The process-wide metrics recorder (a recorder can be installed only once).
fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| match PrometheusBuilder::new().install_recorder() {
            Ok(h) => Some(h),
            Err(e) => {
                tracing::warn!(error = %e, "metrics recorder not installed");
                None
            }
        })
        .clone()
}

/// Opens the database (creating the data folder for SQLite) and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    if config.uses_sqlite() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating the data folder {}", config.data_dir.display()))?;
    }
    Store::connect(&config.database_url(), config.database_max_connections)
        .await
        .context("opening the database")
}

pub fn mailer(config: &Config) -> anyhow::Result<Mailer> {
    match &config.mail.smtp {
        None => Ok(Mailer::Outbox),
        Some(s) => {
            let security = match s.security.as_str() {
                "none" => SmtpSecurity::None,
                "starttls" => SmtpSecurity::StartTls,
                "tls" => SmtpSecurity::Tls,
                other => {
                    anyhow::bail!("mail.smtp.security must be none, starttls or tls, not '{other}'")
                }
            };
            Mailer::smtp(
                &SmtpSettings {
                    host: s.host.clone(),
                    port: s.port,
                    security,
                    username: s.username.clone(),
                    password: s.password.clone(),
                },
                &config.mail.from,
            )
        }
    }
}

impl Application {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        Self::build_with(config, Overrides::default()).await
    }

    pub async fn build_with(config: &Config, o: Overrides) -> anyhow::Result<Self> {
        let store = open_store(config).await?;
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let secrets = SecretBox::load_or_create(&config.key_file())?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let addr = listener.local_addr()?;
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let mut settings = AppSettings::defaults(&base_url);
        settings.invite_ttl = Duration::from_secs(config.invite_ttl_hours * 3600);
        settings.session_idle_ttl = Duration::from_secs(config.session_idle_hours * 3600);
        settings.lock_idle_ttl = Duration::from_secs(config.lock_idle_minutes * 60);
        settings.mail_from = config.mail.from.clone();
        settings.job_workers = config.jobs.workers;
        settings.job_lease = Duration::from_secs(config.job_lease_secs.max(1));
        settings.job_poll_interval = Duration::from_millis(config.jobs.poll_interval_ms.max(10));
        settings.password_hash = o.password_hash;
        let secure_cookies = base_url.starts_with("https://");
        let (zoom_client, zoom_sandbox, zoom_webhook_secret) =
            zoom(config, &base_url, o.clock.clone())?;
        settings.zoom_webhook_secret = zoom_webhook_secret;
        let (google_client, google_sandbox) = google(config, &base_url, o.clock.clone())?;
        let (microsoft_client, microsoft_sandbox) = microsoft(config, &base_url, o.clock.clone())?;
        let providers = Providers {
            zoom: zoom_client,
            google: google_client,
            microsoft: microsoft_client,
            caldav: caldav(o.clock.clone())?,
        };
        let app = App::new(
            store,
            settings,
            o.clock,
            mailer(config)?,
            secrets,
            providers,
        );
        let state = AppState {
            app: app.clone(),
            metrics: metrics_handle(),
            secure_cookies,
            form_limiter: Arc::new(convene_web::rate_limit::RateLimiter::new(
                10,
                Duration::from_secs(60),
            )),
        };
        Ok(Self {
            listener,
            addr,
            app,
            state,
            workers: config.jobs.workers,
            zoom_sandbox,
            google_sandbox,
            microsoft_sandbox,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self) -> String {
        self.app.settings.base_url.clone()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and jobs.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let workers: Vec<JoinHandle<()>> = (0..self.workers)
            .map(|_| {
                tokio::spawn(convene_app::jobs::runner::worker(
                    self.app.clone(),
                    stop_rx.clone(),
                ))
            })
            .collect();
        let mut router = convene_web::router(self.state);
        if let Some(sandbox) = &self.zoom_sandbox {
            router = router.nest("/sandbox/zoom", sandbox.router());
        }
        if let Some(sandbox) = &self.google_sandbox {
            router = router.nest("/sandbox/google", sandbox.router());
        }
        if let Some(sandbox) = &self.microsoft_sandbox {
            router = router.nest("/sandbox/microsoft", sandbox.router());
        }
        axum::serve(self.listener, router.into_make_service())
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        tracing::info!("stopped accepting requests; finishing running jobs");
        let _ = stop_tx.send(true);
        for w in workers {
            let _ = w.await;
        }
        self.app.store.close().await;
        Ok(())
    }

    /// Serves in the background (tests); returns the task handle.
    pub fn spawn(self) -> JoinHandle<anyhow::Result<()>> {
        tokio::spawn(self.run_until(std::future::pending()))
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received");
}
