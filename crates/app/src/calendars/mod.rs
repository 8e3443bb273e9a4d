//! Calendars (SPEC §4): Google and Microsoft 365 through OAuth (the connection
//! framework of [`crate::connections`]), CalDAV with an app password. Busy times feed
//! availability ([`busy`]); booked meetings are written as events ([`events`]).
//!
//! A user may connect one account per provider, each with several calendars; they
//! choose which calendars count for conflicts and which one receives meetings.

pub mod busy;
pub mod events;

use crate::actor::Actor;
use crate::connections::tokens::TokenError;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, App};
use convene_domain::schedule::Interval;
use convene_domain::{Permission, UserId};
use convene_providers::caldav::CalDavCredentials;
use convene_providers::calendar::{BusyTime, CalendarAccount, CalendarInfo};
use convene_providers::{ProviderError, Secret};
use convene_store::{CalendarRow, ConnectionRow, ListedCalendar, NewConnection};
use serde::{Deserialize, Serialize};

pub const GOOGLE: &str = "google";
pub const MICROSOFT: &str = "microsoft";
pub const CALDAV: &str = "caldav";
pub const CALENDAR: &str = "calendar";

/// What a person sees of a calendar connection.
#[derive(Debug, Clone)]
pub struct CalendarConnectionView {
    pub connection_id: String,
    pub provider: String,
    pub status: String,
    pub account: Option<String>,
    pub server_url: Option<String>,
    pub read_error: Option<String>,
    pub calendars: Vec<CalendarRow>,
}

/// A CalDAV user name and app password, sealed together like an OAuth token.
#[derive(Serialize, Deserialize)]
struct SealedCalDav {
    username: String,
    password: String,
}

pub fn provider_label(provider: &str) -> &'static str {
    match provider {
        GOOGLE => "Google Calendar",
        MICROSOFT => "Microsoft 365 / Outlook",
        CALDAV => "CalDAV",
        _ => "Calendar",
    }
}

fn listed(cals: Vec<CalendarInfo>) -> Vec<ListedCalendar> {
    cals.into_iter()
        .map(|c| ListedCalendar {
            calendar_id: c.id,
            name: c.name,
            is_primary: c.primary,
            writable: c.writable,
        })
        .collect()
}

fn to_intervals(busy: Vec<BusyTime>) -> Vec<Interval> {
    busy.into_iter()
        .filter_map(|b| Interval::new(b.start, b.end))
        .collect()
}

/// Words for a failed read, for the user's "needs action" reason.
fn read_error(provider: &str, e: &TokenError) -> String {
    let what = provider_label(provider);
    match e {
        TokenError::NeedsReauth | TokenError::Revoked => {
            format!("{what}: the connection must be reconnected")
        }
        TokenError::NotConnected => format!("{what}: not connected"),
        TokenError::Provider(p) => format!("{what}: {p}"),
        TokenError::Unexpected(e) => format!("{what}: {e}"),
    }
}

