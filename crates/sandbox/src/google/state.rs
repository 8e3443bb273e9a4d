//! The Google sandbox's in-memory state — users and their calendars, authorization
//! codes, grants and their tokens, events, counters — and the OAuth operations on it.
//! Everything here is synchronous and runs under the sandbox's one mutex.
//!
//! A *grant* is one completed authorization (one code exchange) of a user for a client,
//! with the scopes the user allowed. Its refresh token (when `access_type=offline` gave
//! one) does **not** rotate, as at Google: every refresh returns a new access token and
//! the same refresh token keeps working until the grant ends. Revoking any token of a
//! grant ends that grant; revoking from the control page ends all of the user's grants.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::accounts::{self, GoogleUser, GOOGLE_TEST_ACCOUNTS};
use crate::faults::Faults;
use crate::util;

/// How long an authorization code lives (Google: a few minutes).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// A user with what the sandbox counts about them.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    pub user: GoogleUser,
    pub token_exchanges: u64,
    pub refreshes: u64,
    pub refresh_failures: u64,
    /// The last thing that happened to this user's connection, for the control page.
    pub last_event: Option<String>,
}

struct AuthCode {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    email: String,
    scopes: Vec<String>,
    /// `access_type=offline`: the exchange returns a refresh token.
    offline: bool,
    /// `prompt=consent`: a refresh token is returned even if the user already granted one.
    forced_consent: bool,
    expires: Instant,
}

struct Grant {
    email: String,
    client_id: String,
    scopes: Vec<String>,
    live: bool,
}

struct AccessEntry {
    grant: u64,
    expires: Instant,
}

/// What the token endpoint hands out.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Vec<String>,
    pub email: String,
}

/// A token-endpoint failure: HTTP status, OAuth `error` and `error_description`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OAuthFailure {
    pub status: u16,
    pub error: &'static str,
    pub description: &'static str,
}

const fn failure(status: u16, error: &'static str, description: &'static str) -> OAuthFailure {
    OAuthFailure {
        status,
        error,
        description,
    }
}

pub(crate) const UNKNOWN_CLIENT: OAuthFailure =
    failure(401, "invalid_client", "The OAuth client was not found.");
pub(crate) const BAD_CLIENT_SECRET: OAuthFailure = failure(401, "invalid_client", "Unauthorized");
const BAD_CODE: OAuthFailure = failure(400, "invalid_grant", "Bad Request");
pub(crate) const DEAD_REFRESH_TOKEN: OAuthFailure =
    failure(400, "invalid_grant", "Token has been expired or revoked.");

/// Why a bearer token was refused (both are 401).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Invalid,
    Expired,
}

/// The caller of an API request: the user and the scopes of their grant.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub user: GoogleUser,
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attendee {
    pub email: String,
    pub display_name: Option<String>,
}

/// An event the sandbox holds. Deleted events stay, `cancelled`, as at Google (their
/// ids cannot be reused).
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub calendar_id: String,
    pub id: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start: Timestamp,
    pub end: Timestamp,
    /// A `date` (all-day) event rather than a `dateTime` one.
    pub all_day: bool,
    /// The `timeZone` given with the times, if any.
    pub time_zone: Option<String>,
    pub attendees: Vec<Attendee>,
    /// `transparent` events do not make their calendar busy.
    pub transparent: bool,
    pub tentative: bool,
    pub cancelled: bool,
    pub creator: String,
    pub created: Timestamp,
    pub updated: Timestamp,
    pub sequence: u32,
    /// How many updates (`PATCH`/`PUT`) it received.
    pub updates: u32,
}

impl Event {
    pub(crate) fn etag(&self) -> String {
        format!("\"{}\"", self.updated.as_microsecond())
    }
}

/// The sandbox-wide counters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub token_exchanges: u64,
    pub token_exchange_failures: u64,
    pub token_refreshes: u64,
    pub refresh_failures: u64,
    pub revocations: u64,
    pub freebusy_queries: u64,
    pub events_created: u64,
    pub duplicate_creates: u64,
    pub events_updated: u64,
    pub events_deleted: u64,
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
}

