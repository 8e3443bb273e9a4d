//! Encryption at rest for provider tokens and other secrets.
//!
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`): a 192-bit random nonce per
//! message makes nonce reuse a non-issue without a counter. Each ciphertext records the
//! id of the key that sealed it, so keys can be rotated: new secrets use the current
//! key, old ones still open with the key they name.

use anyhow::{bail, Context};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};
use std::path::Path;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

pub struct SecretBox {
    /// (key id, cipher); the first is the current key.
    keys: Vec<(String, XChaCha20Poly1305)>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        write!(f, "SecretBox(keys: {ids:?})")
    }
}

fn key_id(key: &[u8]) -> String {
    hex::encode(&Sha256::digest(key)[..4])
}

impl SecretBox {
    /// From raw 32-byte keys, the current one first.
    pub fn from_keys(keys: &[[u8; 32]]) -> anyhow::Result<Self> {
        if keys.is_empty() {
            bail!("at least one encryption key is needed");
        }
        Ok(Self {
            keys: keys
                .iter()
                .map(|k| (key_id(k), XChaCha20Poly1305::new(k.into())))
                .collect(),
        })
    }

    /// Loads the key file (one base64 key per line, current first), creating it with a
    /// fresh key and mode 0600 when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            let key = XChaCha20Poly1305::generate_key(&mut OsRng);
            write_private(path, &format!("{}\n", B64.encode(key)))
                .with_context(|| format!("creating the key file {}", path.display()))?;
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let bytes = B64
                    .decode(l.trim_end_matches('='))
                    .context("a key is not valid base64")?;
                <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| anyhow::anyhow!("a key is not 32 bytes long"))
            })
            .collect::<anyhow::Result<Vec<_>>>()
            .with_context(|| format!("parsing the key file {}", path.display()))?;
        Self::from_keys(&keys)
    }

    /// Puts a fresh key at the head of the key file (older keys stay, so existing
    /// ciphertexts still open) and returns the box with it as the current key.
    pub fn rotate_key_file(path: &Path) -> anyhow::Result<Self> {
        let old = std::fs::read_to_string(path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let new = format!("{}\n{old}", B64.encode(key));
        let tmp = path.with_extension("rotating");
        let _ = std::fs::remove_file(&tmp);
        write_private(&tmp, &new).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
        Self::load_or_create(path)
    }

    /// The id of the key that sealed `sealed`.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, '.');
        match (parts.next(), parts.next()) {
            (Some("v1"), Some(id)) => Some(id),
            _ => None,
        }
    }

    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    /// `v1.<key id>.<base64 nonce ‖ ciphertext>`
    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<String> {
        let (id, cipher) = &self.keys[0];
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ct = cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("v1.{id}.{}", B64.encode(out)))
    }

    pub fn open(&self, sealed: &str) -> anyhow::Result<Vec<u8>> {
        let mut parts = sealed.splitn(3, '.');
        let (Some("v1"), Some(id), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("not a sealed secret");
        };
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| anyhow::anyhow!("sealed with unknown key {id}"))?;
        let bytes = B64.decode(body).context("sealed secret is not base64")?;
        if bytes.len() < 24 {
            bail!("sealed secret is too short");
        }
        let (nonce, ct) = bytes.split_at(24);
        cipher
            .decrypt(XNonce::from_slice(nonce), ct)
            .map_err(|_| anyhow::anyhow!("sealed secret failed authentication"))
    }
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let a = SecretBox::load_or_create(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let sealed = a.seal(b"refresh-token-123").unwrap();
        assert!(!sealed.contains("refresh-token-123"));
        assert_eq!(a.open(&sealed).unwrap(), b"refresh-token-123");
        // Same file, same key.
        let again = SecretBox::load_or_create(&path).unwrap();
        assert_eq!(again.open(&sealed).unwrap(), b"refresh-token-123");
        // A new current key still opens what the old one sealed.
        let rotated = SecretBox::from_keys(&[[7u8; 32], {
            let text = std::fs::read_to_string(&path).unwrap();
            B64.decode(text.trim()).unwrap().try_into().unwrap()
        }])
        .unwrap();
        assert_eq!(rotated.open(&sealed).unwrap(), b"refresh-token-123");
        assert_ne!(rotated.current_key_id(), a.current_key_id());
        // Tampering is detected.
        let mut bad = sealed.clone();
        bad.pop();
        bad.push('A');
        assert!(a.open(&bad).is_err() || bad == sealed);
        assert!(a.open("garbage").is_err());
    }
}
