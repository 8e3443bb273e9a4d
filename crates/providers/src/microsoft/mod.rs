//! Microsoft identity platform (v2.0) and Graph: authorization with PKCE, token
//! exchange and refresh, admin-consent errors, the signed-in user, Outlook calendars
//! (busy times, events) and Teams online meetings. Follows `providers.md` (Microsoft
//! section) and `calendar.rs`'s vocabulary.
//!
//! [`MicrosoftClient`] holds configuration and an [`HttpClient`] only: it keeps no
//! tokens. Base URLs are configuration, so the same code talks to
//! `login.microsoftonline.com` + `graph.microsoft.com`, the Convene sandbox, or a
//! test server.
//!
//! Retries: reads (each page of a collection), updates (a PATCH sets the same values
//! again) and deletes are retried in-request. An event create is retried too, because
//! it carries Graph's idempotency guard: a `transactionId` derived from
//! [`EventDraft::key`], so a repeated POST returns the event the first one made. The
//! code exchange, the token refresh and the online-meeting create (which has no such
//! guard) are sent once.
//!
//! Collections are paged with `@odata.nextLink`, an absolute URL the adapter GETs as
//! it is, with the bearer token: so it follows a link only to the configured Graph
//! origin (a link elsewhere would hand the token to another host), and at most
//! [`MAX_PAGES`] of them.

mod errors;
mod wire;

use crate::calendar::{BusyTime, CalendarAccount, CalendarInfo, EventDraft, EventRef};
use crate::error::ProviderError;
use crate::http::{HttpClient, HttpResponse, RetryPolicy};
use crate::oauth::{expiry, Pkce, TokenSet};
use crate::secret::Secret;
use errors::{error_from_response, Endpoint};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use url::Url;
use wire::{
    Attendee, DateTimeZone, EmailAddress, EventBody, EventResponse, ItemBody, Location,
    OnlineMeetingBody, OnlineMeetingResponse, Page, TokenResponse, ViewEvent,
};

/// What Convene asks for: sign-in (`openid profile email`), a refresh token
/// (`offline_access`), the user, Teams meetings and the calendars.
pub const SCOPES: &str =
    "openid profile email offline_access User.Read OnlineMeetings.ReadWrite Calendars.ReadWrite";
/// Access tokens live about an hour when Microsoft does not say otherwise.
const DEFAULT_EXPIRES_IN: i64 = 3600;
/// How many pages one listing follows: a bound, so a server that keeps handing out
/// links cannot keep a job looping. With [`VIEW_PAGE_SIZE`] that is 25 000 events per
/// calendar and window.
pub const MAX_PAGES: usize = 100;
/// Events per `calendarView` page (`$top`); Graph's default of 10 would mean many
/// round trips for a busy calendar.
const VIEW_PAGE_SIZE: &str = "250";
/// Graph's limit on an event subject; longer ones are cut (on a character boundary)
/// rather than refused, so a long event title cannot kill a booking job.
const MAX_SUBJECT_CHARS: usize = 255;
/// Asks Graph for event times in UTC, so no Windows time-zone name needs mapping.
const PREFER_UTC: &str = "outlook.timezone=\"UTC\"";

#[derive(Debug, Clone)]
pub struct MicrosoftConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// `common`, `organizations`, or a tenant id or domain.
    pub tenant: String,
    /// `https://login.microsoftonline.com`, or the sandbox;
    /// `{login}/{tenant}/oauth2/v2.0/authorize|token`.
    pub login_base_url: String,
    /// `https://graph.microsoft.com`, or the sandbox; `{graph}/v1.0/...`.
    pub graph_base_url: String,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub struct MicrosoftClient {
    config: Arc<MicrosoftConfig>,
    http: HttpClient,
}

/// Why the authorize callback came back with `?error=…` instead of a code, in the
/// terms the app explains to the user. See [`parse_consent_error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentError {
    /// `AADSTS65001`: the tenant does not let users consent to this app themselves;
    /// a tenant admin must grant consent for the organization.
    #[error("your Microsoft tenant admin must consent to Convene before you can connect it")]
    AdminConsentRequired,
    /// `AADSTS90094`: an admin policy requires approval of the request (admin
    /// consent workflow); the user may have requested it, and must wait.
    #[error("your Microsoft tenant admin must approve Convene before you can connect it")]
    AdminApprovalRequired,
    /// `access_denied`: the user said no.
    #[error("you declined to give Convene access to your Microsoft account")]
    Denied,
    /// Anything else: the `AADSTS…` code when there is one, else the `error` value.
    #[error("Microsoft refused the connection ({0})")]
    Other(String),
}

