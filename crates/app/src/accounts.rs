//! Signing in and out, web sessions, and creating the first admin.

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, passwords, tokens, App};
use convene_domain::{
    Email, OrgId, OrgName, OrgSlug, Password, PermissionSet, PersonName, Role, TimeZoneName,
    UserId, UserStatus,
};
use convene_store::{NewUser, OrgRow, SessionRow, StoreError, Tx, UserRow};
use jiff::SignedDuration;

/// A new web session: the cookie token (shown once) and the CSRF token of its forms.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub user: UserRow,
}

/// What the setup page and `convene admin create` ask for.
#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub org_name: OrgName,
    pub org_slug: Option<OrgSlug>,
    pub email: Email,
    pub name: PersonName,
    pub password: Password,
    pub time_zone: TimeZoneName,
}

impl App {
    fn session_expiry(&self, now: jiff::Timestamp) -> AppResult<jiff::Timestamp> {
        let ttl = SignedDuration::try_from(self.settings.session_idle_ttl)
            .map_err(|e| AppError::Unexpected(e.into()))?;
        now.saturating_add(ttl)
            .map_err(|e| AppError::Unexpected(e.into()))
    }

    pub(crate) async fn insert_session(
        &self,
        tx: &mut Tx,
        user: &UserRow,
    ) -> AppResult<NewSession> {
        let now = self.now();
        let token = tokens::new_token();
        let csrf_token = tokens::new_token();
        tx.insert_session(
            &tokens::hash_token(&token),
            user.id,
            user.org_id,
            &csrf_token,
            now,
            self.session_expiry(now)?,
        )
        .await?;
        Ok(NewSession {
            token,
            csrf_token,
            user: user.clone(),
        })
    }

    /// True on a fresh install: the one-time setup page is open.
    pub async fn setup_needed(&self) -> AppResult<bool> {
        Ok(!self.store.read().await?.any_user_exists().await?)
    }

    /// The one-time setup page: creates the first org and its admin and signs them in.
    /// Refused as soon as any user exists.
    pub async fn setup_first_admin(&self, a: NewAdmin) -> AppResult<NewSession> {
        let password_hash = passwords::hash(&a.password, self.settings.password_hash).await?;
        let mut tx = self.store.write().await?;
        if tx.any_user_exists().await? {
            return Err(AppError::Conflict {
                code: "already_set_up",
                message: "Convene is already set up; sign in instead".into(),
            });
        }
        let (_, user) = self.create_org_admin(&mut tx, &a, &password_hash).await?;
        let session = self.insert_session(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(session)
    }

    /// `convene admin create`: adds an admin to the org with this name's slug, creating
    /// the org when it does not exist.
    pub async fn create_admin(&self, a: NewAdmin) -> AppResult<(OrgRow, UserRow)> {
        let password_hash = passwords::hash(&a.password, self.settings.password_hash).await?;
        let mut tx = self.store.write().await?;
        let out = self.create_org_admin(&mut tx, &a, &password_hash).await?;
        tx.commit().await?;
        Ok(out)
    }

    async fn create_org_admin(
        &self,
        tx: &mut Tx,
        a: &NewAdmin,
        password_hash: &str,
    ) -> AppResult<(OrgRow, UserRow)> {
        let now = self.now();
        let slug = match &a.org_slug {
            Some(s) => s.clone(),
            None => {
                OrgSlug::from_name(a.org_name.as_str()).map_err(|e| AppError::invalid("org", e))?
            }
        };
        let org = match tx.org_by_slug(slug.as_str()).await {
            Ok(org) => org,
            Err(StoreError::NotFound) => {
                let id = OrgId::new();
                tx.insert_org(id, slug.as_str(), a.org_name.as_str(), now)
                    .await?;
                tx.org(id).await?
            }
            Err(e) => return Err(e.into()),
        };
        let id = UserId::new();
        tx.insert_user(
            &NewUser {
                id,
                org_id: org.id,
                email: a.email.clone(),
                name: Some(a.name.as_str().to_string()),
                time_zone: a.time_zone.as_str().to_string(),
                role: Role::Admin,
                permissions: PermissionSet::empty(),
                status: UserStatus::Active,
                password_hash: Some(password_hash.to_string()),
            },
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => AppError::Conflict {
                code: "already_member",
                message: format!("{} is already a member of {}", a.email, org.name),
            },
            other => other.into(),
        })?;
        let user = tx.user(org.id, id).await?;
        let actor = Actor::from_user(&user);
        audit::record(
            tx,
            &actor,
            "user.created_admin",
            audit::Target {
                kind: "user",
                id: Some(id.to_string()),
                label: a.email.as_str(),
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        Ok((org, user))
    }

    /// Email + password sign-in. The same answer, after the same work, whether the
    /// email is unknown or the password wrong.
    pub async fn login(&self, email: &str, password: &str) -> AppResult<NewSession> {
        let bad = || AppError::Invalid {
            field: "password",
            message: "the email or password is incorrect".into(),
        };
        let Ok(email) = Email::parse(email) else {
            passwords::verify_dummy(password, self.settings.password_hash).await?;
            return Err(bad());
        };
        let candidates = self
            .store
            .read()
            .await?
            .login_candidates(email.normalized())
            .await?;
        if candidates.is_empty() {
            passwords::verify_dummy(password, self.settings.password_hash).await?;
            return Err(bad());
        }
        for (user, hash) in candidates {
            if passwords::verify(password, &hash).await? {
                let mut tx = self.store.write().await?;
                let session = self.insert_session(&mut tx, &user).await?;
                tx.commit().await?;
                return Ok(session);
            }
        }
        Err(bad())
    }

    /// The session behind a cookie token, if it is live and its user still active.
    /// Slides the idle expiry at most once a minute, to keep reads cheap.
    pub async fn session(&self, token: &str) -> AppResult<SessionRow> {
        let now = self.now();
        let hash = tokens::hash_token(token);
        let session = self
            .store
            .read()
            .await?
            .session(&hash, now)
            .await
            .or_not_found("session")?;
        if session.user.status != UserStatus::Active {
            return Err(AppError::Unauthenticated);
        }
        if now.duration_since(session.last_seen_at) > SignedDuration::from_secs(60) {
            let mut tx = self.store.write().await?;
            tx.touch_session(&hash, now, self.session_expiry(now)?)
                .await?;
            tx.commit().await?;
        }
        Ok(session)
    }

    pub async fn logout(&self, token: &str) -> AppResult<()> {
        let mut tx = self.store.write().await?;
        tx.delete_session(&tokens::hash_token(token)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the signed-in user's own password and ends their other sessions.
    pub async fn change_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &Password,
    ) -> AppResult<NewSession> {
        let stored = self
            .store
            .read()
            .await?
            .password_hash(actor.user_id)
            .await?;
        if !passwords::verify(current, stored.as_deref().unwrap_or("")).await? {
            return Err(AppError::invalid(
                "current_password",
                "the current password is incorrect",
            ));
        }
        let hash = passwords::hash(new, self.settings.password_hash).await?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.set_password_hash(actor.org_id, actor.user_id, &hash, now)
            .await?;
        tx.delete_sessions_of_user(actor.user_id).await?;
        let user = tx.user(actor.org_id, actor.user_id).await?;
        let session = self.insert_session(&mut tx, &user).await?;
        audit::record(
            &mut tx,
            actor,
            "user.password_changed",
            audit::Target {
                kind: "user",
                id: Some(actor.user_id.to_string()),
                label: &actor.email,
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }
}
