//! API keys for `/api/v1`: `cnv_<prefix>_<secret>`, shown once. The prefix finds the
//! row; the SHA-256 of the whole key, compared in constant time, proves it.

use crate::actor::Actor;
use crate::error::{AppError, AppResult, NotFoundAs};
use crate::{audit, tokens, App};
use convene_domain::{ApiKeyId, Email, Permission, UserStatus};
use convene_store::{ApiKeyRow, StoreError};

pub struct CreatedKey {
    pub row: ApiKeyRow,
    /// The whole key; never stored, never shown again.
    pub key: String,
}

fn parse_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("cnv_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12 && prefix.chars().all(|c| c.is_ascii_hexdigit()) && secret.len() == 43)
        .then_some((prefix, secret))
}

impl App {
    /// A key acting as `actor` itself. Needs the "manage API keys" permission.
    pub async fn create_api_key(&self, actor: &Actor, name: &str) -> AppResult<CreatedKey> {
        actor.require(Permission::ManageApiKeys)?;
        self.create_api_key_unchecked(actor, name).await
    }

    /// For the operator's CLI, which acts outside any session.
    pub async fn create_api_key_for(
        &self,
        org_slug: &str,
        email: &str,
        name: &str,
    ) -> AppResult<CreatedKey> {
        let email = Email::parse(email).map_err(|e| AppError::invalid("email", e))?;
        let mut tx = self.store.read().await?;
        let org = tx
            .org_by_slug(org_slug)
            .await
            .or_not_found("organization")?;
        let user = tx
            .user_by_email(org.id, email.normalized())
            .await
            .or_not_found("user")?;
        drop(tx);
        if user.status != UserStatus::Active {
            return Err(AppError::Conflict {
                code: "user_not_active",
                message: format!("{} is not an active user", user.email),
            });
        }
        self.create_api_key_unchecked(&Actor::from_user(&user), name)
            .await
    }

    async fn create_api_key_unchecked(&self, actor: &Actor, name: &str) -> AppResult<CreatedKey> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "the key name must be 1–100 characters",
            ));
        }
        let prefix = tokens::random_hex(6);
        let key = format!("cnv_{prefix}_{}", tokens::new_token());
        let id = ApiKeyId::new();
        let now = self.now();
        let mut tx = self.store.write().await?;
        tx.insert_api_key(
            id,
            actor.org_id,
            actor.user_id,
            name,
            &prefix,
            &tokens::hash_token(&key),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            actor,
            "api_key.created",
            audit::Target {
                kind: "api_key",
                id: Some(id.to_string()),
                label: name,
            },
            serde_json::json!({"prefix": prefix}),
            now,
        )
        .await?;
        let row = tx.api_key(actor.org_id, id).await?;
        tx.commit().await?;
        Ok(CreatedKey { row, key })
    }

    /// The actor behind an `Authorization: Bearer` key: a live key of an active user.
    pub async fn authenticate_api_key(&self, key: &str) -> AppResult<Actor> {
        let (prefix, _) = parse_key(key).ok_or(AppError::Unauthenticated)?;
        let mut tx = self.store.read().await?;
        let row = match tx.api_key_by_prefix(prefix).await {
            Ok(r) => r,
            Err(StoreError::NotFound) => return Err(AppError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        if row.revoked_at.is_some()
            || !tokens::constant_time_eq(&row.key_hash, &tokens::hash_token(key))
        {
            return Err(AppError::Unauthenticated);
        }
        let user = tx
            .user(row.org_id, row.user_id)
            .await
            .or_not_found("user")?;
        drop(tx);
        if user.status != UserStatus::Active {
            return Err(AppError::Unauthenticated);
        }
        let now = self.now();
        if row
            .last_used_at
            .is_none_or(|t| now.duration_since(t) > jiff::SignedDuration::from_secs(60))
        {
            let mut tx = self.store.write().await?;
            tx.touch_api_key(row.id, now).await?;
            tx.commit().await?;
        }
        Ok(Actor::from_user(&user))
    }

    pub async fn api_keys(&self, actor: &Actor) -> AppResult<Vec<ApiKeyRow>> {
        actor.require(Permission::ManageApiKeys)?;
        Ok(self.store.read().await?.api_keys(actor.org_id).await?)
    }

    pub async fn revoke_api_key(&self, actor: &Actor, id: ApiKeyId) -> AppResult<()> {
        actor.require(Permission::ManageApiKeys)?;
        let now = self.now();
        let mut tx = self.store.write().await?;
        let key = tx.api_key(actor.org_id, id).await.or_not_found("API key")?;
        tx.revoke_api_key(actor.org_id, id, now)
            .await
            .or_not_found("API key")?;
        audit::record(
            &mut tx,
            actor,
            "api_key.revoked",
            audit::Target {
                kind: "api_key",
                id: Some(id.to_string()),
                label: &key.name,
            },
            serde_json::json!({}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_shape() {
        let k = format!("cnv_{}_{}", tokens::random_hex(6), tokens::new_token());
        assert!(parse_key(&k).is_some());
        assert!(parse_key("cnv_xyz_abc").is_none());
        assert!(parse_key("Bearer something").is_none());
    }
}