/// Maps the authorize callback's `error` and `error_description`
/// (`AADSTS65001: The user or administrator has not consented…`) to a
/// [`ConsentError`]. The `AADSTS` code decides, since Microsoft sends the same
/// `error` (`access_denied`, `consent_required`, `invalid_client`) for different
/// causes.
pub fn parse_consent_error(error: &str, error_description: Option<&str>) -> ConsentError {
    let code = error_description.and_then(aadsts_code);
    match (code.as_deref(), error.trim()) {
        (Some("AADSTS65001"), _) => ConsentError::AdminConsentRequired,
        (Some("AADSTS90094"), _) => ConsentError::AdminApprovalRequired,
        // Without `prompt=none`, "consent required" means the user could not consent.
        (None, "consent_required") => ConsentError::AdminConsentRequired,
        (_, "access_denied") => ConsentError::Denied,
        (Some(code), _) => ConsentError::Other(code.to_owned()),
        (None, "") => ConsentError::Other("unknown_error".into()),
        (None, error) => ConsentError::Other(error.to_owned()),
    }
}

/// The first `AADSTS<digits>` in `text`.
fn aadsts_code(text: &str) -> Option<String> {
    let at = text.find("AADSTS")?;
    let digits: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!digits.is_empty()).then(|| format!("AADSTS{digits}"))
}

/// A Teams meeting as Graph reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnlineMeeting {
    pub id: String,
    /// `joinWebUrl`: the link attendees click.
    pub join_url: String,
    /// The numeric id and passcode for joining by typing them in.
    pub join_meeting_id: Option<String>,
    pub passcode: Option<String>,
}

impl MicrosoftClient {
    pub fn new(config: MicrosoftConfig, http: HttpClient) -> Self {
        Self {
            config: Arc::new(config),
            http,
        }
    }

    pub fn config(&self) -> &MicrosoftConfig {
        &self.config
    }

    /// Where to send the browser to connect Microsoft (authorization code + PKCE S256,
    /// the answer in the callback's query string).
    pub fn authorize_url(&self, state: &str, pkce: &Pkce) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", SCOPES)
            .append_pair("state", state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("{}?{query}", self.login_url("authorize"))
    }

