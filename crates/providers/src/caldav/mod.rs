//! CalDAV (RFC 4791): any standards server (Radicale, Nextcloud, iCloud, Fastmail)
//! with a user name and (app) password. Discovery of the user's calendars, busy times,
//! and the one event Convene writes per booking. Follows `providers.md` (CalDAV).
//!
//! [`CalDavClient`] holds an [`HttpClient`] only; credentials come in with every call
//! (HTTP Basic: there is no token, so nothing to refresh; a refused password is
//! `Rejected { code: "bad_credentials" }`, see [`errors`]).
//!
//! Idempotency: an event lives at `{calendar}/{uid}.ics` with `uid` derived from
//! [`EventDraft::key`], and is created with `If-None-Match: *`. A repeated create
//! (a retry after a lost answer, a re-run job) gets `412` and adopts the event already
//! there, so creates are retried in-request like every other call here.
//!
//! Limits: an answer larger than [`MAX_RESPONSE_BYTES`] (or than the HTTP client's
//! own read limit, [`MAX_BODY_BYTES`], whichever is smaller) is refused, and so is a
//! window holding more than [`MAX_BUSY_INSTANCES`] busy events; both are
//! `Rejected`, never a partial (and so too free) answer.

mod errors;
mod ical;
mod xml;

use crate::calendar::{BusyTime, CalendarAccount, CalendarInfo, EventDraft, EventRef};
use crate::error::ProviderError;
use crate::http::{HttpClient, HttpResponse, RetryPolicy, MAX_BODY_BYTES};
use crate::secret::Secret;
use errors::{error_from_response, not_caldav, too_large, Step};
use jiff::Timestamp;
use reqwest::header::{
    HeaderName, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION,
};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use url::Url;
use xml::DavResponse;

/// Answers larger than this are refused (the HTTP client's read limit may be lower).
pub const MAX_RESPONSE_BYTES: usize = 5 * 1024 * 1024;
/// Busy events one [`CalDavClient::busy`] call returns at most before refusing.
pub const MAX_BUSY_INSTANCES: usize = 10_000;
/// Redirects followed per discovery request (`/.well-known/caldav` → the DAV root is
/// one; a login page loop is many).
const MAX_REDIRECTS: usize = 3;
/// RFC 6764: where a server announces its CalDAV root.
const WELL_KNOWN: &str = "/.well-known/caldav";
/// Longest event key used as a UID as it is; longer ones are hashed.
const MAX_PLAIN_UID: usize = 128;
const ICALENDAR: &str = "text/calendar; charset=utf-8";
const XML: &str = "application/xml; charset=utf-8";

/// A CalDAV account: the server (any URL on it; discovery finds the rest), and HTTP
/// Basic credentials, usually an app password.
#[derive(Debug, Clone)]
pub struct CalDavCredentials {
    pub server_url: Url,
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone)]
pub struct CalDavClient {
    http: HttpClient,
}

