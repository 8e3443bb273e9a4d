//! Connecting a provider account with the OAuth 2.0 authorization-code flow: a `state`
//! bound to the signed-in session (single use, short-lived, stored hashed) and PKCE.
//! The callback binds the provider account to the Convene **user id**.

use super::{ConnectionView, CONFERENCING, ZOOM};
use crate::actor::Actor;
use crate::calendars::{CALENDAR, GOOGLE, MICROSOFT};
use crate::error::{AppError, AppResult};
use crate::{audit, tokens, App};
use convene_domain::MeetingLocationKind;
use convene_providers::{Pkce, ProviderError, Secret};
use convene_store::{NewConnection, OAuthStateRow, StoreError};
use jiff::SignedDuration;

const STATE_TTL: SignedDuration = SignedDuration::from_secs(10 * 60);

/// What the provider sent to the callback.
#[derive(Debug, Clone, Default)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Why a connection attempt did not complete; each has its own explanatory page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The user declined to authorize.
    Denied {
        description: Option<String>,
    },
    /// The provider account's admin must approve the app first.
    ApprovalRequired {
        description: Option<String>,
    },
    /// Another error from the provider's authorization page.
    ProviderRefused {
        error: String,
        description: Option<String>,
    },
    /// Microsoft `AADSTS65001` / `AADSTS90094`: the tenant admin must consent first.
    AdminConsentRequired {
        description: Option<String>,
    },
    MissingState,
    UnknownState,
    ReusedState,
    ExpiredState,
    /// The state was issued to another browser session.
    WrongSession,
    MissingCode,
    /// The provider rejected the code (expired, used, or forged).
    BadCode(String),
    /// The provider account is bound to another Convene user.
    AlreadyBound {
        same_org: bool,
        holder: Option<String>,
        account: String,
    },
    ProviderUnavailable(String),
}

impl App {
    /// Starts "Connect with Zoom": returns the provider's authorization URL.
    pub async fn start_connect(
        &self,
        actor: &Actor,
        session_token: &str,
        provider: &str,
    ) -> AppResult<String> {
        let purpose = match provider {
            ZOOM => CONFERENCING,
            GOOGLE | MICROSOFT => CALENDAR,
            _ => return Err(AppError::NotFound("provider")),
        };
        let pkce = Pkce::generate();
        let state = tokens::new_token();
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.delete_expired_oauth_states(now).await?;
        tx.insert_oauth_state(
            &tokens::hash_token(&state),
            &OAuthStateRow {
                org_id: actor.org_id,
                user_id: actor.user_id,
                session_hash: tokens::hash_token(session_token),
                provider: provider.to_string(),
                purpose: purpose.to_string(),
                pkce_verifier: self.seal(&pkce.verifier)?,
                expires_at: now
                    .saturating_add(STATE_TTL)
                    .map_err(|e| AppError::Unexpected(e.into()))?,
                used_at: None,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(match provider {
            GOOGLE => self.providers.google.authorize_url(&state, &pkce),
            MICROSOFT => self.providers.microsoft.authorize_url(&state, &pkce),
            _ => self.providers.zoom.authorize_url(&state, &pkce),
        })
    }

    /// Completes a connection from the provider's callback. Nothing is stored unless
    /// every check passes.
    pub async fn finish_connect(
        &self,
        session: Option<(&Actor, &str)>,
        cb: Callback,
    ) -> Result<ConnectionView, ConnectFailure> {
        let unexpected = |e: &dyn std::fmt::Display| {
            ConnectFailure::ProviderUnavailable(format!("internal error: {e}"))
        };
        // The state is consumed first, even on an error callback, so it cannot be replayed.
        let state = cb
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 200);
        let pending = match state {
            None => None,
            Some(s) => {
                let now = self.now();
                let mut tx = self.store.write().await.map_err(|e| unexpected(&e))?;
                let found = tx.consume_oauth_state(&tokens::hash_token(s), now).await;
                tx.commit().await.map_err(|e| unexpected(&e))?;
                match found {
                    Ok(row) => Some(row),
                    Err(StoreError::NotFound) => return Err(ConnectFailure::UnknownState),
                    Err(e) => return Err(unexpected(&e)),
                }
            }
        };
        if let Some(error) = cb.error.as_deref() {
            let description = cb.error_description.clone();
            let lower = description.as_deref().unwrap_or("").to_lowercase();
            let microsoft = pending.as_ref().is_some_and(|p| p.provider == MICROSOFT);
            if microsoft {
                use convene_providers::microsoft::{parse_consent_error, ConsentError};
                match parse_consent_error(error, description.as_deref()) {
                    ConsentError::AdminConsentRequired | ConsentError::AdminApprovalRequired => {
                        return Err(ConnectFailure::AdminConsentRequired { description });
                    }
                    ConsentError::Denied => return Err(ConnectFailure::Denied { description }),
                    _ => {}
                }
            }
            return Err(
                if lower.contains("approv") || error == "unauthorized_client" {
                    ConnectFailure::ApprovalRequired { description }
                } else if error == "access_denied" {
                    ConnectFailure::Denied { description }
                } else {
                    ConnectFailure::ProviderRefused {
                        error: error.chars().take(100).collect(),
                        description,
                    }
                },
            );
        }
        let pending = pending.ok_or(ConnectFailure::MissingState)?;
        if pending.used_at.is_some() {
            return Err(ConnectFailure::ReusedState);
        }
        if pending.expires_at <= self.now() {
            return Err(ConnectFailure::ExpiredState);
        }
        let Some((actor, session_token)) = session else {
            return Err(ConnectFailure::WrongSession);
        };
        if !tokens::constant_time_eq(&pending.session_hash, &tokens::hash_token(session_token))
            || pending.user_id != actor.user_id
        {
            return Err(ConnectFailure::WrongSession);
        }
        let code = cb
            .code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 2000)
            .ok_or(ConnectFailure::MissingCode)?;
        let verifier = self
            .open_secret(&pending.pkce_verifier)
            .map_err(|e| unexpected(&e))?;
        if pending.purpose == CALENDAR {
            return self
                .finish_calendar_connect(actor, &pending.provider, code, verifier)
                .await;
        }

        let zoom = &self.providers.zoom;
        let set = zoom
            .exchange_code(code, &verifier)
            .await
            .map_err(|e| match e {
                ProviderError::NeedsReauth { reason } => ConnectFailure::BadCode(reason),
                ProviderError::Rejected { message, .. } => ConnectFailure::BadCode(message),
                other => ConnectFailure::ProviderUnavailable(other.to_string()),
            })?;
        let me = zoom
            .me(&set.access_token)
            .await
            .map_err(|e| ConnectFailure::ProviderUnavailable(e.to_string()))?;
        self.bind(actor, &pending.provider, set, me).await
    }