    /// Exchanges the callback's `code` (it works once) for tokens. Sent once.
    pub async fn exchange_code(&self, code: &str, pkce: &Pkce) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_uri),
            ("code_verifier", pkce.verifier.expose()),
        ])
        .await
    }

    /// Refreshes the access token. Sent once: Microsoft may rotate the refresh token,
    /// and the returned one (when there is one) replaces the old. `invalid_grant`
    /// (expired, revoked, consent withdrawn) → `NeedsReauth`.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// The account the access token belongs to (`GET /me`). The email is `mail`, or
    /// the sign-in name when the account has no mailbox address.
    pub async fn account(&self, access: &Secret) -> Result<CalendarAccount, ProviderError> {
        let url = self.graph_url(&["me"])?;
        let user: wire::User = self.get(access, url, false).await?;
        let email = [&user.mail, &user.user_principal_name]
            .into_iter()
            .flatten()
            .map(|e| e.trim())
            .find(|e| !e.is_empty())
            .unwrap_or_default()
            .to_owned();
        let display_name = user
            .display_name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| email.clone());
        Ok(CalendarAccount {
            id: user.id,
            email,
            display_name,
        })
    }

    /// The account's calendars (`GET /me/calendars`, every page).
    pub async fn calendars(&self, access: &Secret) -> Result<Vec<CalendarInfo>, ProviderError> {
        let url = self.graph_url(&["me", "calendars"])?;
        let calendars: Vec<wire::Calendar> = self.get_all(access, url, false).await?;
        Ok(calendars
            .into_iter()
            .map(|c| CalendarInfo {
                id: c.id,
                name: c.name,
                primary: c.is_default_calendar.unwrap_or(false),
                writable: c.can_edit.unwrap_or(false),
            })
            .collect())
    }

    /// Busy times in `[from, to)` of the given calendars, sorted, from each calendar's
    /// `calendarView` (every page; recurring events come expanded). Events shown as
    /// free and cancelled ones are not busy; every other `showAs` (busy, tentative,
    /// oof, workingElsewhere, unknown) is, so a calendar never looks freer than it is.
    /// Any calendar that cannot be read fails the whole call (SPEC §4: never show a
    /// user as free because a calendar could not be read).
    pub async fn busy(
        &self,
        access: &Secret,
        calendar_ids: &[impl AsRef<str>],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        let mut busy = Vec::new();
        if from >= to {
            return Ok(busy);
        }
        for id in calendar_ids {
            let mut url = self.graph_url(&["me", "calendars", id.as_ref(), "calendarView"])?;
            url.query_pairs_mut()
                .append_pair("startDateTime", &utc_rfc3339(from))
                .append_pair("endDateTime", &utc_rfc3339(to))
                .append_pair("$select", "showAs,isCancelled,start,end")
                .append_pair("$top", VIEW_PAGE_SIZE);
            let events: Vec<ViewEvent> = self.get_all(access, url, true).await?;
            for event in events {
                let free = event.show_as.as_deref() == Some("free");
                if free || event.is_cancelled == Some(true) {
                    continue;
                }
                let start = graph_time(&event.start)?;
                let end = graph_time(&event.end)?;
                if start < end {
                    busy.push(BusyTime { start, end });
                }
            }
        }
        busy.sort();
        busy.dedup();
        Ok(busy)
    }

    /// Writes the event for a booked meeting into `calendar_id`. Its `transactionId`
    /// is derived from `draft.key`, so a repeated create (a retry here, or the job
    /// running again after a crash) returns the event already made instead of adding
    /// a second one; that is why this POST is retried.
    pub async fn create_event(
        &self,
        access: &Secret,
        calendar_id: &str,
        draft: &EventDraft,
    ) -> Result<EventRef, ProviderError> {
        let url = self.graph_url(&["me", "calendars", calendar_id, "events"])?;
        let body = event_body(draft, Some(transaction_id(&draft.key)));
        let response = self
            .http
            .send_with_retry(
                |c| c.post(url.clone()).bearer_auth(access.expose()).json(&body),
                RetryPolicy::idempotent(),
            )
            .await?;
        let event: EventResponse = self.decode(Endpoint::Graph, &response)?;
        Ok(event_ref(event))
    }

    /// Moves or changes an event (`PATCH /me/events/{id}`): every field of the draft
    /// is sent, so a location that went away is cleared. Idempotent, so retried.
    pub async fn update_event(
        &self,
        access: &Secret,
        event_id: &str,
        draft: &EventDraft,
    ) -> Result<EventRef, ProviderError> {
        let url = self.graph_url(&["me", "events", event_id])?;
        let body = event_body(draft, None);
        let response = self
            .http
            .send_with_retry(
                |c| {
                    c.patch(url.clone())
                        .bearer_auth(access.expose())
                        .json(&body)
                },
                RetryPolicy::idempotent(),
            )
            .await?;
        self.expect_success(Endpoint::Graph, &response)?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            // 204 without a body: the id stays, the version is unknown.
            return Ok(EventRef {
                id: event_id.to_owned(),
                etag: None,
            });
        }
        let event: EventResponse = self.decode(Endpoint::Graph, &response)?;
        Ok(event_ref(event))
    }

    /// Deletes an event. One that is already gone (404) counts as deleted.
    pub async fn delete_event(&self, access: &Secret, event_id: &str) -> Result<(), ProviderError> {
        let url = self.graph_url(&["me", "events", event_id])?;
        self.delete(access, url).await
    }

    /// Creates a Teams meeting (`POST /me/onlineMeetings`). Sent once: Graph has no
    /// idempotency guard here, so the caller stores the returned id before anything
    /// else.
    pub async fn create_online_meeting(
        &self,
        access: &Secret,
        subject: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<OnlineMeeting, ProviderError> {
        let url = self.graph_url(&["me", "onlineMeetings"])?;
        let body = online_meeting_body(subject, start, end);
        let response = self
            .http
            .send_with_retry(
                |c| c.post(url.clone()).bearer_auth(access.expose()).json(&body),
                RetryPolicy::once(),
            )
            .await?;
        let meeting: OnlineMeetingResponse = self.decode(Endpoint::Graph, &response)?;
        online_meeting_from_wire(meeting)
    }

    /// Reads a Teams meeting; `NotFound` when it was deleted.
    pub async fn get_online_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
    ) -> Result<OnlineMeeting, ProviderError> {
        let url = self.graph_url(&["me", "onlineMeetings", meeting_id])?;
        let meeting: OnlineMeetingResponse = self.get(access, url, false).await?;
        online_meeting_from_wire(meeting)
    }

    /// Moves a Teams meeting in place (same id, same join link). Idempotent, so
    /// retried. Graph answers 200 with the meeting, or 204; on 204 the meeting is read
    /// back for its link.
    pub async fn update_online_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
        subject: &str,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<OnlineMeeting, ProviderError> {
        let url = self.graph_url(&["me", "onlineMeetings", meeting_id])?;
        let body = online_meeting_body(subject, start, end);
        let response = self
            .http
            .send_with_retry(
                |c| {
                    c.patch(url.clone())
                        .bearer_auth(access.expose())
                        .json(&body)
                },
                RetryPolicy::idempotent(),
            )
            .await?;
        self.expect_success(Endpoint::Graph, &response)?;
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return self.get_online_meeting(access, meeting_id).await;
        }
        let meeting: OnlineMeetingResponse = self.decode(Endpoint::Graph, &response)?;
        online_meeting_from_wire(meeting)
    }

    /// Deletes a Teams meeting. One that is already gone (404) counts as deleted.
    pub async fn delete_online_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
    ) -> Result<(), ProviderError> {
        let url = self.graph_url(&["me", "onlineMeetings", meeting_id])?;
        self.delete(access, url).await
    }

    /// `POST {login}/{tenant}/oauth2/v2.0/token` with the client secret and scope in
    /// the form body; sent once.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, ProviderError> {
        let url = self.login_url("token");
        let mut form = form.to_vec();
        form.extend([
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.expose()),
            ("scope", SCOPES),
        ]);
        // Expiry counts from before the request, so it errs on the early side.
        let issued = self.http.now();
        let response = self
            .http
            .send_with_retry(|c| c.post(&url).form(&form), RetryPolicy::once())
            .await?;
        if !response.is_success() {
            return Err(error_from_response(
                Endpoint::Token,
                &response,
                self.http.now(),
            ));
        }
        // No serde detail in this message: it could quote a token.
        let tokens: TokenResponse =
            serde_json::from_slice(&response.body).map_err(|_| ProviderError::Rejected {
                status: response.status.as_u16(),
                code: "unexpected_response".into(),
                message: "Microsoft's token response is not the JSON Convene expects".into(),
            })?;
        let expires_in = tokens
            .expires_in
            .as_ref()
            .and_then(wire::NumberOrText::as_i64)
            .unwrap_or(DEFAULT_EXPIRES_IN);
        Ok(TokenSet {
            access_token: Secret::new(tokens.access_token),
            refresh_token: tokens
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_at: expiry(issued, expires_in),
            scope: tokens.scope.filter(|s| !s.is_empty()),
        })
    }

    /// A GET of one Graph resource, retried; `prefer_utc` adds the time-zone header.
    async fn get<T: DeserializeOwned>(
        &self,
        access: &Secret,
        url: Url,
        prefer_utc: bool,
    ) -> Result<T, ProviderError> {
        let response = self
            .http
            .send_with_retry(
                |c| {
                    let request = c.get(url.clone()).bearer_auth(access.expose());
                    if prefer_utc {
                        request.header("Prefer", PREFER_UTC)
                    } else {
                        request
                    }
                },
                RetryPolicy::idempotent(),
            )
            .await?;
        self.decode(Endpoint::Graph, &response)
    }

    /// Every entry of a Graph collection, following `@odata.nextLink` (see the
    /// module header for the limits). Each page is retried on its own. More than
    /// [`MAX_PAGES`] pages, a link that repeats or one to another origin is
    /// `Rejected` rather than a partial list: a missed busy time would offer a slot
    /// that is taken.
    async fn get_all<T: DeserializeOwned>(
        &self,
        access: &Secret,
        first: Url,
        prefer_utc: bool,
    ) -> Result<Vec<T>, ProviderError> {
        let mut items = Vec::new();
        let mut url = first;
        for _ in 0..MAX_PAGES {
            let page: Page<T> = self.get(access, url.clone(), prefer_utc).await?;
            items.extend(page.value);
            let Some(next) = page.next_link.filter(|l| !l.trim().is_empty()) else {
                return Ok(items);
            };
            let next = Url::parse(next.trim())
                .map_err(|_| paging_error("Graph sent a nextLink that is not a URL"))?;
            if next == url {
                return Err(paging_error("Graph repeated a nextLink"));
            }
            if !self.same_origin_as_graph(&next) {
                return Err(paging_error(&format!(
                    "Graph sent a nextLink to another origin ({})",
                    next.origin().ascii_serialization()
                )));
            }
            url = next;
        }
        Err(paging_error(&format!("more than {MAX_PAGES} pages")))
    }

    fn same_origin_as_graph(&self, url: &Url) -> bool {
        Url::parse(&self.config.graph_base_url).is_ok_and(|base| base.origin() == url.origin())
    }

    /// A DELETE, retried; 404 means it is already done.
    async fn delete(&self, access: &Secret, url: Url) -> Result<(), ProviderError> {
        let response = self
            .http
            .send_with_retry(
                |c| c.delete(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        match self.expect_success(Endpoint::Graph, &response) {
            Err(ProviderError::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    fn login_url(&self, endpoint: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{endpoint}",
            self.config.login_base_url.trim_end_matches('/'),
            encode_segment(self.config.tenant.trim()),
        )
    }

    /// `{graph_base}/v1.0/<segments>`, each segment percent-encoded (so an id cannot
    /// change the path).
    fn graph_url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        let bad_base = |why: String| ProviderError::Rejected {
            status: 0,
            code: "invalid_base_url".into(),
            message: format!(
                "the Microsoft Graph base URL {:?} {why}",
                self.config.graph_base_url
            ),
        };
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(ProviderError::Rejected {
                status: 0,
                code: "invalid_id".into(),
                message: format!("{bad:?} is not a Microsoft Graph id"),
            });
        }
        let mut url = Url::parse(&self.config.graph_base_url)
            .map_err(|e| bad_base(format!("is not a URL: {e}")))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| bad_base("cannot have a path".into()))?;
            path.pop_if_empty().push("v1.0");
            for segment in segments {
                path.push(segment);
            }
        }
        Ok(url)
    }

    fn expect_success(
        &self,
        endpoint: Endpoint,
        response: &HttpResponse,
    ) -> Result<(), ProviderError> {
        if response.is_success() {
            Ok(())
        } else {
            Err(error_from_response(endpoint, response, self.http.now()))
        }
    }

    /// A 2xx body as `T`, or the mapped error.
    fn decode<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        response: &HttpResponse,
    ) -> Result<T, ProviderError> {
        self.expect_success(endpoint, response)?;
        serde_json::from_slice(&response.body).map_err(|e| ProviderError::Rejected {
            status: response.status.as_u16(),
            code: "unexpected_response".into(),
            message: format!("Microsoft Graph's response is not the JSON Convene expects: {e}"),
        })
    }
}

