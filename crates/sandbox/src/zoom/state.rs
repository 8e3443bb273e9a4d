//! The Zoom sandbox's in-memory state — accounts, users, authorization codes, grants
//! and their tokens, meetings, counters — and the OAuth operations on it. Everything
//! here is synchronous and runs under the sandbox's one mutex, which is what makes a
//! refresh-token rotation atomic: of many concurrent refreshes with the same token,
//! exactly one wins.
//!
//! A *grant* is one completed authorization (one code exchange) of a Zoom user for a
//! client: a family of tokens whose current refresh token rotates on each refresh.
//! Revoking any token of a user, revoking from the control page or uninstalling the app
//! ends **all** of that user's grants, as an uninstall does at Zoom.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::accounts::{self, Account, Decision, ZoomUser, TEST_ACCOUNTS};
use crate::faults::Faults;
use crate::util;

/// How long an authorization code lives.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// A Zoom user with what the sandbox counts about them.
#[derive(Clone, Debug)]
pub(crate) struct UserRecord {
    pub user: ZoomUser,
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
    user_id: String,
    expires: Instant,
}

struct Grant {
    user_id: String,
    client_id: String,
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

/// A token pair handed out by the token endpoint.
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: String,
}

/// A token-endpoint failure: HTTP status, OAuth `error` and Zoom's `reason`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct OAuthFailure {
    pub status: u16,
    pub error: &'static str,
    pub reason: &'static str,
}

const fn failure(status: u16, error: &'static str, reason: &'static str) -> OAuthFailure {
    OAuthFailure {
        status,
        error,
        reason,
    }
}

pub(crate) const INVALID_CLIENT: OAuthFailure =
    failure(401, "invalid_client", "Invalid client_id or client_secret");
const INVALID_CODE: OAuthFailure = failure(400, "invalid_grant", "Invalid authorization code");
const INVALID_TOKEN: OAuthFailure = failure(400, "invalid_grant", "Invalid Token!");

/// Why a bearer token was refused (both are `401 code 124`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenProblem {
    Invalid,
    Expired,
}

/// A meeting the sandbox holds. Deleted meetings stay, marked, for the stats.
#[derive(Clone, Debug)]
pub(crate) struct Meeting {
    pub id: u64,
    pub uuid: String,
    pub host_id: String,
    pub host_email: String,
    pub topic: String,
    pub kind: u8,
    pub start_time: Timestamp,
    pub duration: u32,
    pub timezone: String,
    pub agenda: String,
    pub password: String,
    /// The `pwd` of the join URL (Zoom's encrypted passcode).
    pub pwd_token: String,
    /// The `zak` of the start URL.
    pub zak: String,
    pub settings: Map<String, Value>,
    pub created_at: Timestamp,
    pub updates: u32,
    pub deleted: bool,
}

impl Meeting {
    pub(crate) fn join_url(&self) -> String {
        format!("https://zoom.sandbox/j/{}?pwd={}", self.id, self.pwd_token)
    }

    pub(crate) fn start_url(&self) -> String {
        format!("https://zoom.sandbox/s/{}?zak={}", self.id, self.zak)
    }

    /// When the meeting is scheduled to end (start + duration).
    pub(crate) fn end(&self) -> Timestamp {
        self.start_time
            .checked_add(jiff::SignedDuration::from_mins(i64::from(self.duration)))
            .unwrap_or(Timestamp::MAX)
    }

    /// Zoom expires a scheduled meeting's number 30 days after its time; an update or
    /// delete of such a meeting gets `3001`.
    pub(crate) fn expired(&self, now: Timestamp) -> bool {
        let end = self.start_time.as_second() + i64::from(self.duration) * 60;
        now.as_second() > end + 30 * 24 * 3600
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
    pub uninstalls: u64,
    pub meetings_created: u64,
    pub meetings_updated: u64,
    pub meetings_deleted: u64,
    pub injected_rate_limits: u64,
    pub injected_errors: u64,
}

/// One webhook the sandbox sent, for the stats and the control page.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub event: String,
    pub user_id: Option<String>,
    pub at: Timestamp,
    pub outcome: Result<u16, String>,
}

