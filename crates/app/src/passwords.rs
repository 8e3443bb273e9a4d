//! Password hashing with Argon2id, off the async threads.

use crate::error::{AppError, AppResult};
use anyhow::Context;
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use convene_domain::Password;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCost {
    /// OWASP's recommended Argon2id parameters (19 MiB, 2 passes).
    Standard,
    /// Cheap parameters so test suites that create many users stay fast.
    Test,
}

fn hasher(cost: HashCost) -> AppResult<Argon2<'static>> {
    let params = match cost {
        HashCost::Standard => Params::new(19 * 1024, 2, 1, None),
        HashCost::Test => Params::new(1024, 1, 1, None),
    }
    .map_err(|e| AppError::Unexpected(anyhow::anyhow!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash(password: &Password, cost: HashCost) -> AppResult<String> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher(cost)?
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await
    .context("password hashing task")?
}

/// Verifies with the parameters recorded in the hash itself.
pub async fn verify(password: &str, stored_hash: &str) -> AppResult<bool> {
    let password = password.to_string();
    let stored = stored_hash.to_string();
    let ok = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .context("password verification task")?;
    Ok(ok)
}

/// Spends about as long as a real verification, so that "no such user" and "wrong
/// password" cannot be told apart by timing.
pub async fn verify_dummy(password: &str, cost: HashCost) -> AppResult<()> {
    let pw = Password::parse("dummy-password-for-timing")
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("{e}")))?;
    let h = hash(&pw, cost).await?;
    verify(password, &h).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let pw = Password::parse("correct horse battery").unwrap();
        let h = hash(&pw, HashCost::Test).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h).await.unwrap());
        assert!(!verify("wrong horse battery", &h).await.unwrap());
        assert!(!verify("x", "not a hash").await.unwrap());
    }
}
