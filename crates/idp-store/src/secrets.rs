//! Sealing client secrets at rest with AES-256-GCM under a key ring.

use aes_gcm::aead::{Aead, Generate, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use crate::error::StoreError;

const NONCE_LEN: usize = 12;

/// One 32-byte key and its id, the first 8 hex digits of the key's SHA-256.
#[derive(Clone)]
pub struct SecretKey {
    id: String,
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Reads a key written as base64 of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, StoreError> {
        let bytes = BASE64
            .decode(text.trim())
            .map_err(|_| StoreError::Secret("the key is not valid base64".into()))?;
        Self::from_bytes(&bytes)
    }

    /// Uses 32 raw bytes as a key.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        if bytes.len() != 32 {
            return Err(StoreError::Secret(format!(
                "a key has 32 bytes, this one has {}",
                bytes.len()
            )));
        }
        let digest = Sha256::digest(bytes);
        let id = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        let key = Key::<Aes256Gcm>::try_from(bytes)
            .map_err(|_| StoreError::Secret("a key has 32 bytes".into()))?;
        Ok(Self {
            id,
            cipher: Aes256Gcm::new(&key),
        })
    }

    /// A fresh random key, written as base64.
    pub fn generate_base64() -> String {
        BASE64.encode(Key::<Aes256Gcm>::generate())
    }

    /// The key's id, stored beside every value it seals.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A key ring: the first key seals, every key opens values sealed under its id.
#[derive(Clone, Debug)]
pub struct SecretBox {
    // Shared: every clone of a store (one per request on some paths) shares the ciphers.
    keys: std::sync::Arc<[SecretKey]>,
}

impl SecretBox {
    /// A ring sealing with `primary` and also opening values sealed with `older` keys.
    pub fn new(primary: SecretKey, older: Vec<SecretKey>) -> Self {
        let mut keys = vec![primary];
        keys.extend(older);
        Self { keys: keys.into() }
    }

    /// The id of the key that seals new values.
    pub fn primary_id(&self) -> &str {
        self.keys[0].id()
    }

    /// Seals `plaintext` as `v1:<key id>:<base64 of nonce and ciphertext>`.
    pub fn seal(&self, plaintext: &str) -> Result<String, StoreError> {
        let key = &self.keys[0];
        let nonce = Nonce::generate();
        let ciphertext = key
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| StoreError::Secret("encryption failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("v1:{}:{}", key.id, BASE64.encode(blob)))
    }

    /// Opens a sealed value with the key named in it.
    pub fn open(&self, sealed: &str) -> Result<String, StoreError> {
        let corrupt = || StoreError::Secret("a sealed value is malformed".into());
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(corrupt());
        };
        let key = self.keys.iter().find(|key| key.id == id).ok_or_else(|| {
            StoreError::Secret(format!(
                "no key with id {id} is configured to open a stored secret"
            ))
        })?;
        let blob = BASE64.decode(data).map_err(|_| corrupt())?;
        if blob.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| corrupt())?;
        let plaintext = key.cipher.decrypt(&nonce, ciphertext).map_err(|_| {
            StoreError::Secret("a stored secret does not open under its key".into())
        })?;
        String::from_utf8(plaintext).map_err(|_| corrupt())
    }

    /// The key id a sealed value names, if it is well formed.
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        let mut parts = sealed.splitn(3, ':');
        match (parts.next(), parts.next()) {
            (Some("v1"), Some(id)) => Some(id),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::generate_base64()).unwrap()
    }

    #[test]
    fn sealed_value_opens_and_hides_the_plaintext() {
        let ring = SecretBox::new(key(), vec![]);
        let sealed = ring.seal("s3cret-value").unwrap();
        assert!(!sealed.contains("s3cret"));
        assert!(sealed.starts_with(&format!("v1:{}:", ring.primary_id())));
        assert_eq!(ring.open(&sealed).unwrap(), "s3cret-value");
        assert_ne!(ring.seal("s3cret-value").unwrap(), sealed, "nonces differ");
    }

    #[test]
    fn older_keys_open_and_unknown_keys_are_reported() {
        let old = key();
        let sealed = SecretBox::new(old.clone(), vec![]).seal("x").unwrap();
        let rotated = SecretBox::new(key(), vec![old]);
        assert_eq!(rotated.open(&sealed).unwrap(), "x");
        let without_old = SecretBox::new(key(), vec![]);
        assert!(without_old.open(&sealed).is_err());
        assert!(without_old.open("garbage").is_err());
        assert!(without_old.open("v1:abc:!!!").is_err());
    }

    #[test]
    fn tampered_ciphertext_does_not_open() {
        let ring = SecretBox::new(key(), vec![]);
        let mut sealed = ring.seal("value").unwrap();
        let last = sealed.pop().unwrap();
        sealed.push(if last == 'A' { 'B' } else { 'A' });
        assert!(ring.open(&sealed).is_err());
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(SecretKey::from_base64("not base64!").is_err());
        assert!(SecretKey::from_base64("c2hvcnQ=").is_err());
    }
}
