//! Zoom (user-managed OAuth app): authorization with PKCE, token exchange, refresh
//! and revocation, the signed-in user, meetings, and incoming webhooks
//! ([`webhook`]). Follows `providers.md` (Zoom section).
//!
//! [`ZoomClient`] holds configuration and an [`HttpClient`] only: it keeps no
//! tokens. Base URLs are configuration, so the same code talks to `zoom.us`, the
//! Convene sandbox, or a test server.
//!
//! Retries: reads (including each page of a meeting list), deletes and updates are
//! retried in-request (they are idempotent);
//! the code exchange, the token refresh (Zoom rotates refresh tokens: a repeated
//! refresh could lose the connection), revocation and meeting creation are sent once.

mod errors;
pub mod webhook;
mod wire;

use crate::error::ProviderError;
use crate::http::{HttpClient, HttpResponse, RetryPolicy};
use crate::oauth::{expiry, Pkce, TokenSet};
use crate::secret::Secret;
use errors::{error_from_response, Endpoint};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use url::Url;
use wire::{
    ZoomMeetingBody, ZoomMeetingList, ZoomMeetingResponse, ZoomTokenResponse, ZoomUserResponse,
};

/// Zoom meeting type 2: a scheduled meeting.
const SCHEDULED_MEETING: u8 = 2;
/// Zoom's limits on meeting fields; longer values are cut (on a character
/// boundary) rather than refused, so a long event title cannot kill a booking job.
const MAX_TOPIC_CHARS: usize = 200;
const MAX_AGENDA_CHARS: usize = 2000;
/// Zoom's largest page of a meeting list.
const LIST_PAGE_SIZE: &str = "300";
/// How many pages [`ZoomClient::list_meetings`] follows (6000 meetings): a bound, so a
/// provider that keeps handing out page tokens cannot keep a job looping.
const MAX_LIST_PAGES: usize = 20;
/// Access tokens live one hour when Zoom does not say otherwise.
const DEFAULT_EXPIRES_IN: i64 = 3600;

#[derive(Debug, Clone)]
pub struct ZoomConfig {
    pub client_id: String,
    pub client_secret: Secret,
    /// `https://zoom.us`, or the sandbox; `{base}/oauth/authorize|token|revoke`.
    pub oauth_base_url: String,
    /// `https://api.zoom.us`, or the sandbox; `{base}/v2/...`.
    pub api_base_url: String,
    pub redirect_uri: String,
    /// The app's webhook "secret token", for [`webhook::verify`].
    pub webhook_secret: Secret,
}

#[derive(Debug, Clone)]
pub struct ZoomClient {
    config: Arc<ZoomConfig>,
    http: HttpClient,
}

/// The Zoom user behind an access token (`GET /v2/users/me`). Bind to `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomUser {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role_name: Option<String>,
    pub timezone: Option<String>,
}

/// What Convene asks Zoom to schedule (create) or change (update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRequest {
    pub topic: String,
    pub start: Timestamp,
    pub duration_minutes: u32,
    /// IANA name, e.g. `Europe/Berlin`; Zoom shows the meeting in it.
    pub timezone: String,
    pub agenda: Option<String>,
}

/// A meeting as Zoom reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoomMeeting {
    /// Zoom's numeric meeting id, as its decimal string.
    pub id: String,
    pub join_url: String,
    /// The host's link; it carries a credential, so do not show it to attendees.
    pub start_url: Option<String>,
    pub password: Option<String>,
    pub start: Option<Timestamp>,
    pub duration_minutes: Option<u32>,
    pub topic: Option<String>,
    /// `None` when Zoom sends none or an empty one.
    pub agenda: Option<String>,
}

impl ZoomClient {
    pub fn new(config: ZoomConfig, http: HttpClient) -> Self {
        Self {
            config: Arc::new(config),
            http,
        }
    }

    pub fn config(&self) -> &ZoomConfig {
        &self.config
    }