/// Graph's `transactionId` for an event draft: stable for the key, a fixed length
/// whatever the key is, and without characters that need escaping.
fn transaction_id(key: &str) -> String {
    let digest = Sha256::digest(format!("convene-event:{key}").as_bytes());
    format!("convene-{}", hex::encode(&digest[..16]))
}

fn event_body(draft: &EventDraft, transaction_id: Option<String>) -> EventBody<'_> {
    EventBody {
        subject: truncate(&draft.summary, MAX_SUBJECT_CHARS),
        body: ItemBody {
            content_type: "text",
            content: &draft.description,
        },
        start: graph_utc(draft.start),
        end: graph_utc(draft.end),
        location: Location {
            display_name: draft.location.as_deref().unwrap_or_default(),
        },
        attendees: draft
            .attendees
            .iter()
            .map(|a| Attendee {
                email_address: EmailAddress {
                    address: &a.email,
                    name: a.name.as_deref(),
                },
                kind: "required",
            })
            .collect(),
        transaction_id,
    }
}

fn event_ref(event: EventResponse) -> EventRef {
    EventRef {
        id: event.id,
        etag: event.etag.or(event.change_key).filter(|e| !e.is_empty()),
    }
}

fn online_meeting_body(subject: &str, start: Timestamp, end: Timestamp) -> OnlineMeetingBody<'_> {
    OnlineMeetingBody {
        subject: truncate(subject, MAX_SUBJECT_CHARS),
        start_date_time: utc_rfc3339(start),
        end_date_time: utc_rfc3339(end),
    }
}

