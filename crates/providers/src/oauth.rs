//! OAuth 2.0 pieces shared by every provider: PKCE (RFC 7636, S256) and the
//! [`TokenSet`] a token endpoint returns.

use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use sha2::{Digest, Sha256};

/// The characters RFC 7636 allows in a code verifier ("unreserved").
const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
/// Verifier length: between the RFC's 43 and 128, with ~384 bits of entropy.
const VERIFIER_LEN: usize = 64;

/// A PKCE pair: keep `verifier` with the OAuth state (sealed), send `challenge` in
/// the authorize URL, and the verifier with the code exchange.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    /// A fresh random verifier and its S256 challenge.
    pub fn generate() -> Self {
        let mut rng = rand::thread_rng();
        let verifier: String = (0..VERIFIER_LEN)
            .map(|_| char::from(UNRESERVED[rng.gen_range(0..UNRESERVED.len())]))
            .collect();
        Self::from_verifier(Secret::new(verifier))
    }

    /// The pair for a known verifier (e.g. one read back from storage).
    pub fn from_verifier(verifier: Secret) -> Self {
        let challenge = s256_challenge(verifier.expose());
        Self {
            verifier,
            challenge,
        }
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))`.
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// What a token endpoint hands back, already in Convene's terms.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    /// The new refresh token. Providers that rotate (Zoom) always send one and the
    /// old one stops working; `None` means "keep the one you have".
    pub refresh_token: Option<Secret>,
    /// When the access token expires: the time the request was *sent* plus
    /// `expires_in`, so it errs on the early side.
    pub expires_at: Timestamp,
    pub scope: Option<String>,
}

/// `issued + expires_in` seconds, clamped to a sane range (0 s to one year).
pub(crate) fn expiry(issued: Timestamp, expires_in_secs: i64) -> Timestamp {
    let secs = expires_in_secs.clamp(0, 365 * 24 * 3600);
    issued
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        // RFC 7636 Appendix B. (The value "…WbuxDiLRAUjM" that circulates is wrong:
        // Python's hashlib and `openssl dgst` agree with the RFC's "…WbuGJSstw-cM".)
        let p = Pkce::from_verifier(Secret::from("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn generated_verifiers_follow_the_rfc() {
        let a = Pkce::generate();
        let b = Pkce::generate();
        let v = a.verifier.expose();
        assert!((43..=128).contains(&v.len()), "length {}", v.len());
        assert!(v.bytes().all(|c| UNRESERVED.contains(&c)));
        assert_eq!(a.challenge, s256_challenge(v));
        assert_eq!(a.challenge.len(), 43);
        assert!(!a.challenge.contains(['=', '+', '/']));
        assert_ne!(a.verifier, b.verifier);
    }

    #[test]
    fn expiry_is_clamped() {
        let t = Timestamp::from_second(1_000).unwrap();
        assert_eq!(expiry(t, 3599), Timestamp::from_second(4_599).unwrap());
        assert_eq!(expiry(t, -5), t);
        assert_eq!(
            expiry(t, i64::MAX),
            Timestamp::from_second(1_000 + 365 * 24 * 3600).unwrap()
        );
    }
}
