//! Building and running the application. `main` and the tests share this path: tests
//! listen on port 0 and read the real port back, so nothing sleeps waiting for a port.

use crate::config::Config;
use anyhow::Context;
use convene_app::mail::{Mailer, SmtpSecurity, SmtpSettings};
use convene_app::passwords::HashCost;
use convene_app::secrets::SecretBox;
use convene_app::{App, AppSettings, Clock, SystemClock};
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
        settings.job_poll_interval = Duration::from_millis(config.jobs.poll_interval_ms.max(10));
        settings.password_hash = o.password_hash;
        let secure_cookies = base_url.starts_with("https://");
        let app = App::new(store, settings, o.clock, mailer(config)?, secrets);
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
        let router = convene_web::router(self.state);
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
