//! Google Calendar: authorization with PKCE, token exchange, refresh and revocation
//! (Google's OAuth), the signed-in account (OpenID userinfo), and the Calendar API v3
//! (calendar list, free/busy, events). Follows `providers.md` (Google Calendar section)
//! and speaks Convene's calendar vocabulary ([`crate::calendar`]).
//!
//! [`GoogleClient`] holds configuration and an [`HttpClient`] only: it keeps no
//! tokens. Google's three hosts are three base URLs in [`GoogleConfig`], so the same
//! code talks to Google, the Convene sandbox (one base URL for all three), or a test
//! server.
//!
//! Retries: reads (userinfo, each page of the calendar list, free/busy — a POST that
//! changes nothing), updates and deletes are retried in-request. Event creation is
//! retried too, because the event id is chosen here from the draft's key
//! ([`event_id_for`]): a repeated insert gets `409` and the event that already exists
//! is returned, so a create whose answer was lost never makes a second event. The code
//! exchange, the refresh and revocation are sent once, as for every provider.

mod errors;
mod wire;

use crate::calendar::{BusyTime, CalendarAccount, CalendarInfo, EventDraft, EventRef};
use crate::error::ProviderError;
use crate::http::{HttpClient, HttpResponse, RetryPolicy};
use crate::oauth::{expiry, Pkce, TokenSet};
use crate::secret::Secret;
use errors::{error_from_response, Endpoint};
use jiff::Timestamp;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use url::Url;
use wire::{
    GoogleAttendee, GoogleCalendarList, GoogleEvent, GoogleEventBody, GoogleEventTime,
    GoogleFreeBusyItem, GoogleFreeBusyRequest, GoogleFreeBusyResponse, GoogleTokenResponse,
    GoogleUserInfo,
};

/// What Convene asks for: who the user is, and reading and writing calendar events.
pub const SCOPES: &str = "openid email https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly";
/// The scopes without which Convene cannot work. Google's consent screen lets the user
/// untick them, so a connection checks the granted scope ([`missing_scopes`]).
const CALENDAR_SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
];
/// Access tokens live one hour when Google does not say otherwise.
const DEFAULT_EXPIRES_IN: i64 = 3600;
/// Google's largest calendar-list page.
const LIST_PAGE_SIZE: &str = "250";
/// How many calendar-list pages are followed (5000 calendars): a bound, so a provider
/// that keeps handing out page tokens cannot keep a job looping.
const MAX_LIST_PAGES: usize = 20;
/// Google's limit on calendars in one free/busy query (`calendarExpansionMax`).
const FREEBUSY_MAX_ITEMS: usize = 50;
/// Convene sends its own emails; Google must not invite the attendees a second time.
const SEND_UPDATES: (&str, &str) = ("sendUpdates", "none");
/// Free/busy reasons that are Google's own trouble: worth trying again later.
const TRANSIENT_FREEBUSY_REASONS: [&str; 2] = ["internalError", "backendError"];

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// `https://accounts.google.com`, or the sandbox: `{base}/o/oauth2/v2/auth`.
    pub oauth_base_url: String,
    /// `https://oauth2.googleapis.com`, or the sandbox: `{base}/token`, `{base}/revoke`.
    pub token_base_url: String,
    /// `https://www.googleapis.com`, or the sandbox: `{base}/calendar/v3/...` and
    /// `{base}/oauth2/v3/userinfo`.
    pub api_base_url: String,
    pub redirect_uri: String,
}

#[derive(Debug, Clone)]
pub struct GoogleClient {
    config: Arc<GoogleConfig>,
    http: HttpClient,
}