impl App {
    fn may_manage_calendars(actor: &Actor, user: UserId) -> AppResult<()> {
        if user == actor.user_id || actor.can(Permission::ManageUsers) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "manage another user's calendars".into(),
            ))
        }
    }

    /// The user's calendar connections and their calendars.
    pub async fn calendar_connections(
        &self,
        actor: &Actor,
        user: UserId,
    ) -> AppResult<Vec<CalendarConnectionView>> {
        Self::may_manage_calendars(actor, user)?;
        let mut tx = self.store.read().await?;
        tx.user(actor.org_id, user).await.or_not_found("user")?;
        let calendars = tx.calendars_of_user(user).await?;
        Ok(tx
            .connections_of_user(user)
            .await?
            .into_iter()
            .filter(|c| c.purpose == CALENDAR)
            .map(|c| CalendarConnectionView {
                calendars: calendars
                    .iter()
                    .filter(|k| k.connection_id == c.id)
                    .cloned()
                    .collect(),
                connection_id: c.id,
                provider: c.provider,
                status: c.status,
                account: c.external_email.or(c.display_name),
                server_url: c.server_url,
                read_error: c.read_error,
            })
            .collect())
    }

    /// Adds a CalDAV calendar account: discovers the server's calendars with the
    /// credentials, then stores them sealed. Nothing is stored if discovery fails.
    pub async fn connect_caldav(
        &self,
        actor: &Actor,
        server_url: &str,
        username: &str,
        password: &str,
    ) -> AppResult<CalendarConnectionView> {
        let url = url::Url::parse(server_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
            .ok_or_else(|| {
                AppError::invalid(
                    "server_url",
                    "the server URL must be an http(s) URL such as https://caldav.example.com/",
                )
            })?;
        let username = username.trim();
        if username.is_empty()
            || username.len() > 200
            || password.is_empty()
            || password.len() > 500
        {
            return Err(AppError::invalid(
                "username",
                "enter the user name and app password of the CalDAV account",
            ));
        }
        let creds = CalDavCredentials {
            server_url: url.clone(),
            username: username.to_string(),
            password: Secret::new(password.to_string()),
        };
        let (account, calendars) = self
            .providers
            .caldav
            .discover(&creds)
            .await
            .map_err(|e| AppError::invalid("server_url", format!("CalDAV: {e}")))?;
        if calendars.is_empty() {
            return Err(AppError::invalid(
                "server_url",
                "the account has no calendars that can hold events",
            ));
        }
        let sealed = serde_json::to_string(&SealedCalDav {
            username: username.to_string(),
            password: password.to_string(),
        })
        .map_err(|e| AppError::Unexpected(e.into()))?;
        let sealed = self.seal(&Secret::new(sealed))?;
        self.save_calendar_connection(
            actor,
            CALDAV,
            account,
            calendars,
            sealed,
            None,
            None,
            Some(url.to_string()),
        )
        .await
    }

    /// Stores a calendar connection and its calendars (after OAuth or CalDAV discovery).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn save_calendar_connection(
        &self,
        actor: &Actor,
        provider: &str,
        account: CalendarAccount,
        calendars: Vec<CalendarInfo>,
        access_sealed: String,
        refresh_token: Option<String>,
        expires_at: Option<jiff::Timestamp>,
        server_url: Option<String>,
    ) -> AppResult<CalendarConnectionView> {
        let now = self.now();
        let mut tx = self.store.write().await?;
        let expires = match expires_at {
            Some(at) => at,
            // CalDAV credentials do not expire.
            None => now
                .saturating_add(jiff::SignedDuration::from_hours(24 * 365 * 10))
                .map_err(|e| AppError::Unexpected(e.into()))?,
        };
        let saved = tx
            .save_connection(
                &NewConnection {
                    org_id: actor.org_id,
                    user_id: actor.user_id,
                    provider: provider.to_string(),
                    purpose: CALENDAR.to_string(),
                    external_account_id: account.id.clone(),
                    external_org_id: None,
                    external_email: Some(account.email.clone()),
                    display_name: Some(account.display_name.clone()),
                    scopes: None,
                    access_token: access_sealed,
                    refresh_token,
                    access_expires_at: expires,
                    server_url,
                },
                now,
            )
            .await
            .map_err(|e| match e {
                convene_store::StoreError::Conflict(_) => AppError::Conflict {
                    code: "account_already_connected",
                    message: format!(
                        "{} is already connected to another Convene user; disconnect it there first",
                        account.email
                    ),
                },
                other => other.into(),
            })?;
        tx.replace_calendars(actor.user_id, &saved.id, &listed(calendars))
            .await?;
        audit::record(
            &mut tx,
            actor,
            "calendar.connected",
            audit::Target {
                kind: "connection",
                id: Some(saved.id.clone()),
                label: &account.email,
            },
            serde_json::json!({"provider": provider}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.busy_cache.invalidate(actor.user_id);
        let mut views = self.calendar_connections(actor, actor.user_id).await?;
        views.retain(|v| v.connection_id == saved.id);
        views.pop().ok_or(AppError::NotFound("connection"))
    }

    /// Chooses whether a calendar counts for conflicts and whether it receives meetings.
    pub async fn choose_calendar(
        &self,
        actor: &Actor,
        user: UserId,
        connection_id: &str,
        calendar_id: &str,
        check_conflicts: bool,
        write_target: bool,
    ) -> AppResult<()> {
        Self::may_manage_calendars(actor, user)?;
        let mut tx = self.store.write().await?;
        tx.user(actor.org_id, user).await.or_not_found("user")?;
        let calendars = tx.calendars_of_user(user).await?;
        let cal = calendars
            .iter()
            .find(|c| c.connection_id == connection_id && c.calendar_id == calendar_id)
            .ok_or(AppError::NotFound("calendar"))?;
        if write_target && !cal.writable {
            return Err(AppError::invalid(
                "write_target",
                format!(
                    "Convene cannot write to '{}'; choose a calendar you can edit",
                    cal.name
                ),
            ));
        }
        tx.set_calendar_choice(
            user,
            connection_id,
            calendar_id,
            check_conflicts,
            write_target,
        )
        .await?;
        tx.commit().await?;
        self.busy_cache.invalidate(user);
        Ok(())
    }

    /// Disconnects a calendar account: revoked at the provider where it offers that,
    /// then its credentials deleted. Events already written stay in the calendar.
    pub async fn disconnect_calendar(
        &self,
        actor: &Actor,
        user: UserId,
        provider: &str,
    ) -> AppResult<()> {
        Self::may_manage_calendars(actor, user)?;
        let row = {
            let mut tx = self.store.read().await?;
            tx.user(actor.org_id, user).await.or_not_found("user")?;
            tx.connection(user, provider, CALENDAR)
                .await?
                .ok_or(AppError::NotFound("calendar connection"))?
        };
        let revoke_error = self
            .revoke_sealed(
                provider,
                row.refresh_token.as_deref().or(row.access_token.as_deref()),
            )
            .await
            .err();
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.delete_connection(&row.id)
            .await
            .or_not_found("connection")?;
        tx.recompute_action_reasons(user).await?;
        audit::record(
            &mut tx,
            actor,
            "calendar.disconnected",
            audit::Target {
                kind: "connection",
                id: Some(row.id.clone()),
                label: row.external_email.as_deref().unwrap_or(provider),
            },
            serde_json::json!({"provider": provider, "revoke_error": revoke_error}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.busy_cache.invalidate(user);
        if let Err(e) = self.store.purge_deleted().await {
            tracing::warn!(error = %e, "could not checkpoint the database after deleting credentials");
        }
        Ok(())
    }

    /// A host's busy times for a window, for admins (and the host).
    pub async fn host_busy(
        &self,
        actor: &Actor,
        user: UserId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> AppResult<Vec<Interval>> {
        if user != actor.user_id
            && !actor.can(Permission::ManageUsers)
            && !actor.can(Permission::ViewAllMeetings)
        {
            return Err(AppError::Forbidden("read another user's busy times".into()));
        }
        self.store
            .read()
            .await?
            .user(actor.org_id, user)
            .await
            .or_not_found("user")?;
        crate::scheduling::slots::parse_range(from, to)?;
        match self.fresh_busy(&[user], from, to).await.remove(&user) {
            Some(Ok(busy)) => Ok(busy
                .into_iter()
                .filter(|b| b.start < to && b.end > from)
                .collect()),
            Some(Err(e)) => Err(AppError::Conflict {
                code: "calendar_unreadable",
                message: e,
            }),
            None => Ok(Vec::new()),
        }
    }

    /// Reads every conflict calendar of `user` over [from, to); an error if any
    /// connected calendar cannot be read. Records the outcome on each connection.
    pub(crate) async fn read_calendars(
        &self,
        user: UserId,
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> busy::BusyResult {
        let loaded = async {
            let mut tx = self.store.read().await?;
            let conns: Vec<ConnectionRow> = tx
                .connections_of_user(user)
                .await?
                .into_iter()
                .filter(|c| c.purpose == CALENDAR)
                .collect();
            let cals = tx.calendars_of_user(user).await?;
            Ok::<_, convene_store::StoreError>((conns, cals))
        }
        .await;
        let (conns, cals) = loaded.map_err(|e| format!("reading calendar settings: {e}"))?;
        let mut all = Vec::new();
        let mut first_error = None;
        for conn in conns {
            let ids: Vec<String> = cals
                .iter()
                .filter(|c| c.connection_id == conn.id && c.check_conflicts)
                .map(|c| c.calendar_id.clone())
                .collect();
            let result = if conn.status != "active" {
                Err(format!(
                    "{}: the connection must be reconnected",
                    provider_label(&conn.provider)
                ))
            } else if ids.is_empty() {
                Ok(Vec::new())
            } else {
                self.provider_busy(&conn, &ids, from, to).await
            };
            let error = result.as_ref().err().cloned();
            if error != conn.read_error {
                let now = self.now();
                let recorded = async {
                    let mut tx = self.store.write().await?;
                    tx.record_read(&conn.id, error.as_deref(), now).await?;
                    tx.commit().await
                }
                .await;
                if let Err(e) = recorded {
                    tracing::warn!(error = %e, "could not record a calendar read");
                }
                if let Some(e) = &error {
                    tracing::warn!(user = %user, provider = %conn.provider, error = %e, "calendar cannot be read");
                }
            }
            match result {
                Ok(busy) => all.extend(busy),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(all),
        }
    }

    async fn provider_busy(
        &self,
        conn: &ConnectionRow,
        ids: &[String],
        from: jiff::Timestamp,
        to: jiff::Timestamp,
    ) -> busy::BusyResult {
        let result =
            match conn.provider.as_str() {
                GOOGLE => {
                    let client = &self.providers.google;
                    self.with_access_token(&conn.id, |t| async move {
                        client.busy(&t, ids, from, to).await
                    })
                    .await
                }
                MICROSOFT => {
                    let client = &self.providers.microsoft;
                    self.with_access_token(&conn.id, |t| async move {
                        client.busy(&t, ids, from, to).await
                    })
                    .await
                }
                CALDAV => match self.caldav_credentials(conn) {
                    Ok(creds) => self
                        .providers
                        .caldav
                        .busy(&creds, ids, from, to)
                        .await
                        .map_err(TokenError::Provider),
                    Err(e) => Err(TokenError::Unexpected(e)),
                },
                other => Err(TokenError::Provider(ProviderError::Rejected {
                    status: 0,
                    code: "unknown_provider".into(),
                    message: format!("no calendar adapter for {other}"),
                })),
            };
        result
            .map(to_intervals)
            .map_err(|e| read_error(&conn.provider, &e))
    }

    pub(crate) fn caldav_credentials(
        &self,
        conn: &ConnectionRow,
    ) -> anyhow::Result<CalDavCredentials> {
        let sealed = conn
            .access_token
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("the CalDAV connection has no credentials"))?;
        let creds: SealedCalDav = serde_json::from_str(self.open_secret(sealed)?.expose())?;
        let server_url = conn
            .server_url
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("the CalDAV connection has no server URL"))?;
        Ok(CalDavCredentials {
            server_url: url::Url::parse(server_url)?,
            username: creds.username,
            password: Secret::new(creds.password),
        })
    }
}