fn online_meeting_from_wire(m: OnlineMeetingResponse) -> Result<OnlineMeeting, ProviderError> {
    let join_url = [m.join_web_url, m.join_url]
        .into_iter()
        .flatten()
        .find(|u| !u.trim().is_empty())
        .ok_or_else(|| ProviderError::Rejected {
            status: 200,
            code: "unexpected_response".into(),
            message: format!("the Teams meeting {} has no join link", m.id),
        })?;
    let settings = m.join_meeting_id_settings;
    let (join_meeting_id, passcode) = match settings {
        Some(s) => (s.join_meeting_id, s.passcode),
        None => (None, None),
    };
    Ok(OnlineMeeting {
        id: m.id,
        join_url,
        join_meeting_id: join_meeting_id.filter(|s| !s.is_empty()),
        passcode: passcode.filter(|s| !s.is_empty()),
    })
}

/// `2026-12-01T15:00:00Z` (fractional seconds only when there are some).
fn utc_rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.fZ").to_string()
}

/// A Graph `dateTimeTimeZone` in UTC: `{"dateTime":"2026-12-01T15:00:00","timeZone":"UTC"}`.
fn graph_utc(t: Timestamp) -> DateTimeZone {
    DateTimeZone {
        date_time: t.strftime("%Y-%m-%dT%H:%M:%S%.f").to_string(),
        time_zone: Some("UTC".into()),
    }
}