/// The Google event id Convene uses for the event of `key` ([`EventDraft::key`]):
/// lowercase hex of SHA-256(key), 64 characters. Hex digits are a subset of the
/// base32hex alphabet (`0-9a-v`) Google requires of client-chosen ids, and the length is
/// within its 5–1024. The same key always gives the same id, which is what makes a
/// retried create idempotent, and lets the caller know the id before creating.
pub fn event_id_for(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The calendar scopes missing from a granted `scope` (space-separated, as the token
/// endpoint returns it). Empty when Convene has what it needs; `None` (Google did
/// not say) counts as granted, since Google only omits the scope when it is unchanged.
pub fn missing_scopes(granted: Option<&str>) -> Vec<&'static str> {
    let Some(granted) = granted else {
        return Vec::new();
    };
    let granted: Vec<&str> = granted.split_whitespace().collect();
    CALENDAR_SCOPES
        .into_iter()
        .filter(|s| !granted.contains(s))
        .collect()
}

impl GoogleClient {
    pub fn new(config: GoogleConfig, http: HttpClient) -> Self {
        Self {
            config: Arc::new(config),
            http,
        }
    }

    pub fn config(&self) -> &GoogleConfig {
        &self.config
    }

    /// Where to send the browser to connect Google Calendar (authorization code +
    /// PKCE S256, offline access so a refresh token comes back, and `prompt=consent`
    /// so it comes back on every connection, not only the first).
    pub fn authorize_url(&self, state: &str, pkce: &Pkce) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("access_type", "offline")
            .append_pair("prompt", "consent")
            .append_pair("state", state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!(
            "{}/o/oauth2/v2/auth?{query}",
            self.config.oauth_base_url.trim_end_matches('/')
        )
    }

    /// Exchanges the callback's `code` (once; it works once) for tokens.
    pub async fn exchange_code(&self, code: &str, pkce: &Pkce) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_uri),
            ("code_verifier", pkce.verifier.expose()),
        ])
        .await
    }

    /// Refreshes the access token. Google does not rotate refresh tokens: the
    /// returned `refresh_token` is `None` (keep the one you have) unless Google sends
    /// a new one. `invalid_grant` (revoked, expired, password changed) → `NeedsReauth`.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// Revokes an access or refresh token, and with it the whole grant
    /// (`POST {token_base}/revoke?token=…`). A token Google no longer knows
    /// (`400 invalid_token`: already revoked or expired) counts as revoked.
    pub async fn revoke(&self, token: &Secret) -> Result<(), ProviderError> {
        let url = self.token_url("revoke");
        let response = self
            .http
            .send_with_retry(
                |c| {
                    c.post(&url)
                        .query(&[("token", token.expose())])
                        .form(&[] as &[(&str, &str)])
                },
                RetryPolicy::once(),
            )
            .await?;
        if response.is_success() {
            return Ok(());
        }
        let already_gone = response.status == StatusCode::BAD_REQUEST
            && serde_json::from_slice::<serde_json::Value>(&response.body)
                .is_ok_and(|v| v["error"] == "invalid_token");
        if already_gone {
            return Ok(());
        }
        Err(error_from_response(
            Endpoint::Token,
            &response,
            self.http.now(),
        ))
    }

    /// The Google account the access token belongs to (`GET /oauth2/v3/userinfo`);
    /// bind the connection to its `id` (the OpenID `sub`), not to the email.
    pub async fn account(&self, access: &Secret) -> Result<CalendarAccount, ProviderError> {
        let url = self.api_url(&["oauth2", "v3", "userinfo"])?;
        let response = self
            .http
            .send_with_retry(
                |c| c.get(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        let info: GoogleUserInfo = self.decode(&response)?;
        let email = info.email.unwrap_or_default();
        Ok(CalendarAccount {
            display_name: info
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| email.clone()),
            id: info.sub,
            email,
        })
    }

    /// Every calendar in the account's calendar list, following `nextPageToken`.
    /// Writable means access role `owner` or `writer`. More than 20 pages, or a page
    /// token that repeats, is `Rejected` with code `too_many_pages` rather than a
    /// partial list.
    pub async fn calendars(&self, access: &Secret) -> Result<Vec<CalendarInfo>, ProviderError> {
        let base = self.api_url(&["calendar", "v3", "users", "me", "calendarList"])?;
        let mut calendars = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut url = base.clone();
            {
                let mut query = url.query_pairs_mut();
                query.append_pair("maxResults", LIST_PAGE_SIZE);
                if let Some(token) = &page_token {
                    query.append_pair("pageToken", token);
                }
            }
            let response = self
                .http
                .send_with_retry(
                    |c| c.get(url.clone()).bearer_auth(access.expose()),
                    RetryPolicy::idempotent(),
                )
                .await?;
            let page: GoogleCalendarList = self.decode(&response)?;
            calendars.extend(page.items.into_iter().map(|c| {
                let name = c
                    .summary_override
                    .filter(|s| !s.trim().is_empty())
                    .or(c.summary.filter(|s| !s.trim().is_empty()))
                    .unwrap_or_else(|| c.id.clone());
                CalendarInfo {
                    writable: matches!(c.access_role.as_deref(), Some("owner" | "writer")),
                    primary: c.primary.unwrap_or(false),
                    name,
                    id: c.id,
                }
            }));
            match page.next_page_token.filter(|t| !t.is_empty()) {
                None => return Ok(calendars),
                Some(next) if page_token.as_deref() == Some(next.as_str()) => {
                    return Err(too_many_pages("Google repeated a page token"));
                }
                Some(next) => page_token = Some(next),
            }
        }
        Err(too_many_pages(&format!(
            "more than {MAX_LIST_PAGES} pages of calendars"
        )))
    }

    /// The busy times of `calendar_ids` in `[from, to)`, sorted (`POST /freeBusy`, in
    /// UTC, 50 calendars per query). A calendar Google cannot read (`errors` in its
    /// entry, or no entry at all) fails the whole call — `Rejected` (`Transient` for
    /// Google's own `internalError`/`backendError`) — because an unreadable calendar
    /// must never look free.
    pub async fn busy(
        &self,
        access: &Secret,
        calendar_ids: &[String],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        if calendar_ids.is_empty() || from >= to {
            return Ok(Vec::new());
        }
        let url = self.api_url(&["calendar", "v3", "freeBusy"])?;
        let mut busy = Vec::new();
        for chunk in calendar_ids.chunks(FREEBUSY_MAX_ITEMS) {
            let body = GoogleFreeBusyRequest {
                time_min: from.to_string(),
                time_max: to.to_string(),
                time_zone: "UTC",
                items: chunk
                    .iter()
                    .map(|id| GoogleFreeBusyItem { id: id.as_str() })
                    .collect(),
            };
            let response = self
                .http
                .send_with_retry(
                    |c| c.post(url.clone()).bearer_auth(access.expose()).json(&body),
                    RetryPolicy::idempotent(),
                )
                .await?;
            let mut answer: GoogleFreeBusyResponse = self.decode(&response)?;
            for id in chunk {
                let calendar = answer.calendars.remove(id.as_str()).ok_or_else(|| {
                    ProviderError::Rejected {
                        status: response.status.as_u16(),
                        code: "missing_calendar".into(),
                        message: format!(
                            "Google's free/busy answer has no entry for calendar {id}"
                        ),
                    }
                })?;
                if let Some(error) = calendar.errors.first() {
                    let reason = error.reason.as_deref().unwrap_or("unknown");
                    let message =
                        format!("Google cannot read the free/busy of calendar {id}: {reason}");
                    return Err(if TRANSIENT_FREEBUSY_REASONS.contains(&reason) {
                        ProviderError::Transient(message)
                    } else {
                        ProviderError::Rejected {
                            status: response.status.as_u16(),
                            code: reason.to_owned(),
                            message,
                        }
                    });
                }
                for period in calendar.busy {
                    busy.push(BusyTime {
                        start: parse_time(&period.start)?,
                        end: parse_time(&period.end)?,
                    });
                }
            }
        }
        busy.sort();
        busy.dedup();
        Ok(busy)
    }

    /// Writes the event of `draft` into `calendar_id` with the id [`event_id_for`]
    /// `draft.key`. Idempotent: if Google already has that id (`409`, e.g. the answer
    /// to an earlier attempt was lost), that event is read and returned instead. An
    /// event with that id that was deleted since is `Rejected` with code `deleted`:
    /// Google keeps deleted ids, so the same key cannot be written again.
    pub async fn create_event(
        &self,
        access: &Secret,
        calendar_id: &str,
        draft: &EventDraft,
    ) -> Result<EventRef, ProviderError> {
        let id = event_id_for(&draft.key);
        let mut url = self.api_url(&["calendar", "v3", "calendars", calendar_id, "events"])?;
        url.query_pairs_mut()
            .append_pair(SEND_UPDATES.0, SEND_UPDATES.1);
        let body = event_body(Some(&id), draft);
        let response = self
            .http
            .send_with_retry(
                |c| c.post(url.clone()).bearer_auth(access.expose()).json(&body),
                RetryPolicy::idempotent(),
            )
            .await?;
        if response.status != StatusCode::CONFLICT {
            let event: GoogleEvent = self.decode(&response)?;
            return Ok(event_ref(event));
        }
        // The id exists: our own earlier create. Read it back.
        let existing = self.get_event(access, calendar_id, &id).await?;
        if existing.status.as_deref() == Some("cancelled") {
            return Err(ProviderError::Rejected {
                status: 409,
                code: "deleted".into(),
                message: format!(
                    "the Google event {id} for this booking was deleted; Google does not reuse event ids"
                ),
            });
        }
        Ok(event_ref(existing))
    }

    /// Sets the event's summary, description, location, times and attendees to the
    /// draft's (`PATCH`). Idempotent, so it is retried. A deleted or unknown event is
    /// `NotFound` (code 410 or 404).
    pub async fn update_event(
        &self,
        access: &Secret,
        calendar_id: &str,
        event_id: &str,
        draft: &EventDraft,
    ) -> Result<EventRef, ProviderError> {
        let mut url = self.event_url(calendar_id, event_id)?;
        url.query_pairs_mut()
            .append_pair(SEND_UPDATES.0, SEND_UPDATES.1);
        let body = event_body(None, draft);
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
        let event: GoogleEvent = self.decode(&response)?;
        Ok(event_ref(event))
    }

    /// Deletes the event. One already deleted (`410`) or unknown (`404`) counts as
    /// done.
    pub async fn delete_event(
        &self,
        access: &Secret,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), ProviderError> {
        let mut url = self.event_url(calendar_id, event_id)?;
        url.query_pairs_mut()
            .append_pair(SEND_UPDATES.0, SEND_UPDATES.1);
        let response = self
            .http
            .send_with_retry(
                |c| c.delete(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        match self.expect_success(Endpoint::Api, &response) {
            Err(ProviderError::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    async fn get_event(
        &self,
        access: &Secret,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<GoogleEvent, ProviderError> {
        let url = self.event_url(calendar_id, event_id)?;
        let response = self
            .http
            .send_with_retry(
                |c| c.get(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        self.decode(&response)
    }

    /// `POST {token_base}/token` with the client credentials in the form body (as
    /// Google documents it); sent once.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, ProviderError> {
        let url = self.token_url("token");
        let mut fields: Vec<(&str, &str)> = vec![
            ("client_id", &self.config.client_id),
            ("client_secret", self.config.client_secret.expose()),
        ];
        fields.extend_from_slice(form);
        // Expiry counts from before the request, so it errs on the early side.
        let issued = self.http.now();
        let response = self
            .http
            .send_with_retry(|c| c.post(&url).form(&fields), RetryPolicy::once())
            .await?;
        if !response.is_success() {
            return Err(error_from_response(
                Endpoint::Token,
                &response,
                self.http.now(),
            ));
        }
        // No serde detail in this message: it could quote a token.
        let tokens: GoogleTokenResponse =
            serde_json::from_slice(&response.body).map_err(|_| ProviderError::Rejected {
                status: response.status.as_u16(),
                code: "unexpected_response".into(),
                message: "Google's token response is not the JSON Convene expects".into(),
            })?;
        Ok(TokenSet {
            access_token: Secret::new(tokens.access_token),
            refresh_token: tokens
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            expires_at: expiry(issued, tokens.expires_in.unwrap_or(DEFAULT_EXPIRES_IN)),
            scope: tokens.scope.filter(|s| !s.is_empty()),
        })
    }

    fn token_url(&self, endpoint: &str) -> String {
        format!(
            "{}/{endpoint}",
            self.config.token_base_url.trim_end_matches('/')
        )
    }

    fn event_url(&self, calendar_id: &str, event_id: &str) -> Result<Url, ProviderError> {
        self.api_url(&[
            "calendar",
            "v3",
            "calendars",
            calendar_id,
            "events",
            event_id,
        ])
    }

    /// `{api_base}/<segments>`, each segment percent-encoded (calendar ids hold `@`
    /// and `#`; an id cannot change the path).
    fn api_url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        let bad_base = |why: String| ProviderError::Rejected {
            status: 0,
            code: "invalid_base_url".into(),
            message: format!(
                "the Google API base URL {:?} {why}",
                self.config.api_base_url
            ),
        };
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(ProviderError::Rejected {
                status: 0,
                code: "invalid_id".into(),
                message: format!("{bad:?} is not a Google id"),
            });
        }
        let mut url = Url::parse(&self.config.api_base_url)
            .map_err(|e| bad_base(format!("is not a URL: {e}")))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| bad_base("cannot have a path".into()))?;
            path.pop_if_empty();
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

    /// A 2xx API body as `T`, or the mapped error.
    fn decode<T: DeserializeOwned>(&self, response: &HttpResponse) -> Result<T, ProviderError> {
        self.expect_success(Endpoint::Api, response)?;
        serde_json::from_slice(&response.body).map_err(|e| ProviderError::Rejected {
            status: response.status.as_u16(),
            code: "unexpected_response".into(),
            message: format!("Google's response is not the JSON Convene expects: {e}"),
        })
    }
}

fn event_body<'a>(id: Option<&'a str>, draft: &'a EventDraft) -> GoogleEventBody<'a> {
    GoogleEventBody {
        id,
        summary: &draft.summary,
        description: &draft.description,
        location: draft.location.as_deref(),
        start: GoogleEventTime {
            date_time: draft.start.to_string(),
        },
        end: GoogleEventTime {
            date_time: draft.end.to_string(),
        },
        attendees: draft
            .attendees
            .iter()
            .map(|a| GoogleAttendee {
                email: &a.email,
                display_name: a.name.as_deref().filter(|n| !n.trim().is_empty()),
            })
            .collect(),
    }
}

/// Google needs no version tag for updates, so `etag` stays empty.
fn event_ref(event: GoogleEvent) -> EventRef {
    EventRef {
        id: event.id,
        etag: None,
    }
}

/// A free/busy time: RFC 3339 with `Z` or an offset.
fn parse_time(raw: &str) -> Result<Timestamp, ProviderError> {
    raw.trim()
        .parse::<Timestamp>()
        .map_err(|_| ProviderError::Rejected {
            status: 200,
            code: "unexpected_response".into(),
            message: format!("Google sent a busy time Convene cannot read: {raw:?}"),
        })
}

fn too_many_pages(why: &str) -> ProviderError {
    ProviderError::Rejected {
        status: 0,
        code: "too_many_pages".into(),
        message: format!("listing Google calendars stopped: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_valid_base32hex_and_stable() {
        let id = event_id_for("booking-42/host-7");
        assert_eq!(id, event_id_for("booking-42/host-7"));
        assert_ne!(id, event_id_for("booking-42/host-8"));
        assert_eq!(id.len(), 64);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)));
        // SHA-256("") is a known vector.
        assert_eq!(
            event_id_for(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn missing_scopes_names_the_calendar_scopes() {
        assert!(missing_scopes(Some(SCOPES)).is_empty());
        assert!(missing_scopes(None).is_empty());
        assert_eq!(
            missing_scopes(Some(
                "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.readonly"
            )),
            ["https://www.googleapis.com/auth/calendar.events"]
        );
        assert_eq!(missing_scopes(Some("")).len(), 2);
    }
}