    /// Where to send the browser to connect Zoom (authorization code + PKCE S256).
    pub fn authorize_url(&self, state: &str, pkce: &Pkce) -> String {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", &self.config.redirect_uri)
            .append_pair("state", state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256")
            .finish();
        format!("{}?{query}", self.oauth_url("authorize"))
    }

    /// Exchanges the callback's `code` (once; it works once) for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: &Secret,
    ) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.config.redirect_uri),
            ("code_verifier", verifier.expose()),
        ])
        .await
    }

    /// Refreshes the access token. Sent exactly once: Zoom rotates the refresh token,
    /// so the returned `refresh_token` replaces the old one, which stops working.
    /// `invalid_grant` (already used, revoked, expired) → `NeedsReauth`.
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, ProviderError> {
        self.token_request(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// Revokes an access or refresh token (`POST /oauth/revoke?token=…`).
    pub async fn revoke(&self, token: &Secret) -> Result<(), ProviderError> {
        let url = self.oauth_url("revoke");
        let response = self
            .http
            .send_with_retry(
                |c| {
                    c.post(&url).query(&[("token", token.expose())]).basic_auth(
                        &self.config.client_id,
                        Some(self.config.client_secret.expose()),
                    )
                },
                RetryPolicy::once(),
            )
            .await?;
        self.expect_success(Endpoint::OAuth, &response)
    }

    /// The user the access token belongs to.
    pub async fn me(&self, access: &Secret) -> Result<ZoomUser, ProviderError> {
        let url = self.api_url(&["users", "me"])?;
        let response = self
            .http
            .send_with_retry(
                |c| c.get(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        let user: ZoomUserResponse = self.decode(Endpoint::Api, &response)?;
        Ok(ZoomUser {
            id: user.id,
            account_id: user.account_id,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            role_name: user.role_name,
            timezone: user.timezone,
        })
    }

    /// Schedules a meeting for `user_id` (`me`, a user id, or an email in an org
    /// account). Sent once: a retry could create a second meeting, so the caller
    /// stores the returned id before anything else.
    pub async fn create_meeting(
        &self,
        access: &Secret,
        user_id: &str,
        m: &MeetingRequest,
    ) -> Result<ZoomMeeting, ProviderError> {
        let url = self.api_url(&["users", user_id, "meetings"])?;
        let body = meeting_body(m);
        let response = self
            .http
            .send_with_retry(
                |c| c.post(url.clone()).bearer_auth(access.expose()).json(&body),
                RetryPolicy::once(),
            )
            .await?;
        let meeting: ZoomMeetingResponse = self.decode(Endpoint::Api, &response)?;
        Ok(meeting_from_wire(meeting))
    }

    /// Changes a meeting's topic, time, duration, time zone and agenda (→ 204).
    /// Idempotent (it sets the same values), so it is retried.
    pub async fn update_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
        m: &MeetingRequest,
    ) -> Result<(), ProviderError> {
        let url = self.api_url(&["meetings", meeting_id])?;
        let body = meeting_body(m);
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
        self.expect_success(Endpoint::Api, &response)
    }

    /// Deletes a meeting (→ 204). A meeting already gone is `NotFound` (code 3001):
    /// the caller treats that as done.
    pub async fn delete_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
    ) -> Result<(), ProviderError> {
        let url = self.api_url(&["meetings", meeting_id])?;
        let response = self
            .http
            .send_with_retry(
                |c| c.delete(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        self.expect_success(Endpoint::Api, &response)
    }

    pub async fn get_meeting(
        &self,
        access: &Secret,
        meeting_id: &str,
    ) -> Result<ZoomMeeting, ProviderError> {
        let url = self.api_url(&["meetings", meeting_id])?;
        let response = self
            .http
            .send_with_retry(
                |c| c.get(url.clone()).bearer_auth(access.expose()),
                RetryPolicy::idempotent(),
            )
            .await?;
        let meeting: ZoomMeetingResponse = self.decode(Endpoint::Api, &response)?;
        Ok(meeting_from_wire(meeting))
    }

    /// Every upcoming (or in progress) meeting of `user_id` (`me`, a user id, or an
    /// email in an org account), following `next_page_token` to the last page. For
    /// adopting a meeting whose create answer was lost: the caller looks for the one
    /// it asked for (by topic, start and agenda) before creating again.
    ///
    /// Each page is retried (a read). More than 20 pages (6000 meetings), or a page
    /// token that repeats, is `Rejected` with code `too_many_pages` rather than a
    /// partial list: a meeting missed on an unread page would be created twice.
    pub async fn list_meetings(
        &self,
        access: &Secret,
        user_id: &str,
    ) -> Result<Vec<ZoomMeeting>, ProviderError> {
        let base = self.api_url(&["users", user_id, "meetings"])?;
        let mut meetings = Vec::new();
        let mut page_token: Option<String> = None;
        for _ in 0..MAX_LIST_PAGES {
            let mut url = base.clone();
            {
                let mut query = url.query_pairs_mut();
                query
                    .append_pair("type", "upcoming")
                    .append_pair("page_size", LIST_PAGE_SIZE);
                if let Some(token) = &page_token {
                    query.append_pair("next_page_token", token);
                }
            }
            let response = self
                .http
                .send_with_retry(
                    |c| c.get(url.clone()).bearer_auth(access.expose()),
                    RetryPolicy::idempotent(),
                )
                .await?;
            let page: ZoomMeetingList = self.decode(Endpoint::Api, &response)?;
            meetings.extend(page.meetings.into_iter().map(meeting_from_wire));
            let next = page.next_page_token.filter(|t| !t.is_empty());
            match next {
                None => return Ok(meetings),
                Some(next) if page_token.as_deref() == Some(next.as_str()) => {
                    return Err(too_many_pages("Zoom repeated a page token"));
                }
                Some(next) => page_token = Some(next),
            }
        }
        Err(too_many_pages(&format!(
            "more than {MAX_LIST_PAGES} pages of meetings"
        )))
    }

    /// `POST {oauth_base}/oauth/token` with Basic client auth and a form body; sent once.
    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, ProviderError> {
        let url = self.oauth_url("token");
        // Expiry counts from before the request, so it errs on the early side.
        let issued = self.http.now();
        let response = self
            .http
            .send_with_retry(
                |c| {
                    c.post(&url)
                        .basic_auth(
                            &self.config.client_id,
                            Some(self.config.client_secret.expose()),
                        )
                        .form(form)
                },
                RetryPolicy::once(),
            )
            .await?;
        if !response.is_success() {
            return Err(error_from_response(
                Endpoint::OAuth,
                &response,
                self.http.now(),
            ));
        }
        // No serde detail in this message: it could quote a token.
        let tokens: ZoomTokenResponse =
            serde_json::from_slice(&response.body).map_err(|_| ProviderError::Rejected {
                status: response.status.as_u16(),
                code: "unexpected_response".into(),
                message: "Zoom's token response is not the JSON Convene expects".into(),
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

    fn oauth_url(&self, endpoint: &str) -> String {
        format!(
            "{}/oauth/{endpoint}",
            self.config.oauth_base_url.trim_end_matches('/')
        )
    }

    /// `{api_base}/v2/<segments>`, each segment percent-encoded (so an id cannot
    /// change the path).
    fn api_url(&self, segments: &[&str]) -> Result<Url, ProviderError> {
        let bad_base = |why: String| ProviderError::Rejected {
            status: 0,
            code: "invalid_base_url".into(),
            message: format!("the Zoom API base URL {:?} {why}", self.config.api_base_url),
        };
        if let Some(bad) = segments
            .iter()
            .find(|s| s.is_empty() || **s == "." || **s == "..")
        {
            return Err(ProviderError::Rejected {
                status: 0,
                code: "invalid_id".into(),
                message: format!("{bad:?} is not a Zoom id"),
            });
        }
        let mut url = Url::parse(&self.config.api_base_url)
            .map_err(|e| bad_base(format!("is not a URL: {e}")))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| bad_base("cannot have a path".into()))?;
            path.pop_if_empty().push("v2");
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
            message: format!("Zoom's response is not the JSON Convene expects: {e}"),
        })
    }
}

fn meeting_body(m: &MeetingRequest) -> ZoomMeetingBody<'_> {
    ZoomMeetingBody {
        topic: truncate(&m.topic, MAX_TOPIC_CHARS),
        kind: SCHEDULED_MEETING,
        start_time: m.start.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        duration: m.duration_minutes,
        timezone: &m.timezone,
        agenda: m.agenda.as_deref().map(|a| truncate(a, MAX_AGENDA_CHARS)),
    }
}

fn meeting_from_wire(m: ZoomMeetingResponse) -> ZoomMeeting {
    ZoomMeeting {
        id: m.id.into_string(),
        join_url: m.join_url,
        start_url: m.start_url,
        password: m.password.filter(|p| !p.is_empty()),
        start: m.start_time.as_deref().and_then(|t| t.parse().ok()),
        duration_minutes: m.duration,
        topic: m.topic,
        agenda: m.agenda.filter(|a| !a.is_empty()),
    }
}

fn too_many_pages(why: &str) -> ProviderError {
    ProviderError::Rejected {
        status: 0,
        code: "too_many_pages".into(),
        message: format!("listing Zoom meetings stopped: {why}"),
    }
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

    #[test]
    fn meeting_body_is_zooms_shape() {
        let m = MeetingRequest {
            topic: "Intro call".into(),
            start: "2026-12-01T15:00:00.250Z".parse().unwrap(),
            duration_minutes: 30,
            timezone: "Europe/Berlin".into(),
            agenda: None,
        };
        let json = serde_json::to_value(meeting_body(&m)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"topic":"Intro call","type":2,"start_time":"2026-12-01T15:00:00Z","duration":30,"timezone":"Europe/Berlin"})
        );
    }

    #[test]
    fn long_fields_are_cut_on_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "hé");
        assert_eq!(truncate("abc", 5), "abc");
        let m = MeetingRequest {
            topic: "ü".repeat(300),
            start: Timestamp::UNIX_EPOCH,
            duration_minutes: 15,
            timezone: "UTC".into(),
            agenda: Some("a".repeat(5000)),
        };
        let body = meeting_body(&m);
        assert_eq!(body.topic.chars().count(), MAX_TOPIC_CHARS);
        assert_eq!(body.agenda.map(str::len), Some(MAX_AGENDA_CHARS));
    }

    #[test]
    fn api_urls_encode_ids_as_one_segment() {
        let client = ZoomClient::new(
            ZoomConfig {
                client_id: "id".into(),
                client_secret: Secret::from("s"),
                oauth_base_url: "https://zoom.us/".into(),
                api_base_url: "http://127.0.0.1:9/sandbox/zoom/".into(),
                redirect_uri: "https://convene.example/cb".into(),
                webhook_secret: Secret::from("w"),
            },
            HttpClient::new(Default::default()).unwrap(),
        );
        assert_eq!(
            client
                .api_url(&["meetings", "85746065432"])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/sandbox/zoom/v2/meetings/85746065432"
        );
        assert_eq!(
            client
                .api_url(&["meetings", "../users/x?y"])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/sandbox/zoom/v2/meetings/..%2Fusers%2Fx%3Fy"
        );
        assert_eq!(client.oauth_url("token"), "https://zoom.us/oauth/token");
        for bad in ["", ".", ".."] {
            assert!(matches!(
                client.api_url(&["meetings", bad]),
                Err(ProviderError::Rejected { status: 0, .. })
            ));
        }
    }
}