/// A Graph `dateTimeTimeZone` as an instant. Convene asks for UTC; an IANA zone is
/// read too. Anything else (a Windows zone name) is refused rather than guessed, so
/// a busy time is never placed at the wrong hour.
fn graph_time(t: &DateTimeZone) -> Result<Timestamp, ProviderError> {
    let unreadable = || ProviderError::Rejected {
        status: 200,
        code: "unexpected_response".into(),
        message: format!(
            "Microsoft Graph sent a time Convene cannot read: {:?} in {:?}",
            t.date_time, t.time_zone
        ),
    };
    let raw = t.date_time.trim();
    if let Ok(instant) = raw.parse::<Timestamp>() {
        return Ok(instant);
    }
    let local: DateTime = raw.parse().map_err(|_| unreadable())?;
    let zone = match t.time_zone.as_deref().map(str::trim) {
        None | Some("") | Some("UTC") | Some("Etc/UTC") | Some("tzone://Microsoft/Utc") => {
            TimeZone::UTC
        }
        Some(name) => TimeZone::get(name).map_err(|_| unreadable())?,
    };
    local
        .to_zoned(zone)
        .map(|z| z.timestamp())
        .map_err(|_| unreadable())
}

fn paging_error(why: &str) -> ProviderError {
    ProviderError::Rejected {
        status: 0,
        code: "too_many_pages".into(),
        message: format!("listing from Microsoft Graph stopped: {why}"),
    }
}