pub(crate) struct State {
    pub accounts: BTreeMap<String, Account>,
    pub users: BTreeMap<String, UserRecord>,
    codes: HashMap<String, AuthCode>,
    grants: HashMap<u64, Grant>,
    next_grant: u64,
    refresh_tokens: HashMap<String, RefreshEntry>,
    access_tokens: HashMap<String, AccessEntry>,
    pub meetings: BTreeMap<u64, Meeting>,
    pub counters: Counters,
    pub faults: Faults,
    pub deliveries: Vec<Delivery>,
}

impl State {
    /// A sandbox with the seeded test accounts and nothing else.
    pub(crate) fn new() -> Self {
        let mut state = State {
            accounts: BTreeMap::new(),
            users: BTreeMap::new(),
            codes: HashMap::new(),
            grants: HashMap::new(),
            next_grant: 1,
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            meetings: BTreeMap::new(),
            counters: Counters::default(),
            faults: Faults::default(),
            deliveries: Vec::new(),
        };
        for email in TEST_ACCOUNTS {
            state.user_for_login(email);
        }
        state
    }

    /// The user with this Zoom user id or (case-insensitive) email.
    pub(crate) fn find_user(&self, key: &str) -> Option<&UserRecord> {
        let key = key.trim();
        self.users.get(key).or_else(|| {
            let email = key.to_ascii_lowercase();
            self.users.values().find(|u| u.user.email == email)
        })
    }

    fn find_user_id(&self, key: &str) -> Option<String> {
        self.find_user(key).map(|u| u.user.id.clone())
    }

    /// The user signing in with `email` (normalized), created with its account on
    /// first use.
    pub(crate) fn user_for_login(&mut self, email: &str) -> &UserRecord {
        let accounts = &mut self.accounts;
        self.users
            .entry(accounts::user_id_for(email))
            .or_insert_with(|| {
                let (account, user) = accounts::make_user(email);
                accounts.entry(account.id.clone()).or_insert(account);
                UserRecord {
                    user,
                    token_exchanges: 0,
                    refreshes: 0,
                    refresh_failures: 0,
                    last_event: None,
                }
            })
    }

    /// What this user answers on the consent page.
    pub(crate) fn decide(&self, user_id: &str) -> Decision {
        match self.users.get(user_id) {
            Some(record) => match self.accounts.get(&record.user.account_id) {
                Some(account) => accounts::decide(&record.user, account),
                None => Decision::Approved,
            },
            None => Decision::Denied,
        }
    }

    /// Marks the account of `user` as having pre-approved the app. False if unknown.
    pub(crate) fn pre_approve(&mut self, user: &str, approved: bool) -> Option<String> {
        let account_id = self.find_user(user)?.user.account_id.clone();
        let account = self.accounts.get_mut(&account_id)?;
        account.pre_approved = approved;
        Some(account.name.clone())
    }