impl CalDavClient {
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// The account behind the credentials and its calendars that hold events.
    ///
    /// `PROPFIND` (Depth 0) for `current-user-principal` on the server URL, following
    /// up to three redirects; if that is not a WebDAV answer (404, a web page, …) the
    /// same is tried on `/.well-known/caldav`. Then `calendar-home-set` on the
    /// principal, then (Depth 1) the home's children: those whose `resourcetype` has
    /// `calendar` and that take VEVENTs. The account id is the principal URL, the
    /// email the `mailto:` of `calendar-user-address-set` (else the user name).
    /// Calendar ids are their absolute URLs; the first writable one is `primary`.
    pub async fn discover(
        &self,
        creds: &CalDavCredentials,
    ) -> Result<(CalendarAccount, Vec<CalendarInfo>), ProviderError> {
        check_scheme(&creds.server_url)?;
        let (root_url, root) = self.find_root(creds).await?;
        let principal = root
            .iter()
            .find_map(|r| r.props.current_user_principal.as_deref())
            .map(|href| resolve_href(&root_url, href))
            .transpose()?
            // A server without RFC 5397 is asked about the URL itself.
            .unwrap_or(root_url);

        let (principal, answer) = self
            .propfind(creds, principal, "0", xml::PROPFIND_HOME)
            .await?;
        let props = merged_props(&answer);
        let home_href = props
            .calendar_home_set
            .first()
            .ok_or_else(|| ProviderError::Rejected {
                status: 207,
                code: "no_calendar_home".into(),
                message: "the CalDAV server names no calendar home for this user".into(),
            })?;
        let home = resolve_href(&principal, home_href)?;
        let email = props
            .calendar_user_address_set
            .iter()
            .find_map(|a| strip_prefix_ignore_case(a, "mailto:"))
            .filter(|e| !e.is_empty())
            .map_or_else(|| creds.username.clone(), str::to_owned);
        let account = CalendarAccount {
            id: principal.to_string(),
            email,
            display_name: props.displayname.unwrap_or_else(|| creds.username.clone()),
        };

        let (home, members) = self
            .propfind(creds, home, "1", xml::PROPFIND_CALENDARS)
            .await?;
        let mut calendars: Vec<CalendarInfo> = Vec::new();
        for member in members {
            if member.status.is_some_and(|s| !(200..300).contains(&s)) || !member.props.is_calendar
            {
                continue;
            }
            let takes_events = member
                .props
                .supported_components
                .as_ref()
                .is_none_or(|set| set.iter().any(|c| c == "VEVENT"));
            if !takes_events {
                continue;
            }
            let url = resolve_href(&home, &member.href)?;
            let id = url.to_string();
            if calendars.iter().any(|c| c.id == id) {
                continue;
            }
            let writable = member.props.privileges.as_ref().is_none_or(|granted| {
                granted
                    .iter()
                    .any(|p| matches!(p.as_str(), "all" | "write" | "write-content" | "bind"))
            });
            let name = member
                .props
                .displayname
                .clone()
                .unwrap_or_else(|| last_segment(&url).unwrap_or_else(|| "Calendar".into()));
            calendars.push(CalendarInfo {
                id,
                name,
                primary: false,
                writable,
            });
        }
        // CalDAV has no "main calendar"; the first writable one is where new
        // meetings go unless the user picks another.
        if let Some(first) = calendars.iter_mut().find(|c| c.writable) {
            first.primary = true;
        }
        Ok((account, calendars))
    }