pub(crate) struct State {
    /// By email.
    pub users: BTreeMap<String, UserRecord>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    /// Refresh token → grant.
    refresh_tokens: HashMap<String, u64>,
    access_tokens: HashMap<String, AccessEntry>,
    /// In creation order.
    pub events: Vec<Event>,
    pub counters: Counters,
    pub faults: Faults,
}

impl State {
    /// A sandbox with the seeded test accounts and nothing else.
    pub(crate) fn new() -> Self {
        let mut state = State {
            users: BTreeMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            events: Vec::new(),
            counters: Counters::default(),
            faults: Faults::default(),
        };
        for email in GOOGLE_TEST_ACCOUNTS {
            state.user_for_login(email);
        }
        state
    }

    /// The user with this (case-insensitive) email or `sub`.
    pub(crate) fn find_user(&self, key: &str) -> Option<&UserRecord> {
        let email = key.trim().to_ascii_lowercase();
        self.users
            .get(&email)
            .or_else(|| self.users.values().find(|r| r.user.sub == key.trim()))
    }

    /// The user signing in with `email` (normalized), created on first use.
    pub(crate) fn user_for_login(&mut self, email: &str) -> &UserRecord {
        self.users
            .entry(email.to_string())
            .or_insert_with(|| UserRecord {
                user: accounts::make_user(email),
                token_exchanges: 0,
                refreshes: 0,
                refresh_failures: 0,
                last_event: None,
            })
    }