    /// Issues a single-use code bound to the client, redirect URI, PKCE challenge and user.
    pub(crate) fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        user_id: &str,
    ) -> String {
        let now = Instant::now();
        self.codes.retain(|_, c| c.expires > now);
        let code = util::random_token(32);
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_string(),
                redirect_uri: redirect_uri.to_string(),
                code_challenge: code_challenge.to_string(),
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
        let code = code.filter(|c| !c.is_empty()).ok_or(failure(
            400,
            "invalid_request",
            "Invalid request : Missing code",
        ))?;
        let pending = self.codes.remove(code).ok_or(INVALID_CODE)?;
        if pending.expires <= Instant::now() || pending.client_id != client_id {
            return Err(INVALID_CODE);
        }
        if redirect_uri != Some(pending.redirect_uri.as_str()) {
            return Err(failure(400, "invalid_request", "Redirect URI mismatch."));
        }
        let verifier = code_verifier.filter(|v| !v.is_empty()).ok_or(failure(
            400,
            "invalid_request",
            "Invalid request : Missing code_verifier",
        ))?;
        let challenge = util::pkce_s256(verifier);
        if !util::constant_time_eq(challenge.as_bytes(), pending.code_challenge.as_bytes()) {
            return Err(failure(400, "invalid_grant", "Invalid code_verifier"));
        }
        let grant = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            grant,
            Grant {
                user_id: pending.user_id.clone(),
                client_id: client_id.to_string(),
                live: true,
            },
        );
        let issued = self.issue_tokens(grant, &pending.user_id, ttl);
        self.counters.token_exchanges += 1;
        if let Some(record) = self.users.get_mut(&pending.user_id) {
            record.token_exchanges += 1;
            record.last_event = Some(format!("authorized {}", now_text()));
        }
        Ok(issued)
    }

    /// `grant_type=refresh_token`, with rotation: the presented token stops working and
    /// a new one is returned. A rotated-away, revoked or unknown token is
    /// `invalid_grant` "Invalid Token!".
    pub(crate) fn refresh(
        &mut self,
        client_id: &str,
        refresh_token: Option<&str>,
        ttl: Duration,
    ) -> Result<Issued, OAuthFailure> {
        let Some(token) = refresh_token.filter(|t| !t.is_empty()) else {
            self.counters.refresh_failures += 1;
            return Err(failure(
                400,
                "invalid_request",
                "Invalid request : Missing refresh_token",
            ));
        };
        let (grant, user_id) = match self.refresh_tokens.get_mut(token) {
            Some(entry)
                if entry.live
                    && self
                        .grants
                        .get(&entry.grant)
                        .is_some_and(|g| g.live && g.client_id == client_id) =>
            {
                entry.live = false;
                (entry.grant, entry.user_id.clone())
            }
            Some(entry) => {
                let user_id = entry.user_id.clone();
                self.counters.refresh_failures += 1;
                if let Some(record) = self.users.get_mut(&user_id) {
                    record.refresh_failures += 1;
                }
                return Err(INVALID_TOKEN);
            }
            None => {
                self.counters.refresh_failures += 1;
                return Err(INVALID_TOKEN);
            }
        };
        let issued = self.issue_tokens(grant, &user_id, ttl);
        self.counters.token_refreshes += 1;
        if let Some(record) = self.users.get_mut(&user_id) {
            record.refreshes += 1;
        }
        Ok(issued)
    }

    fn issue_tokens(&mut self, grant: u64, user_id: &str, ttl: Duration) -> Issued {
        let access_token = util::random_token(32);
        let refresh_token = util::random_token(32);
        self.access_tokens.insert(
            access_token.clone(),
            AccessEntry {
                grant,
                user_id: user_id.to_string(),
                expires: Instant::now() + ttl,
                live: true,
            },
        );
        self.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshEntry {
                grant,
                user_id: user_id.to_string(),
                live: true,
            },
        );
        Issued {
            access_token,
            refresh_token,
        }
    }

    /// `POST /oauth/revoke`: any access or refresh token this client was given (even an
    /// expired or rotated one) identifies the user, whose grants for the client all end.
    /// Returns whether a live grant was revoked.
    pub(crate) fn revoke_token(&mut self, client_id: &str, token: &str) -> bool {
        let grant = self
            .access_tokens
            .get(token)
            .map(|e| e.grant)
            .or_else(|| self.refresh_tokens.get(token).map(|e| e.grant));
        let Some(grant) = grant.and_then(|g| self.grants.get(&g)) else {
            return false;
        };
        if grant.client_id != client_id {
            return false;
        }
        let user_id = grant.user_id.clone();
        let revoked = self.revoke_user(&user_id, "revoked by the app") > 0;
        if revoked {
            self.counters.revocations += 1;
        }
        revoked
    }

    /// Ends every grant of this user (id or email): their access tokens give 401 code
    /// 124, their refresh tokens `invalid_grant`. Returns how many live grants ended,
    /// or `None` for an unknown user.
    pub(crate) fn revoke_grants_of(&mut self, user: &str, why: &str) -> Option<usize> {
        let user_id = self.find_user_id(user)?;
        Some(self.revoke_user(&user_id, why))
    }

    fn revoke_user(&mut self, user_id: &str, why: &str) -> usize {
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
        if let Some(record) = self.users.get_mut(user_id) {
            record.last_event = Some(format!("{why} {}", now_text()));
        }
        ended
    }

    /// Expires this user's access tokens now (refresh tokens keep working). Returns
    /// how many were live, or `None` for an unknown user.
    pub(crate) fn expire_access_tokens_of(&mut self, user: &str) -> Option<usize> {
        let user_id = self.find_user_id(user)?;
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
        Some(expired)
    }

    /// The user a bearer token belongs to.
    pub(crate) fn authenticate(&self, access_token: &str) -> Result<&ZoomUser, TokenProblem> {
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

    /// A fresh meeting number: 11 digits, never reused in this sandbox.
    pub(crate) fn new_meeting_id(&self) -> u64 {
        loop {
            let id = util::random_in(80_000_000_000..99_999_999_999);
            if !self.meetings.contains_key(&id) {
                return id;
            }
        }
    }
}