    /// Busy spans in `[from, to)` across `calendar_urls` (calendar ids from
    /// [`discover`](Self::discover)), sorted, exact duplicates removed.
    ///
    /// One `calendar-query` REPORT per calendar with a `time-range` filter, asking the
    /// server to expand recurrences; events it leaves unexpanded are expanded here
    /// (see `ical.rs`), and a rule that cannot be is an error. Transparent and
    /// cancelled events are not busy.
    pub async fn busy(
        &self,
        creds: &CalDavCredentials,
        calendar_urls: &[impl AsRef<str>],
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<BusyTime>, ProviderError> {
        let mut out = Vec::new();
        if from >= to {
            return Ok(out);
        }
        let query = xml::calendar_query(&ical_utc(from), &ical_utc(to));
        let report = dav_method("REPORT")?;
        for calendar in calendar_urls {
            let url = parse_url(calendar.as_ref())?;
            let response = self
                .send(
                    creds,
                    report.clone(),
                    &url,
                    &[(depth(), "1")],
                    Some((XML, &query)),
                    RetryPolicy::idempotent(),
                )
                .await?;
            let members = self.multistatus(Step::Read, &response)?;
            for member in members {
                // A member that vanished between listing and reading has no data.
                if member.status.is_some_and(|s| !(200..300).contains(&s)) {
                    continue;
                }
                let Some(data) = member.props.calendar_data.as_deref() else {
                    return Err(ProviderError::Rejected {
                        status: response.status.as_u16(),
                        code: "unexpected_response".into(),
                        message: format!(
                            "the CalDAV server sent {} without its calendar data",
                            member.href
                        ),
                    });
                };
                ical::collect_busy(data, from, to, MAX_BUSY_INSTANCES, &mut out)
                    .map_err(|e| ical_error(&member.href, e))?;
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Writes the booking's event to `calendar_url` as `{uid}.ics` with
    /// `If-None-Match: *`. If it exists already (412: an earlier attempt got through),
    /// that event is the answer: it is fetched for its ETag, not written twice.
    pub async fn create_event(
        &self,
        creds: &CalDavCredentials,
        calendar_url: &str,
        draft: &EventDraft,
    ) -> Result<EventRef, ProviderError> {
        check_draft(draft)?;
        let uid = event_uid(&draft.key);
        let url = collection(parse_url(calendar_url)?)
            .join(&format!("{uid}.ics"))
            .map_err(|e| invalid_url(calendar_url, &e))?;
        let body = ical::event_ics(&uid, self.http.now(), draft);
        let response = self
            .send(
                creds,
                Method::PUT,
                &url,
                &[(IF_NONE_MATCH, "*")],
                Some((ICALENDAR, &body)),
                RetryPolicy::idempotent(),
            )
            .await?;
        if response.is_success() {
            return Ok(EventRef {
                id: url.to_string(),
                etag: etag_of(&response),
            });
        }
        if response.status != StatusCode::PRECONDITION_FAILED {
            return Err(error_from_response(Step::Write, &response, self.http.now()));
        }
        match self.fetch_etag(creds, &url).await {
            Ok(etag) => Ok(EventRef {
                id: url.to_string(),
                etag,
            }),
            // It existed a moment ago and is gone now: trying again will create it.
            Err(ProviderError::NotFound { .. }) => Err(ProviderError::Transient(
                "the event was deleted on the CalDAV server while Convene created it".into(),
            )),
            Err(e) => Err(e),
        }
    }

    /// Replaces the event at `event_url` (from [`create_event`](Self::create_event))
    /// with `draft`, keeping its UID. Sent with `If-Match: <etag>` (or `*` when no
    /// ETag is known, so a deleted event is `NotFound` rather than written again). On
    /// 412 the current ETag is fetched and the write tried once more; Convene owns
    /// this event, so its version wins.
    pub async fn update_event(
        &self,
        creds: &CalDavCredentials,
        event_url: &str,
        draft: &EventDraft,
        etag: Option<&str>,
    ) -> Result<EventRef, ProviderError> {
        check_draft(draft)?;
        let url = parse_url(event_url)?;
        let uid = uid_from_url(&url).unwrap_or_else(|| event_uid(&draft.key));
        let body = ical::event_ics(&uid, self.http.now(), draft);
        let mut precondition = etag.map(str::to_owned);
        for attempt in 0..2 {
            let if_match = precondition.clone().unwrap_or_else(|| "*".into());
            let response = self
                .send(
                    creds,
                    Method::PUT,
                    &url,
                    &[(IF_MATCH, &if_match)],
                    Some((ICALENDAR, &body)),
                    RetryPolicy::idempotent(),
                )
                .await?;
            if response.is_success() {
                return Ok(EventRef {
                    id: event_url.to_owned(),
                    etag: etag_of(&response),
                });
            }
            if response.status != StatusCode::PRECONDITION_FAILED || attempt > 0 {
                return Err(error_from_response(Step::Write, &response, self.http.now()));
            }
            precondition = self.fetch_etag(creds, &url).await?;
        }
        // The loop returns on its second pass.
        Err(ProviderError::Rejected {
            status: 412,
            code: "conflict".into(),
            message: "the event kept changing on the CalDAV server".into(),
        })
    }

    /// Deletes the event at `event_url`; an event already gone (404, 410) is done.
    pub async fn delete_event(
        &self,
        creds: &CalDavCredentials,
        event_url: &str,
    ) -> Result<(), ProviderError> {
        let url = parse_url(event_url)?;
        let response = self
            .send(
                creds,
                Method::DELETE,
                &url,
                &[],
                None,
                RetryPolicy::idempotent(),
            )
            .await?;
        if response.is_success()
            || matches!(response.status, StatusCode::NOT_FOUND | StatusCode::GONE)
        {
            Ok(())
        } else {
            Err(error_from_response(Step::Write, &response, self.http.now()))
        }
    }

    /// The principal lookup on the server URL, else on `/.well-known/caldav`.
    async fn find_root(
        &self,
        creds: &CalDavCredentials,
    ) -> Result<(Url, Vec<DavResponse>), ProviderError> {
        let (url, response) = self
            .propfind_raw(
                creds,
                creds.server_url.clone(),
                "0",
                xml::PROPFIND_PRINCIPAL,
            )
            .await?;
        let first = self.discovery_answer(url, &response);
        // Worth another try at the well-known address: a 404, a web page, a
        // redirect loop. Not: a refused password, a busy or unreachable server.
        let unusable = match &first {
            Ok(_) => false,
            Err(e) => {
                !e.is_retryable()
                    && !matches!(e, ProviderError::Rejected { code, .. } if code == "bad_credentials")
            }
        };
        if unusable && creds.server_url.path() != WELL_KNOWN {
            let well_known = creds
                .server_url
                .join(WELL_KNOWN)
                .map_err(|e| invalid_url(creds.server_url.as_str(), &e))?;
            if let Ok((url, response)) = self
                .propfind_raw(creds, well_known, "0", xml::PROPFIND_PRINCIPAL)
                .await
            {
                if let Ok(found) = self.discovery_answer(url, &response) {
                    return Ok(found);
                }
            }
        }
        // What the user's own URL answered explains best what is wrong.
        first
    }

    fn discovery_answer(
        &self,
        url: Url,
        response: &HttpResponse,
    ) -> Result<(Url, Vec<DavResponse>), ProviderError> {
        Ok((url, self.multistatus(Step::Discovery, response)?))
    }

    /// A discovery `PROPFIND` whose answer must be a multistatus.
    async fn propfind(
        &self,
        creds: &CalDavCredentials,
        url: Url,
        depth_value: &str,
        body: &str,
    ) -> Result<(Url, Vec<DavResponse>), ProviderError> {
        let (url, response) = self.propfind_raw(creds, url, depth_value, body).await?;
        self.discovery_answer(url, &response)
    }

    /// `PROPFIND`, following up to [`MAX_REDIRECTS`] redirects (never from https to
    /// http: the password would travel in clear). Returns the URL that answered.
    async fn propfind_raw(
        &self,
        creds: &CalDavCredentials,
        mut url: Url,
        depth_value: &str,
        body: &str,
    ) -> Result<(Url, HttpResponse), ProviderError> {
        let propfind = dav_method("PROPFIND")?;
        let mut hops = 0;
        loop {
            let response = self
                .send(
                    creds,
                    propfind.clone(),
                    &url,
                    &[(depth(), depth_value)],
                    Some((XML, body)),
                    RetryPolicy::idempotent(),
                )
                .await?;
            let next = response
                .status
                .is_redirection()
                .then(|| response.headers.get(LOCATION))
                .flatten()
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .filter(|next| secure_enough(&url, next));
            match next {
                Some(next) if hops < MAX_REDIRECTS => {
                    hops += 1;
                    url = next;
                }
                _ => return Ok((url, response)),
            }
        }
    }

    /// The multistatus of a `207` answer; anything else is an error.
    fn multistatus(
        &self,
        step: Step,
        response: &HttpResponse,
    ) -> Result<Vec<DavResponse>, ProviderError> {
        if response.status != StatusCode::MULTI_STATUS {
            if response.is_success() {
                // 200 to a PROPFIND or REPORT is a web page or an API, not WebDAV.
                return Err(not_caldav(response.status));
            }
            return Err(error_from_response(step, response, self.http.now()));
        }
        xml::parse_multistatus(&response.body).map_err(|e| {
            tracing::debug!(error = %e, "CalDAV answer is not a multistatus");
            not_caldav(response.status)
        })
    }

    /// The event's current ETag (`GET`); `NotFound` when it is gone.
    async fn fetch_etag(
        &self,
        creds: &CalDavCredentials,
        url: &Url,
    ) -> Result<Option<String>, ProviderError> {
        let response = self
            .send(
                creds,
                Method::GET,
                url,
                &[],
                None,
                RetryPolicy::idempotent(),
            )
            .await?;
        if response.is_success() {
            Ok(etag_of(&response))
        } else {
            Err(error_from_response(Step::Read, &response, self.http.now()))
        }
    }

    /// One request with Basic auth, extra headers and an optional body, read in full
    /// and refused when too large.
    async fn send(
        &self,
        creds: &CalDavCredentials,
        method: Method,
        url: &Url,
        headers: &[(HeaderName, &str)],
        body: Option<(&str, &str)>,
        policy: RetryPolicy,
    ) -> Result<HttpResponse, ProviderError> {
        let response = self
            .http
            .send_with_retry(
                |c| {
                    let mut request = c
                        .request(method.clone(), url.clone())
                        .basic_auth(&creds.username, Some(creds.password.expose()));
                    for (name, value) in headers {
                        request = request.header(name, *value);
                    }
                    if let Some((content_type, body)) = body {
                        request = request
                            .header(CONTENT_TYPE, content_type)
                            .body(body.to_owned());
                    }
                    request
                },
                policy,
            )
            .await?;
        let limit = MAX_RESPONSE_BYTES.min(MAX_BODY_BYTES);
        let declared = response
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        // The HTTP client stops reading at its limit, so a body that reached it was
        // probably cut short.
        if declared.is_some_and(|n| n > limit as u64) || response.body.len() >= limit {
            return Err(too_large(response.status, limit));
        }
        Ok(response)
    }
}

fn depth() -> HeaderName {
    HeaderName::from_static("depth")
}

fn dav_method(name: &'static str) -> Result<Method, ProviderError> {
    Method::from_bytes(name.as_bytes()).map_err(|_| ProviderError::Rejected {
        status: 0,
        code: "invalid_request".into(),
        message: format!("{name} is not an HTTP method"),
    })
}

/// The resource name and `UID` for a booking's event: the key itself when it is
/// short and made of URL- and filename-safe characters, else a hash of it (stable,
/// so retries find the same resource).
fn event_uid(key: &str) -> String {
    let plain = !key.is_empty()
        && key.len() <= MAX_PLAIN_UID
        && !key.starts_with('.')
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if plain {
        key.to_owned()
    } else {
        let digest = Sha256::digest(key.as_bytes());
        format!("convene-{}", hex::encode(&digest[..20]))
    }
}

/// The UID of an event Convene wrote: its resource name without `.ics`.
fn uid_from_url(url: &Url) -> Option<String> {
    let name = last_segment(url)?;
    let uid = name.strip_suffix(".ics")?;
    (!uid.is_empty()).then(|| uid.to_owned())
}

/// The last non-empty path segment, percent-decoded.
fn last_segment(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    Some(
        url::form_urlencoded::parse(format!("x={segment}").as_bytes())
            .next()
            .map_or_else(|| segment.to_owned(), |(_, v)| v.into_owned()),
    )
}

/// A collection URL with its trailing slash, so joining a name appends to it.
fn collection(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn parse_url(s: &str) -> Result<Url, ProviderError> {
    let url = Url::parse(s).map_err(|e| invalid_url(s, &e))?;
    check_scheme(&url)?;
    Ok(url)
}

fn check_scheme(url: &Url) -> Result<(), ProviderError> {
    if matches!(url.scheme(), "http" | "https") && url.host().is_some() {
        Ok(())
    } else {
        Err(ProviderError::Rejected {
            status: 0,
            code: "invalid_url".into(),
            message: format!("{} is not an http(s) address", url.as_str()),
        })
    }
}

fn invalid_url(s: &str, e: &url::ParseError) -> ProviderError {
    ProviderError::Rejected {
        status: 0,
        code: "invalid_url".into(),
        message: format!("{s:?} is not a usable address: {e}"),
    }
}

/// An href from a multistatus as an absolute URL, relative to the URL that answered.
fn resolve_href(base: &Url, href: &str) -> Result<Url, ProviderError> {
    let url = base.join(href).map_err(|e| invalid_url(href, &e))?;
    check_scheme(&url)?;
    if !secure_enough(base, &url) {
        return Err(ProviderError::Rejected {
            status: 0,
            code: "insecure_address".into(),
            message: format!("the CalDAV server points to {url}, which is not https"),
        });
    }
    Ok(url)
}

/// Never from https to http: the password would then travel in clear.
fn secure_enough(from: &Url, to: &Url) -> bool {
    from.scheme() != "https" || to.scheme() == "https"
}

/// The properties of a Depth 0 answer, whatever `href` the server gave its response.
fn merged_props(responses: &[DavResponse]) -> xml::Props {
    let mut props = xml::Props::default();
    for r in responses {
        let p = &r.props;
        if props.calendar_home_set.is_empty() {
            props.calendar_home_set.clone_from(&p.calendar_home_set);
        }
        if props.calendar_user_address_set.is_empty() {
            props
                .calendar_user_address_set
                .clone_from(&p.calendar_user_address_set);
        }
        if props.displayname.is_none() {
            props.displayname.clone_from(&p.displayname);
        }
    }
    props
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s[prefix.len()..].trim())
}

fn etag_of(response: &HttpResponse) -> Option<String> {
    response
        .headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|e| !e.is_empty())
}

fn check_draft(draft: &EventDraft) -> Result<(), ProviderError> {
    if draft.end <= draft.start {
        return Err(ProviderError::Rejected {
            status: 0,
            code: "invalid_request".into(),
            message: "the event must end after it starts".into(),
        });
    }
    Ok(())
}

fn ical_utc(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn ical_error(href: &str, e: ical::IcalError) -> ProviderError {
    let code = match e {
        ical::IcalError::Invalid(_) => "invalid_icalendar",
        ical::IcalError::Unsupported(_) => "unsupported_icalendar",
        ical::IcalError::TooManyInstances(_) => "too_many_events",
    };
    ProviderError::Rejected {
        status: 0,
        code: code.into(),
        message: format!("{e} (in {href})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_the_key_when_safe_else_a_stable_hash() {
        assert_eq!(event_uid("booking-42_host.7"), "booking-42_host.7");
        let hashed = event_uid("booking:42/host 7");
        assert!(
            hashed.starts_with("convene-") && hashed.len() == 48,
            "{hashed}"
        );
        assert_eq!(hashed, event_uid("booking:42/host 7"));
        assert_ne!(hashed, event_uid("booking:42/host 8"));
        for unsafe_key in ["", ".hidden", "../x", "a?b", "ü", &"a".repeat(200)] {
            assert!(
                event_uid(unsafe_key).starts_with("convene-"),
                "{unsafe_key}"
            );
        }
    }

    #[test]
    fn event_urls_and_uids() {
        let cal = collection(Url::parse("https://dav.example/alice/work").unwrap());
        assert_eq!(cal.as_str(), "https://dav.example/alice/work/");
        let event = cal.join("booking-1.ics").unwrap();
        assert_eq!(
            event.as_str(),
            "https://dav.example/alice/work/booking-1.ics"
        );
        assert_eq!(uid_from_url(&event).as_deref(), Some("booking-1"));
        assert_eq!(uid_from_url(&cal), None);
        assert_eq!(
            last_segment(&Url::parse("https://dav.example/alice/My%20Cal/").unwrap()).as_deref(),
            Some("My Cal")
        );
    }

    #[test]
    fn hrefs_resolve_against_the_answering_url_and_never_downgrade() {
        let base = Url::parse("https://dav.example/dav/").unwrap();
        assert_eq!(
            resolve_href(&base, "/principals/alice/").unwrap().as_str(),
            "https://dav.example/principals/alice/"
        );
        assert_eq!(
            resolve_href(&base, "https://p07-caldav.example.com/123/calendars/")
                .unwrap()
                .as_str(),
            "https://p07-caldav.example.com/123/calendars/"
        );
        assert!(resolve_href(&base, "http://dav.example/alice/").is_err());
        assert!(resolve_href(&base, "ftp://dav.example/alice/").is_err());
        let plain = Url::parse("http://127.0.0.1:5232/").unwrap();
        assert!(resolve_href(&plain, "/alice/").is_ok());
    }

    #[test]
    fn mailto_addresses() {
        assert_eq!(
            strip_prefix_ignore_case("MAILTO:a@b.c", "mailto:"),
            Some("a@b.c")
        );
        assert_eq!(strip_prefix_ignore_case("/alice/", "mailto:"), None);
        assert_eq!(strip_prefix_ignore_case("mä", "mailto:"), None);
    }
}
