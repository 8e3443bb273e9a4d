//! The Microsoft sandbox's in-memory state — users and their calendars, authorization
//! codes, grants and tokens, events, Teams meetings, counters — and the operations on
//! it. Everything here is synchronous and runs under the sandbox's one mutex, which is
//! what makes a refresh-token rotation and a `transactionId` check atomic.
//!
//! A *grant* is one completed authorization (one code exchange) of a user for the
//! client: a family of tokens whose current refresh token rotates on each refresh.
//!
//! **Stricter than Microsoft:** the identity platform lets an old refresh token keep
//! working for a while after it was rotated; the sandbox refuses it at once
//! (`invalid_grant`, AADSTS70008), so a connection refreshed twice at the same moment
//! shows up in tests instead of in production.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::accounts::{self, Decision, GraphUser, TEST_ACCOUNTS};
use crate::faults::Faults;
use crate::util;

/// How long an authorization code lives (Microsoft: about 10 minutes).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// A user with what the sandbox counts about them.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    pub user: GraphUser,
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
    scope: String,
    user_id: String,
    expires: Instant,
}

struct Grant {
    user_id: String,
    client_id: String,
    scope: String,
    live: bool,
}

struct RefreshEntry {
    grant: u64,
    user_id: String,
    /// False once rotated away or revoked.
    live: bool,
}

struct AccessEntry {
    grant: u64,
    user_id: String,
    expires: Instant,
    live: bool,
}

/// What the token endpoint hands out.
pub(crate) struct Issued {
    pub access_token: String,
    /// Only when the grant includes `offline_access`, as at Microsoft.
    pub refresh_token: Option<String>,
    pub scope: String,
    pub user: GraphUser,
}

/// A token-endpoint failure: HTTP status, OAuth `error`, the AADSTS number and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OAuthFailure {
    pub status: u16,
    pub error: &'static str,
    pub code: u32,
    pub text: String,
}

pub(crate) fn failure(status: u16, error: &'static str, code: u32, text: &str) -> OAuthFailure {
    OAuthFailure {
        status,
        error,
        code,
        text: text.to_string(),
    }
}

pub(crate) fn invalid_client() -> OAuthFailure {
    failure(
        401,
        "invalid_client",
        7_000_215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
    )
}

fn expired_grant() -> OAuthFailure {
    failure(
        400,
        "invalid_grant",
        70_008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
    )
}

fn revoked_grant() -> OAuthFailure {
    failure(
        400,
        "invalid_grant",
        50_173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
    )
}

fn missing(parameter: &str) -> OAuthFailure {
    failure(
        400,
        "invalid_request",
        900_144,
        &format!("The request body must contain the following parameter: '{parameter}'."),
    )
}

/// Why a bearer token was refused (both are `401 InvalidAuthenticationToken`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Invalid,
    Expired,
}

#[derive(Clone, Debug)]
pub(crate) struct Calendar {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub is_default: bool,
    pub can_edit: bool,
    pub color: &'static str,
    pub change_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attendee {
    pub name: String,
    pub address: String,
    /// `required`, `optional` or `resource`.
    pub kind: String,
}

/// An event the sandbox holds. Deleted events stay, marked, for the stats.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub id: String,
    pub calendar_id: String,
    pub owner_id: String,
    pub subject: String,
    /// `text` or `html`.
    pub body_type: String,
    pub body: String,
    pub location: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub attendees: Vec<Attendee>,
    /// `free`, `tentative`, `busy`, `oof`, `workingElsewhere` or `unknown`.
    pub show_as: String,
    pub is_cancelled: bool,
    pub transaction_id: Option<String>,
    pub ical_uid: String,
    pub change_key: String,
    /// The Teams link, when created with `isOnlineMeeting`.
    pub online_meeting_url: Option<String>,
    pub created: Timestamp,
    pub modified: Timestamp,
    pub updates: u32,
    pub deleted: bool,
}

/// A Teams meeting the sandbox holds. Deleted ones stay, marked, for the stats.
#[derive(Clone, Debug)]
pub(crate) struct OnlineMeeting {
    pub id: String,
    pub owner_id: String,
    pub subject: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub join_url: String,
    pub join_meeting_id: String,
    pub passcode: String,
    pub thread_id: String,
    pub external_id: Option<String>,
    pub created: Timestamp,
    pub updates: u32,
    pub deleted: bool,
}