fn now_text() -> String {
    Timestamp::now()
        .strftime("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(3599);

    fn connected(state: &mut State, email: &str) -> (String, Issued) {
        let user_id = state.user_for_login(email).user.id.clone();
        let challenge = util::pkce_s256("verifier-verifier-verifier-verifier-verifier");
        let code = state.issue_code("client", "https://c.test/cb", &challenge, &user_id);
        let issued = state
            .exchange_code(
                "client",
                Some(&code),
                Some("https://c.test/cb"),
                Some("verifier-verifier-verifier-verifier-verifier"),
                TTL,
            )
            .unwrap();
        (user_id, issued)
    }

    #[test]
    fn codes_are_single_use_and_bound_to_client_and_redirect() {
        let mut state = State::new();
        let user_id = state.user_for_login("alice@zoom.sandbox").user.id.clone();
        let challenge = util::pkce_s256("v".repeat(43).as_str());
        let v = "v".repeat(43);
        let code = state.issue_code("client", "https://c.test/cb", &challenge, &user_id);
        let wrong_client = state.exchange_code(
            "other",
            Some(&code),
            Some("https://c.test/cb"),
            Some(&v),
            TTL,
        );
        assert_eq!(wrong_client.err(), Some(INVALID_CODE));
        // The failed attempt spent the code.
        let again = state.exchange_code(
            "client",
            Some(&code),
            Some("https://c.test/cb"),
            Some(&v),
            TTL,
        );
        assert_eq!(again.err(), Some(INVALID_CODE));

        let code = state.issue_code("client", "https://c.test/cb", &challenge, &user_id);
        let wrong_redirect = state.exchange_code(
            "client",
            Some(&code),
            Some("https://evil.test/cb"),
            Some(&v),
            TTL,
        );
        assert_eq!(
            wrong_redirect.err().map(|f| f.error),
            Some("invalid_request")
        );
        assert_eq!(state.counters.token_exchange_failures, 3);
    }

    #[test]
    fn rotation_and_revocation() {
        let mut state = State::new();
        let (user_id, first) = connected(&mut state, "alice@zoom.sandbox");
        let second = state
            .refresh("client", Some(&first.refresh_token), TTL)
            .unwrap();
        assert_eq!(
            state
                .refresh("client", Some(&first.refresh_token), TTL)
                .err(),
            Some(INVALID_TOKEN)
        );
        // The old access token lives until it expires.
        assert!(state.authenticate(&first.access_token).is_ok());
        assert_eq!(state.users[&user_id].refreshes, 1);
        assert_eq!(state.users[&user_id].refresh_failures, 1);

        assert!(state.revoke_token("client", &first.access_token));
        assert_eq!(
            state.authenticate(&second.access_token).err(),
            Some(TokenProblem::Invalid)
        );
        assert_eq!(
            state
                .refresh("client", Some(&second.refresh_token), TTL)
                .err(),
            Some(INVALID_TOKEN)
        );
        assert_eq!(state.live_grants(&user_id), 0);
        assert!(!state.revoke_token("client", &first.access_token));
        assert_eq!(state.counters.revocations, 1);
    }

    #[test]
    fn expiring_access_tokens_keeps_the_grant() {
        let mut state = State::new();
        let (_, issued) = connected(&mut state, "bob@zoom.sandbox");
        assert_eq!(state.expire_access_tokens_of("BOB@zoom.sandbox"), Some(1));
        assert_eq!(
            state.authenticate(&issued.access_token).err(),
            Some(TokenProblem::Expired)
        );
        let next = state
            .refresh("client", Some(&issued.refresh_token), TTL)
            .unwrap();
        assert!(state.authenticate(&next.access_token).is_ok());
        assert_eq!(state.expire_access_tokens_of("nobody@zoom.sandbox"), None);
    }
}
