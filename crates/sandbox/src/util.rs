//! Small helpers shared by the emulators: random tokens and numbers, ids derived
//! stably from a name, HMAC-SHA256 signatures and PKCE challenges.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

/// `bytes` random bytes, base64url without padding (32 bytes → 43 characters).
pub(crate) fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill(buf.as_mut_slice());
    URL_SAFE_NO_PAD.encode(buf)
}

/// Random letters and digits, e.g. for meeting passcodes.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random number in `range`.
pub(crate) fn random_in(range: std::ops::Range<u64>) -> u64 {
    rand::thread_rng().gen_range(range)
}

/// True with probability `p` (clamped to 0..=1).
pub(crate) fn chance(p: f64) -> bool {
    p > 0.0 && rand::thread_rng().gen_bool(p.min(1.0))
}

/// 16 random bytes in standard base64 with padding, the shape of a Zoom meeting UUID.
pub(crate) fn random_uuid_b64() -> String {
    let buf: [u8; 16] = rand::thread_rng().gen();
    STANDARD.encode(buf)
}

/// A stable id derived from `namespace` and `name`: the first 16 bytes of
/// SHA-256 in base64url (22 characters, the shape of a Zoom user id).
pub(crate) fn stable_id(namespace: &str, name: &str) -> String {
    let digest = Sha256::digest(format!("{namespace}:{name}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// A stable number of `digits` digits derived from `name` (e.g. a personal meeting id).
pub(crate) fn stable_number(name: &str, digits: u32) -> u64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let low = 10u64.pow(digits - 1);
    low + u64::from_be_bytes(first) % (9 * low)
}

/// Lowercase hex of HMAC-SHA256(`key`, `message`).
pub(crate) fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The PKCE S256 challenge of `verifier`: BASE64URL-NOPAD(SHA256(verifier)).
pub(crate) fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Constant-time equality for secrets and signatures.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_matches_the_rfc_7636_example() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn stable_ids_are_stable_and_shaped_like_zoom_ids() {
        let a = stable_id("user", "alice@zoom.sandbox");
        assert_eq!(a, stable_id("user", "alice@zoom.sandbox"));
        assert_ne!(a, stable_id("user", "bob@zoom.sandbox"));
        assert_eq!(a.len(), 22);
        let n = stable_number("alice", 10);
        assert!((1_000_000_000..10_000_000_000).contains(&n));
    }

    #[test]
    fn hmac_matches_a_known_vector() {
        // RFC 4231 test case 2.
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