    /// Issues a single-use code bound to the client, redirect URI, PKCE challenge,
    /// user and granted scopes.
    #[allow(clippy::too_many_arguments)] // one field per authorize parameter
    pub(crate) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        email: &str,
        scopes: Vec<String>,
        offline: bool,
        forced_consent: bool,
    ) -> String {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        // Google's codes start with "4/".
        let code = format!("4/0{}", util::random_token(48));
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                code_challenge: code_challenge.to_string(),
                email: email.to_string(),
                scopes,
                offline,
                forced_consent,
                expires: now + CODE_LIFETIME,
            },
        );
        code
    }

    /// `grant_type=authorization_code`. The code is spent by any attempt that names it.
    pub(crate) fn exchange_code(
        &mut self,
        client_id: &str,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        ttl: Duration,
    ) -> Result<Issued, OAuthFailure> {
        let result = self.try_exchange_code(client_id, code, redirect_uri, code_verifier, ttl);
        if result.is_err() {
            self.counters.token_exchange_failures += 1;
        }
        result
    }

    fn try_exchange_code(
        &mut self,
        client_id: &str,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        ttl: Duration,
    ) -> Result<Issued, OAuthFailure> {
        let code = code.ok_or(failure(
            400,
            "invalid_request",
            "Missing required parameter: code",
        ))?;
        let pending = self.codes.remove(code).ok_or(BAD_CODE)?;
        if pending.expires <= Instant::now() || pending.client_id != client_id {
            return Err(BAD_CODE);
        }
        if redirect_uri != Some(pending.redirect_uri.as_str()) {
            return Err(failure(400, "redirect_uri_mismatch", "Bad Request"));
        }
        let verifier =
            code_verifier.ok_or(failure(400, "invalid_grant", "Missing code verifier."))?;
        let challenge = util::pkce_s256(verifier);
        if !util::constant_time_eq(challenge.as_bytes(), pending.code_challenge.as_bytes()) {
            return Err(failure(400, "invalid_grant", "Invalid code verifier."));
        }
        // Google hands out a refresh token on the first offline consent, and on every
        // one with `prompt=consent`; otherwise the app is expected to have kept it.
        let had_grant = self
            .grants
            .values()
            .any(|g| g.live && g.email == pending.email && g.client_id == client_id);
        let with_refresh = pending.offline && (pending.forced_consent || !had_grant);
        let grant = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            grant,
            Grant {
                email: pending.email.clone(),
                client_id: client_id.to_string(),
                scopes: pending.scopes.clone(),
                live: true,
            },
        );
        let refresh_token = with_refresh.then(|| {
            // Google's refresh tokens start with "1//".
            let token = format!("1//0{}", util::random_token(64));
            self.refresh_tokens.insert(token.clone(), grant);
            token
        });
        let access_token = self.issue_access_token(grant, ttl);
        self.counters.token_exchanges += 1;
        if let Some(record) = self.users.get_mut(&pending.email) {
            record.token_exchanges += 1;
            record.last_event = Some(format!("authorized {}", now_text()));
        }
        Ok(Issued {
            access_token,
            refresh_token,
            scopes: pending.scopes,
            email: pending.email,
        })
    }

    /// `grant_type=refresh_token`: a new access token; the refresh token stays valid.
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: Option<&str>,
        ttl: Duration,
    ) -> Result<Issued, OAuthFailure> {
        let Some(token) = refresh_token else {
            self.counters.refresh_failures += 1;
            return Err(failure(
                400,
                "invalid_request",
                "Missing required parameter: refresh_token",
            ));
        };
        let grant_id = self.refresh_tokens.get(token).copied();
        let grant = grant_id.and_then(|id| self.grants.get(&id).map(|g| (id, g)));
        let (grant_id, email, scopes) = match grant {
            Some((id, g)) if g.live && g.client_id == client_id => {
                (id, g.email.clone(), g.scopes.clone())
            }
            Some((_, g)) => {
                let email = g.email.clone();
                self.counters.refresh_failures += 1;
                if let Some(record) = self.users.get_mut(&email) {
                    record.refresh_failures += 1;
                }
                return Err(DEAD_REFRESH_TOKEN);
            }
            None => {
                self.counters.refresh_failures += 1;
                return Err(DEAD_REFRESH_TOKEN);
            }
        };
        let access_token = self.issue_access_token(grant_id, ttl);
        self.counters.token_refreshes += 1;
        if let Some(record) = self.users.get_mut(&email) {
            record.refreshes += 1;
        }
        Ok(Issued {
            access_token,
            refresh_token: None,
            scopes,
            email,
        })
    }

    fn issue_access_token(&mut self, grant: u64, ttl: Duration) -> String {
        // Google's access tokens start with "ya29.".
        let token = format!("ya29.{}", util::random_token(96));
        self.access_tokens.insert(
            token.clone(),
            AccessEntry {
                grant,
                expires: Instant::now() + ttl,
            },
        );
        token
    }

    /// `POST /revoke`: the grant of this access or refresh token ends (both kinds of
    /// token stop working). False when the token is unknown or its grant already
    /// ended, which Google answers with `400 invalid_token`.
    pub(crate) fn revoke_token(&mut self, token: &str) -> bool {
        let grant = self
            .access_tokens
            .get(token)
            .map(|e| e.grant)
            .or_else(|| self.refresh_tokens.get(token).copied());
        let Some(grant) = grant.and_then(|g| self.grants.get_mut(&g)) else {
            return false;
        };
        if !grant.live {
            return false;
        }
        grant.live = false;
        let email = grant.email.clone();
        self.counters.revocations += 1;
        if let Some(record) = self.users.get_mut(&email) {
            record.last_event = Some(format!("revoked by the app {}", now_text()));
        }
        true
    }

    /// Ends every grant of this user (email or sub), as removing the app's access
    /// in the Google account does: refresh tokens get `invalid_grant`, access tokens
    /// 401. Returns how many live grants ended, or `None` for an unknown user.
    pub(crate) fn revoke_grants_of(&mut self, user: &str, why: &str) -> Option<usize> {
        let email = self.find_user(user)?.user.email.clone();
        let mut ended = 0;
        for grant in self.grants.values_mut() {
            if grant.email == email && grant.live {
                grant.live = false;
                ended += 1;
            }
        }
        if let Some(record) = self.users.get_mut(&email) {
            record.last_event = Some(format!("{why} {}", now_text()));
        }
        Some(ended)
    }

    /// Expires this user's access tokens now (refresh tokens keep working). Returns
    /// how many were live, or `None` for an unknown user.
    pub(crate) fn expire_access_tokens_of(&mut self, user: &str) -> Option<usize> {
        let email = self.find_user(user)?.user.email.clone();
        let now = Instant::now();
        let mut expired = 0;
        for entry in self.access_tokens.values_mut() {
            let mine = self
                .grants
                .get(&entry.grant)
                .is_some_and(|g| g.live && g.email == email);
            if mine && entry.expires > now {
                entry.expires = now;
                expired += 1;
            }
        }
        if let Some(record) = self.users.get_mut(&email) {
            record.last_event = Some(format!("access tokens expired {}", now_text()));
        }
        Some(expired)
    }

    /// The user and scopes a bearer token stands for.
    pub(crate) fn authenticate(&self, access_token: &str) -> Result<Caller, TokenProblem> {
        let entry = self
            .access_tokens
            .get(access_token)
            .ok_or(TokenProblem::Invalid)?;
        let grant = self
            .grants
            .get(&entry.grant)
            .filter(|g| g.live)
            .ok_or(TokenProblem::Invalid)?;
        if entry.expires <= Instant::now() {
            return Err(TokenProblem::Expired);
        }
        let record = self.users.get(&grant.email).ok_or(TokenProblem::Invalid)?;
        Ok(Caller {
            user: record.user.clone(),
            scopes: grant.scopes.clone(),
        })
    }

    /// How many live grants this user has (0 = not connected).
    pub(crate) fn live_grants(&self, email: &str) -> usize {
        self.grants
            .values()
            .filter(|g| g.email == email && g.live)
            .count()
    }

    pub(crate) fn event(&self, calendar_id: &str, id: &str) -> Option<&Event> {
        self.events
            .iter()
            .find(|e| e.calendar_id == calendar_id && e.id == id)
    }

    pub(crate) fn event_mut(&mut self, calendar_id: &str, id: &str) -> Option<&mut Event> {
        self.events
            .iter_mut()
            .find(|e| e.calendar_id == calendar_id && e.id == id)
    }

    /// A fresh server-chosen event id (26 base32hex characters, like Google's).
    pub(crate) fn new_event_id(&self, calendar_id: &str) -> String {
        const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
        loop {
            let id: String = (0..26)
                .map(|_| {
                    let i = usize::try_from(util::random_in(0..32)).unwrap_or(0);
                    char::from(ALPHABET[i])
                })
                .collect();
            if self.event(calendar_id, &id).is_none() {
                return id;
            }
        }
    }

    /// The owner of a calendar (the user whose list has it as owner or writer; for a
    /// shared read-only calendar, nobody).
    pub(crate) fn calendar_owner(&self, calendar_id: &str) -> Option<&GoogleUser> {
        self.users
            .values()
            .map(|r| &r.user)
            .find(|u| u.calendars.iter().any(|c| c.id == calendar_id && c.primary))
            .or_else(|| {
                self.users.values().map(|r| &r.user).find(|u| {
                    u.calendars
                        .iter()
                        .any(|c| c.id == calendar_id && c.access_role.can_write())
                })
            })
    }
}