    /// Google or Microsoft: exchange the code, read the account and its calendars, and
    /// store the connection with them.
    async fn finish_calendar_connect(
        &self,
        actor: &Actor,
        provider: &str,
        code: &str,
        verifier: Secret,
    ) -> Result<ConnectionView, ConnectFailure> {
        let unavailable = |e: ProviderError| ConnectFailure::ProviderUnavailable(e.to_string());
        let bad_code = |e: ProviderError| match e {
            ProviderError::NeedsReauth { reason } => ConnectFailure::BadCode(reason),
            ProviderError::Rejected { message, .. } => ConnectFailure::BadCode(message),
            other => ConnectFailure::ProviderUnavailable(other.to_string()),
        };
        let pkce = Pkce::from_verifier(verifier);
        let (set, account, calendars) = match provider {
            GOOGLE => {
                let c = &self.providers.google;
                let set = c.exchange_code(code, &pkce).await.map_err(bad_code)?;
                let account = c.account(&set.access_token).await.map_err(unavailable)?;
                let cals = c.calendars(&set.access_token).await.map_err(unavailable)?;
                (set, account, cals)
            }
            _ => {
                let c = &self.providers.microsoft;
                let set = c.exchange_code(code, &pkce).await.map_err(bad_code)?;
                let account = c.account(&set.access_token).await.map_err(unavailable)?;
                let cals = c.calendars(&set.access_token).await.map_err(unavailable)?;
                (set, account, cals)
            }
        };
        let internal =
            |e: AppError| ConnectFailure::ProviderUnavailable(format!("internal error: {e}"));
        let access = self.seal(&set.access_token).map_err(internal)?;
        let refresh = set
            .refresh_token
            .as_ref()
            .map(|r| self.seal(r))
            .transpose()
            .map_err(internal)?;
        let email = account.email.clone();
        let saved = self
            .save_calendar_connection(
                actor,
                provider,
                account,
                calendars,
                access,
                refresh,
                Some(set.expires_at),
                None,
            )
            .await
            .map_err(|e| match e {
                AppError::Conflict { .. } => ConnectFailure::AlreadyBound {
                    same_org: false,
                    holder: None,
                    account: email.clone(),
                },
                other => internal(other),
            })?;
        let mut tx = self.store.read().await.map_err(|e| internal(e.into()))?;
        let row = tx
            .connection(actor.user_id, provider, CALENDAR)
            .await
            .map_err(|e| internal(e.into()))?
            .ok_or_else(|| internal(AppError::NotFound("connection")))?;
        debug_assert_eq!(row.id, saved.connection_id);
        Ok(ConnectionView::from(&row))
    }