/// Percent-encodes everything but RFC 3986 "unreserved" characters, for a tenant in
/// the login path.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// At most `max` characters of `s`, cut on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::Attendee as DraftAttendee;

    fn client(graph: &str) -> MicrosoftClient {
        MicrosoftClient::new(
            MicrosoftConfig {
                client_id: "id".into(),
                client_secret: Secret::from("s"),
                tenant: "contoso.onmicrosoft.com".into(),
                login_base_url: "https://login.microsoftonline.com/".into(),
                graph_base_url: graph.into(),
                redirect_uri: "https://convene.example/cb".into(),
            },
            HttpClient::new(Default::default()).unwrap(),
        )
    }

    #[test]
    fn consent_errors_by_aadsts_code() {
        use ConsentError::*;
        let cases = [
            ("consent_required", Some("AADSTS65001: The user or administrator has not consented to use the application with ID 'x'."), AdminConsentRequired),
            ("invalid_client", Some("AADSTS65001: …"), AdminConsentRequired),
            ("access_denied", Some("AADSTS90094: The grant requires admin permission."), AdminApprovalRequired),
            ("access_denied", Some("AADSTS65004: User declined to consent to access the app."), Denied),
            ("access_denied", None, Denied),
            ("consent_required", None, AdminConsentRequired),
            ("invalid_request", Some("AADSTS50011: The redirect URI does not match."), Other("AADSTS50011".into())),
            ("server_error", Some("no code here"), Other("server_error".into())),
            ("", None, Other("unknown_error".into())),
        ];
        for (error, description, expected) in cases {
            assert_eq!(
                parse_consent_error(error, description),
                expected,
                "{error} {description:?}"
            );
        }
        assert_eq!(aadsts_code("x AADSTS"), None);
        assert_eq!(
            AdminConsentRequired.to_string(),
            "your Microsoft tenant admin must consent to Convene before you can connect it"
        );
    }

    #[test]
    fn transaction_ids_are_stable_and_plain() {
        let a = transaction_id("booking-1/host-2");
        assert_eq!(a, transaction_id("booking-1/host-2"));
        assert_ne!(a, transaction_id("booking-1/host-3"));
        assert_eq!(a.len(), "convene-".len() + 32);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }

    #[test]
    fn event_body_is_graphs_shape() {
        let draft = EventDraft {
            key: "k".into(),
            summary: "Intro call".into(),
            description: "Join: https://teams.example/l/1".into(),
            location: None,
            start: "2026-12-01T15:00:00Z".parse().unwrap(),
            end: "2026-12-01T15:30:00.5Z".parse().unwrap(),
            attendees: vec![DraftAttendee {
                name: None,
                email: "ada@example.com".into(),
            }],
        };
        let json = serde_json::to_value(event_body(&draft, None)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "subject": "Intro call",
                "body": {"contentType": "text", "content": "Join: https://teams.example/l/1"},
                "start": {"dateTime": "2026-12-01T15:00:00", "timeZone": "UTC"},
                "end": {"dateTime": "2026-12-01T15:30:00.5", "timeZone": "UTC"},
                "location": {"displayName": ""},
                "attendees": [{"emailAddress": {"address": "ada@example.com"}, "type": "required"}],
            })
        );
    }

    #[test]
    fn graph_times() {
        let t = |dt: &str, tz: Option<&str>| {
            graph_time(&DateTimeZone {
                date_time: dt.into(),
                time_zone: tz.map(Into::into),
            })
        };
        let expected: Timestamp = "2026-12-01T15:00:00Z".parse().unwrap();
        assert_eq!(
            t("2026-12-01T15:00:00.0000000", Some("UTC")).unwrap(),
            expected
        );
        assert_eq!(t("2026-12-01T15:00:00", None).unwrap(), expected);
        assert_eq!(
            t("2026-12-01T10:00:00", Some("America/New_York")).unwrap(),
            expected
        );
        assert_eq!(
            t("2026-12-01T16:00:00+01:00", Some("UTC")).unwrap(),
            expected
        );
        assert!(t("2026-12-01T10:00:00", Some("Eastern Standard Time")).is_err());
        assert!(t("tomorrow", Some("UTC")).is_err());
    }

    #[test]
    fn urls_encode_ids_and_tenant() {
        let c = client("http://127.0.0.1:9/sandbox/microsoft/");
        assert_eq!(
            c.graph_url(&["me", "events", "AAMk/x?y=="])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/sandbox/microsoft/v1.0/me/events/AAMk%2Fx%3Fy=="
        );
        assert_eq!(
            c.login_url("token"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        for bad in ["", ".", ".."] {
            assert!(matches!(
                c.graph_url(&["me", "events", bad]),
                Err(ProviderError::Rejected { status: 0, .. })
            ));
        }
        assert!(c.same_origin_as_graph(&Url::parse("http://127.0.0.1:9/other?x").unwrap()));
        assert!(!c.same_origin_as_graph(&Url::parse("https://127.0.0.1:9/sandbox").unwrap()));
        assert!(!c.same_origin_as_graph(&Url::parse("http://evil.example:9/").unwrap()));
    }
}