pub(crate) fn now_text() -> String {
    Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(3599);
    const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier";

    fn scopes() -> Vec<String> {
        vec!["openid".into()]
    }

    fn connect(state: &mut State, email: &str, offline: bool, forced: bool) -> Issued {
        state.user_for_login(email);
        let challenge = util::pkce_s256(VERIFIER);
        let code = state.issue_code(
            "client",
            "https://c.test/cb",
            &challenge,
            email,
            scopes(),
            offline,
            forced,
        );
        state
            .exchange_code(
                "client",
                Some(&code),
                Some("https://c.test/cb"),
                Some(VERIFIER),
                TTL,
            )
            .unwrap()
    }

    #[test]
    fn codes_are_single_use_and_bound_to_client_and_redirect() {
        let mut state = State::new();
        let challenge = util::pkce_s256(VERIFIER);
        let code = state.issue_code(
            "client",
            "https://c.test/cb",
            &challenge,
            "gina@google.sandbox",
            scopes(),
            true,
            true,
        );
        let wrong_client = state.exchange_code(
            "other",
            Some(&code),
            Some("https://c.test/cb"),
            Some(VERIFIER),
            TTL,
        );
        assert_eq!(wrong_client.err(), Some(BAD_CODE));
        let again = state.exchange_code(
            "client",
            Some(&code),
            Some("https://c.test/cb"),
            Some(VERIFIER),
            TTL,
        );
        assert_eq!(again.err(), Some(BAD_CODE));

        let code = state.issue_code(
            "client",
            "https://c.test/cb",
            &challenge,
            "gina@google.sandbox",
            scopes(),
            true,
            true,
        );
        let wrong_redirect = state.exchange_code(
            "client",
            Some(&code),
            Some("https://evil.test/cb"),
            Some(VERIFIER),
            TTL,
        );
        assert_eq!(
            wrong_redirect.err().map(|f| f.error),
            Some("redirect_uri_mismatch")
        );
        assert_eq!(state.counters.token_exchange_failures, 3);
    }

    #[test]
    fn refresh_tokens_do_not_rotate_and_come_with_offline_consent() {
        let mut state = State::new();
        let first = connect(&mut state, "gina@google.sandbox", true, false);
        let refresh = first.refresh_token.clone().unwrap();
        for _ in 0..3 {
            let next = state.refresh("client", Some(&refresh), TTL).unwrap();
            assert!(next.refresh_token.is_none());
            assert!(state.authenticate(&next.access_token).is_ok());
        }
        assert_eq!(state.users["gina@google.sandbox"].refreshes, 3);
        // A second consent without prompt=consent gets no new refresh token…
        assert!(connect(&mut state, "gina@google.sandbox", true, false)
            .refresh_token
            .is_none());
        // …with prompt=consent it does; online access never does.
        assert!(connect(&mut state, "gina@google.sandbox", true, true)
            .refresh_token
            .is_some());
        assert!(connect(&mut state, "dave@example.com", false, true)
            .refresh_token
            .is_none());
    }

    #[test]
    fn revoking_ends_the_grant() {
        let mut state = State::new();
        let issued = connect(&mut state, "gina@google.sandbox", true, true);
        let refresh = issued.refresh_token.unwrap();
        assert!(state.revoke_token(&issued.access_token));
        assert!(!state.revoke_token(&refresh), "already revoked");
        assert_eq!(
            state.authenticate(&issued.access_token).err(),
            Some(TokenProblem::Invalid)
        );
        assert_eq!(
            state.refresh("client", Some(&refresh), TTL).err(),
            Some(DEAD_REFRESH_TOKEN)
        );
        assert_eq!(state.live_grants("gina@google.sandbox"), 0);
        assert_eq!(state.counters.revocations, 1);

        let issued = connect(&mut state, "gina@google.sandbox", true, true);
        assert_eq!(
            state.expire_access_tokens_of("GINA@google.sandbox"),
            Some(1)
        );
        assert_eq!(
            state.authenticate(&issued.access_token).err(),
            Some(TokenProblem::Expired)
        );
        let refresh = issued.refresh_token.unwrap();
        assert!(state.refresh("client", Some(&refresh), TTL).is_ok());
        assert_eq!(
            state.revoke_grants_of("gina@google.sandbox", "revoked"),
            Some(1)
        );
        assert!(state.refresh("client", Some(&refresh), TTL).is_err());
        assert_eq!(state.revoke_grants_of("nobody@x.test", "revoked"), None);
    }
}