    async fn bind(
        &self,
        actor: &Actor,
        provider: &str,
        set: convene_providers::TokenSet,
        me: convene_providers::zoom::ZoomUser,
    ) -> Result<ConnectionView, ConnectFailure> {
        let unexpected = |e: &dyn std::fmt::Display| {
            ConnectFailure::ProviderUnavailable(format!("internal error: {e}"))
        };
        let now = self.now();
        let access = self.seal(&set.access_token).map_err(|e| unexpected(&e))?;
        let refresh = set
            .refresh_token
            .as_ref()
            .map(|r: &Secret| self.seal(r))
            .transpose()
            .map_err(|e| unexpected(&e))?;
        let mut tx = self.store.write().await.map_err(|e| unexpected(&e))?;
        let bound = tx
            .connection_by_external(provider, &me.id)
            .await
            .map_err(|e| unexpected(&e))?;
        if let Some(b) = bound.filter(|b| b.user_id != actor.user_id) {
            let same_org = b.org_id == actor.org_id;
            let holder = if same_org {
                tx.user(b.org_id, b.user_id)
                    .await
                    .ok()
                    .map(|u| u.display_name().to_string())
            } else {
                None
            };
            return Err(ConnectFailure::AlreadyBound {
                same_org,
                holder,
                account: me.email.clone(),
            });
        }
        let previous = tx
            .connection(actor.user_id, provider, CONFERENCING)
            .await
            .map_err(|e| unexpected(&e))?;
        let replaced = previous.as_ref().filter(|p| {
            p.external_account_id
                .as_deref()
                .is_some_and(|id| id != me.id)
        });
        if let Some(old) = replaced {
            // A different account replaces the old one: its grant is revoked at the provider.
            super::enqueue_revoke(&mut tx, old, now)
                .await
                .map_err(|e| unexpected(&e))?;
        }
        let action = match (&previous, replaced) {
            (_, Some(_)) => "connection.replaced",
            (Some(p), None) if p.external_account_id.is_some() => "connection.reauthorized",
            _ => "connection.connected",
        };
        let display = format!("{} {}", me.first_name, me.last_name)
            .trim()
            .to_string();
        let saved = tx
            .save_connection(
                &NewConnection {
                    org_id: actor.org_id,
                    user_id: actor.user_id,
                    provider: provider.into(),
                    purpose: CONFERENCING.into(),
                    external_account_id: me.id.clone(),
                    external_org_id: Some(me.account_id.clone()),
                    external_email: Some(me.email.clone()),
                    display_name: (!display.is_empty()).then_some(display),
                    scopes: set.scope.clone(),
                    access_token: access,
                    refresh_token: refresh,
                    access_expires_at: set.expires_at,
                    server_url: None,
                },
                now,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ConnectFailure::AlreadyBound {
                    same_org: false,
                    holder: None,
                    account: me.email.clone(),
                },
                other => unexpected(&other),
            })?;
        // Connecting Zoom with no meeting location chosen makes Zoom the location.
        let user = tx
            .user(actor.org_id, actor.user_id)
            .await
            .map_err(|e| unexpected(&e))?;
        if user.meeting_location == MeetingLocationKind::Unset {
            tx.set_meeting_location(
                actor.org_id,
                actor.user_id,
                MeetingLocationKind::Zoom,
                None,
                now,
            )
            .await
            .map_err(|e| unexpected(&e))?;
        }
        audit::record(
            &mut tx,
            actor,
            action,
            audit::Target {
                kind: "connection",
                id: Some(saved.id.clone()),
                label: &me.email,
            },
            serde_json::json!({"provider": provider, "account_id": me.id}),
            now,
        )
        .await
        .map_err(|e| unexpected(&e))?;
        // Bookings that were promised a link while Zoom was broken get it now.
        self.resync_waiting_bookings(&mut tx, actor.user_id, now)
            .await
            .map_err(|e| unexpected(&e))?;
        tx.commit().await.map_err(|e| unexpected(&e))?;
        self.job_signal.notify_waiters();
        Ok(ConnectionView::from(&saved))
    }

    /// "Test connection": calls the provider with a (refreshed if needed) token.
    pub async fn check_connection(
        &self,
        actor: &Actor,
        user: convene_domain::UserId,
    ) -> AppResult<ConnectionView> {
        Self::require_connection_access(actor, user)?;
        self.store
            .read()
            .await?
            .user(actor.org_id, user)
            .await
            .map_err(|_| AppError::NotFound("user"))?;
        let id = self
            .zoom_connection_id(user)
            .await
            .map_err(|_| AppError::NotFound("connection"))?;
        let zoom = self.providers.zoom.clone();
        let result = self
            .with_access_token(&id, |t| {
                let zoom = zoom.clone();
                async move { zoom.me(&t).await }
            })
            .await;
        let now = self.now();
        let mut tx = self.store.write().await?;
        match &result {
            Ok(_) => tx.touch_connection(&id, now).await?,
            Err(super::tokens::TokenError::Provider(e)) => {
                tx.record_connection_error(&id, &e.to_string(), now).await?
            }
            Err(_) => {}
        }
        let row = tx.connection_by_id(&id).await?;
        tx.commit().await?;
        Ok(ConnectionView::from(&row))
    }
}