/// The sandbox-wide counters.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counters {
    pub token_exchanges: u64,
    pub token_exchange_failures: u64,
    pub token_refreshes: u64,
    pub refresh_failures: u64,
    pub events_created: u64,
    /// Creates answered with an existing event because of its `transactionId`.
    pub events_deduplicated: u64,
    pub events_updated: u64,
    pub events_deleted: u64,
    pub online_meetings_created: u64,
    pub online_meetings_updated: u64,
    pub online_meetings_deleted: u64,
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
}

pub(crate) struct State {
    pub users: BTreeMap<String, UserRecord>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    refresh_tokens: HashMap<String, RefreshEntry>,
    access_tokens: HashMap<String, AccessEntry>,
    /// In creation order.
    pub calendars: Vec<Calendar>,
    /// In creation order.
    pub events: Vec<Event>,
    /// In creation order.
    pub online_meetings: Vec<OnlineMeeting>,
    pub counters: Counters,
    pub faults: Faults,
}

/// A Graph-looking item id: `AAMk…` (base64url, padded as Graph's are).
pub(crate) fn new_item_id(prefix: &str) -> String {
    format!("{prefix}{}AAA=", util::random_token(33))
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
            calendars: Vec::new(),
            events: Vec::new(),
            online_meetings: Vec::new(),
            counters: Counters::default(),
            faults: Faults::default(),
        };
        for email in TEST_ACCOUNTS {
            state.user_for_login(email);
        }
        state
    }

    /// The user with this id or (case-insensitive) email.
    pub(crate) fn find_user(&self, key: &str) -> Option<&UserRecord> {
        let key = key.trim();
        self.users.get(key).or_else(|| {
            let email = key.to_ascii_lowercase();
            self.users.values().find(|u| u.user.email == email)
        })
    }

    /// The user signing in with `email` (normalized), created with a default
    /// calendar "Calendar" and a second editable one on first use.
    pub(crate) fn user_for_login(&mut self, email: &str) -> GraphUser {
        let id = accounts::user_id_for(email);
        if let Some(record) = self.users.get(&id) {
            return record.user.clone();
        }
        let user = accounts::make_user(email);
        for (name, is_default, color) in [
            ("Calendar", true, "auto"),
            ("Team Events", false, "lightBlue"),
        ] {
            self.calendars.push(Calendar {
                id: format!(
                    "AAMkAD{}AAA=",
                    accounts::stable_id("microsoft-sandbox-calendar", &format!("{email}/{name}"))
                        .replace('-', "")
                ),
                owner_id: user.id.clone(),
                name: name.to_string(),
                is_default,
                can_edit: true,
                color,
                change_key: util::random_token(12),
            });
        }
        self.users.insert(
            id,
            UserRecord {
                user: user.clone(),
                token_exchanges: 0,
                refreshes: 0,
                refresh_failures: 0,
                last_event: None,
            },
        );
        user
    }

    /// The user `key` names (id or email); an unknown *email* becomes a new user, as
    /// signing in with it would make one.
    pub(crate) fn user_for_control(&mut self, key: &str) -> Result<GraphUser, String> {
        if let Some(record) = self.find_user(key) {
            return Ok(record.user.clone());
        }
        let email =
            accounts::parse_email(key).map_err(|_| format!("unknown Microsoft account: {key}"))?;
        Ok(self.user_for_login(&email))
    }

    pub(crate) fn calendars_of(&self, user_id: &str) -> impl Iterator<Item = &Calendar> {
        let user_id = user_id.to_string();
        self.calendars.iter().filter(move |c| c.owner_id == user_id)
    }

    pub(crate) fn default_calendar(&self, user_id: &str) -> Option<&Calendar> {
        self.calendars_of(user_id).find(|c| c.is_default)
    }

    /// Issues a single-use code bound to the client, redirect URI, PKCE challenge,
    /// scope and user.
    pub(crate) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        scope: &str,
        user_id: &str,
    ) -> String {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        // Real codes are long opaque strings starting with "0." or "M.".
        let code = format!("0.{}", util::random_token(48));
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                code_challenge: code_challenge.to_string(),
                scope: scope.to_string(),
                user_id: user_id.to_string(),
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
        let code = code.ok_or_else(|| missing("code"))?;
        let pending = self.codes.remove(code).ok_or_else(expired_grant)?;
        if pending.expires <= Instant::now() || pending.client_id != client_id {
            return Err(expired_grant());
        }
        if redirect_uri != Some(pending.redirect_uri.as_str()) {
            return Err(failure(
                400,
                "invalid_grant",
                500_112,
                "The reply address does not match the reply address provided when requesting the authorization code.",
            ));
        }
        let verifier = code_verifier.ok_or_else(|| missing("code_verifier"))?;
        let challenge = util::pkce_s256(verifier);
        if !util::constant_time_eq(challenge.as_bytes(), pending.code_challenge.as_bytes()) {
            return Err(failure(
                400,
                "invalid_grant",
                501_481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            ));
        }
        let grant = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            grant,
            Grant {
                user_id: pending.user_id.clone(),
                client_id: client_id.to_string(),
                scope: pending.scope.clone(),
                live: true,
            },
        );
        let issued = self.issue_tokens(grant, ttl)?;
        self.counters.token_exchanges += 1;
        if let Some(record) = self.users.get_mut(&pending.user_id) {
            record.token_exchanges += 1;
            record.last_event = Some(format!("connected {}", now_text()));
        }
        Ok(issued)
    }

    /// `grant_type=refresh_token`, with rotation: the presented token stops working
    /// and a new one is returned.
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: Option<&str>,
        ttl: Duration,
    ) -> Result<Issued, OAuthFailure> {
        let Some(token) = refresh_token else {
            self.counters.refresh_failures += 1;
            return Err(missing("refresh_token"));
        };
        let outcome = match self.refresh_tokens.get_mut(token) {
            Some(entry) => {
                let grant = self.grants.get(&entry.grant);
                let grant_live = grant.is_some_and(|g| g.live && g.client_id == client_id);
                match (entry.live, grant_live) {
                    (true, true) => {
                        entry.live = false;
                        Ok(entry.grant)
                    }
                    (_, false) => Err((Some(entry.user_id.clone()), revoked_grant())),
                    (false, true) => Err((Some(entry.user_id.clone()), expired_grant())),
                }
            }
            None => Err((None, expired_grant())),
        };
        match outcome {
            Ok(grant) => {
                let issued = self.issue_tokens(grant, ttl)?;
                self.counters.token_refreshes += 1;
                if let Some(record) = self.users.get_mut(&issued.user.id) {
                    record.refreshes += 1;
                }
                Ok(issued)
            }
            Err((user_id, failure)) => {
                self.counters.refresh_failures += 1;
                if let Some(record) = user_id.and_then(|id| self.users.get_mut(&id)) {
                    record.refresh_failures += 1;
                }
                Err(failure)
            }
        }
    }

    fn issue_tokens(&mut self, grant: u64, ttl: Duration) -> Result<Issued, OAuthFailure> {
        let (user_id, scope) = match self.grants.get(&grant) {
            Some(g) => (g.user_id.clone(), g.scope.clone()),
            None => return Err(expired_grant()),
        };
        let user = self
            .users
            .get(&user_id)
            .map(|r| r.user.clone())
            .ok_or_else(expired_grant)?;
        let access_token = format!("EwB{}", util::random_token(48));
        self.access_tokens.insert(
            access_token.clone(),
            AccessEntry {
                grant,
                user_id: user_id.clone(),
                expires: Instant::now() + ttl,
                live: true,
            },
        );
        let offline = scope.split_whitespace().any(|s| s == "offline_access");
        let refresh_token = offline.then(|| {
            let token = format!("M.C5{}", util::random_token(64));
            self.refresh_tokens.insert(
                token.clone(),
                RefreshEntry {
                    grant,
                    user_id: user_id.clone(),
                    live: true,
                },
            );
            token
        });
        Ok(Issued {
            access_token,
            refresh_token,
            scope,
            user,
        })
    }

    /// Ends every grant of this user (id or email): access tokens give 401, refresh
    /// tokens `invalid_grant` AADSTS50173. `None` for an unknown user.
    pub(crate) fn revoke_grants_of(&mut self, user: &str) -> Option<(String, usize)> {
        let user_id = self.find_user(user)?.user.id.clone();
        let mut ended = 0;
        for grant in self.grants.values_mut() {
            if grant.user_id == user_id && grant.live {
                grant.live = false;
                ended += 1;
            }
        }
        for entry in self.refresh_tokens.values_mut() {
            if entry.user_id == user_id {
                entry.live = false;
            }
        }
        for entry in self.access_tokens.values_mut() {
            if entry.user_id == user_id {
                entry.live = false;
            }
        }
        if let Some(record) = self.users.get_mut(&user_id) {
            record.last_event = Some(format!("grant revoked from the sandbox {}", now_text()));
        }
        Some((user_id, ended))
    }

    /// Expires this user's access tokens now (refresh tokens keep working).
    pub(crate) fn expire_access_tokens_of(&mut self, user: &str) -> Option<(String, usize)> {
        let user_id = self.find_user(user)?.user.id.clone();
        let now = Instant::now();
        let mut expired = 0;
        for entry in self.access_tokens.values_mut() {
            if entry.user_id == user_id && entry.live && entry.expires > now {
                entry.expires = now;
                expired += 1;
            }
        }
        if let Some(record) = self.users.get_mut(&user_id) {
            record.last_event = Some(format!("access tokens expired {}", now_text()));
        }
        Some((user_id, expired))
    }

    /// The user a bearer token belongs to.
    pub(crate) fn authenticate(&self, access_token: &str) -> Result<&GraphUser, TokenProblem> {
        let entry = self
            .access_tokens
            .get(access_token)
            .ok_or(TokenProblem::Invalid)?;
        let grant_live = self.grants.get(&entry.grant).is_some_and(|g| g.live);
        if !entry.live || !grant_live {
            return Err(TokenProblem::Invalid);
        }
        if entry.expires <= Instant::now() {
            return Err(TokenProblem::Expired);
        }
        self.users
            .get(&entry.user_id)
            .map(|r| &r.user)
            .ok_or(TokenProblem::Invalid)
    }

    /// How many live grants this user has (0 = not connected).
    pub(crate) fn live_grants(&self, user_id: &str) -> usize {
        self.grants
            .values()
            .filter(|g| g.user_id == user_id && g.live)
            .count()
    }

    /// The consent decision for a user.
    pub(crate) fn decide(&self, user_id: &str) -> Decision {
        self.users
            .get(user_id)
            .map_or(Decision::Denied, |r| r.user.decision)
    }

    /// A busy event in the user's default calendar, as if they had made it in Outlook.
    pub(crate) fn add_busy(
        &mut self,
        account: &str,
        start: Timestamp,
        end: Timestamp,
        subject: Option<&str>,
    ) -> Result<Event, String> {
        if end <= start {
            return Err("end must be after start".into());
        }
        let user = self.user_for_control(account)?;
        let calendar_id = self
            .default_calendar(&user.id)
            .map(|c| c.id.clone())
            .ok_or_else(|| format!("{} has no default calendar", user.email))?;
        let now = Timestamp::now();
        let event = Event {
            id: new_item_id("AAMkAGI"),
            calendar_id,
            owner_id: user.id.clone(),
            subject: subject
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or("Busy")
                .to_string(),
            body_type: "text".into(),
            body: String::new(),
            location: String::new(),
            start,
            end,
            attendees: Vec::new(),
            show_as: "busy".into(),
            is_cancelled: false,
            transaction_id: None,
            ical_uid: format!("040000008200E00074C5B7101A82E008{}", util::random_token(24)),
            change_key: util::random_token(12),
            online_meeting_url: None,
            created: now,
            modified: now,
            updates: 0,
            deleted: false,
        };
        self.events.push(event.clone());
        Ok(event)
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
    const SCOPE: &str = "openid offline_access Calendars.ReadWrite";
    const VERIFIER: &str = "verifier-verifier-verifier-verifier-verifier";

    fn connected(state: &mut State, email: &str, scope: &str) -> Issued {
        let user = state.user_for_login(email);
        let challenge = util::pkce_s256(VERIFIER);
        let code = state.issue_code("client", "https://c.test/cb", &challenge, scope, &user.id);
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
    fn codes_are_single_use_and_bound_to_client_redirect_and_verifier() {
        let mut state = State::new();
        let user = state.user_for_login("megan@microsoft.sandbox");
        let challenge = util::pkce_s256(VERIFIER);
        let code = state.issue_code("client", "https://c.test/cb", &challenge, SCOPE, &user.id);
        let wrong = state.exchange_code(
            "client",
            Some(&code),
            Some("https://c.test/cb"),
            Some("another-verifier-another-verifier-another"),
            TTL,
        );
        assert_eq!(wrong.err().map(|f| f.code), Some(501_481));
        let again = state.exchange_code(
            "client",
            Some(&code),
            Some("https://c.test/cb"),
            Some(VERIFIER),
            TTL,
        );
        assert_eq!(again.err().map(|f| f.code), Some(70_008));
        let code = state.issue_code("client", "https://c.test/cb", &challenge, SCOPE, &user.id);
        let redirect = state.exchange_code(
            "client",
            Some(&code),
            Some("https://evil.test/cb"),
            Some(VERIFIER),
            TTL,
        );
        assert_eq!(redirect.err().map(|f| f.code), Some(500_112));
        assert_eq!(state.counters.token_exchange_failures, 3);
    }

    #[test]
    fn rotation_revocation_and_offline_access() {
        let mut state = State::new();
        let first = connected(&mut state, "megan@microsoft.sandbox", SCOPE);
        let first_refresh = first.refresh_token.clone().unwrap();
        let second = state.refresh("client", Some(&first_refresh), TTL).unwrap();
        assert_eq!(
            state
                .refresh("client", Some(&first_refresh), TTL)
                .err()
                .map(|f| (f.error, f.code)),
            Some(("invalid_grant", 70_008))
        );
        assert!(state.authenticate(&first.access_token).is_ok());
        let (user_id, ended) = state.revoke_grants_of("MEGAN@microsoft.sandbox").unwrap();
        assert_eq!(ended, 1);
        assert_eq!(
            state.authenticate(&second.access_token).err(),
            Some(TokenProblem::Invalid)
        );
        let second_refresh = second.refresh_token.unwrap();
        assert_eq!(
            state
                .refresh("client", Some(&second_refresh), TTL)
                .err()
                .map(|f| f.code),
            Some(50_173)
        );
        assert_eq!(state.live_grants(&user_id), 0);
        assert_eq!(state.users[&user_id].refresh_failures, 2);

        // Without offline_access there is no refresh token.
        let online_only = connected(&mut state, "ada@example.com", "openid User.Read");
        assert!(online_only.refresh_token.is_none());
    }

    #[test]
    fn new_users_get_two_editable_calendars_and_busy_events_go_to_the_default() {
        let mut state = State::new();
        let megan = state.user_for_login("megan@microsoft.sandbox");
        let calendars: Vec<_> = state.calendars_of(&megan.id).cloned().collect();
        assert_eq!(calendars.len(), 2);
        assert!(calendars[0].is_default && calendars[0].name == "Calendar");
        assert!(calendars.iter().all(|c| c.can_edit));
        let start: Timestamp = "2026-12-01T15:00:00Z".parse().unwrap();
        let end: Timestamp = "2026-12-01T16:00:00Z".parse().unwrap();
        let event = state
            .add_busy("megan@microsoft.sandbox", start, end, None)
            .unwrap();
        assert_eq!(event.calendar_id, calendars[0].id);
        assert_eq!(event.subject, "Busy");
        assert!(state
            .add_busy("megan@microsoft.sandbox", end, start, None)
            .is_err());
        assert!(state.add_busy("not an email", start, end, None).is_err());
        // An unknown email becomes a user.
        assert!(state
            .add_busy("new@example.com", start, end, Some("Dentist"))
            .is_ok());
        assert!(state.find_user("new@example.com").is_some());
    }
}
