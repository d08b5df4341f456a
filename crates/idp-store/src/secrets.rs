//! Sealing client secrets at rest with AES-256-GCM under a key ring.

use aes_gcm::aead::{Aead, Generate, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha256};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

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

/// How often, at most, a key file is read again when a stored value names a key id the ring
/// does not hold and the file looks unchanged.
const KEY_FILE_RECHECK: Duration = Duration::from_secs(2);

/// A key ring: the first key seals, every key opens values sealed under its id.
///
/// A ring read from a key file ([`SecretBox::from_file`]) follows the file while the process
/// runs (see docs/decisions.md, "Secrets, users and tokens"): before sealing, and when
/// a stored value names a key id the ring does not hold, the file is looked at again (its
/// metadata at once; its content when that changed, or at most once every few seconds), so
/// `secrets rotate-key` never breaks a running instance. Keys a running ring has held keep
/// opening what they sealed until the process stops, even once the file no longer lists them.
#[derive(Clone, Debug)]
pub struct SecretBox {
    // Shared: every clone of a store (one per request on some paths) shares the ring.
    inner: Arc<Ring>,
}

#[derive(Debug)]
struct Ring {
    /// The keys as configured, the sealing key first, then keys no longer configured.
    keys: RwLock<Keys>,
    file: Option<KeyFile>,
}

#[derive(Debug, Clone)]
struct Keys {
    configured: Arc<[SecretKey]>,
    retired: Arc<[SecretKey]>,
}

#[derive(Debug)]
struct KeyFile {
    path: PathBuf,
    seen: Mutex<Seen>,
}

/// What the key file looked like when it was last read.
#[derive(Debug)]
struct Seen {
    stamp: Option<Stamp>,
    read_at: Instant,
}

/// A file's identity and size and modification time: a rename over it or a write changes it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    #[cfg(unix)]
    inode: (u64, u64),
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        Some(Self {
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (metadata.dev(), metadata.ino())
            },
            len: metadata.len(),
            modified: metadata.modified().ok(),
        })
    }
}

impl SecretBox {
    /// A ring sealing with `primary` and also opening values sealed with `older` keys.
    pub fn new(primary: SecretKey, older: Vec<SecretKey>) -> Self {
        Self::build(primary, older, None)
    }

    /// A ring from text holding base64 keys separated by commas or newlines (`#` starts a
    /// comment line), the first sealing; `source` names the text in errors.
    pub fn from_text(text: &str, source: &str) -> Result<Self, StoreError> {
        let (primary, older) = parse_keys(text, source)?;
        Ok(Self::new(primary, older))
    }

    /// A ring read from the key file at `path`, which it follows while the process runs.
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let stamp = Stamp::of(path);
        let (primary, older) = read_key_file(path)?;
        let file = KeyFile {
            path: path.to_owned(),
            seen: Mutex::new(Seen {
                stamp,
                read_at: Instant::now(),
            }),
        };
        Ok(Self::build(primary, older, Some(file)))
    }

    fn build(primary: SecretKey, older: Vec<SecretKey>, file: Option<KeyFile>) -> Self {
        let mut keys = vec![primary];
        keys.extend(older);
        Self {
            inner: Arc::new(Ring {
                keys: RwLock::new(Keys {
                    configured: keys.into(),
                    retired: Arc::new([]),
                }),
                file,
            }),
        }
    }

    fn keys(&self) -> Keys {
        self.inner
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The id of the key that seals new values.
    pub fn primary_id(&self) -> String {
        self.follow_file(false);
        self.keys().configured[0].id.clone()
    }

    /// Looks at the key file again: reads it when its metadata changed, or, with `unknown_id`,
    /// when it was last read more than a few seconds ago. A file that cannot be read or holds
    /// no valid key leaves the ring as it is (and is logged).
    fn follow_file(&self, unknown_id: bool) {
        let Some(file) = &self.inner.file else {
            return;
        };
        let mut seen = file
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let stamp = Stamp::of(&file.path);
        let changed = stamp != seen.stamp;
        let recheck = unknown_id && seen.read_at.elapsed() >= KEY_FILE_RECHECK;
        if !(changed || recheck) {
            return;
        }
        seen.read_at = Instant::now();
        seen.stamp = stamp;
        let (primary, older) = match read_key_file(&file.path) {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "the key file could not be read again; the keys held so far stay in use");
                return;
            }
        };
        let mut configured = vec![primary];
        configured.extend(older);
        let mut keys = self
            .inner
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut retired: Vec<SecretKey> = keys
            .configured
            .iter()
            .chain(keys.retired.iter())
            .filter(|old| configured.iter().all(|key| key.id != old.id))
            .cloned()
            .collect();
        retired.dedup_by(|a, b| a.id == b.id);
        let before: Vec<&str> = keys.configured.iter().map(|key| key.id.as_str()).collect();
        let after: Vec<&str> = configured.iter().map(|key| key.id.as_str()).collect();
        if before != after {
            tracing::info!(keys = ?after, "the key file changed; its keys are in use");
        }
        *keys = Keys {
            configured: configured.into(),
            retired: retired.into(),
        };
    }

    /// Seals `plaintext` as `v1:<key id>:<base64 of nonce and ciphertext>`.
    pub fn seal(&self, plaintext: &str) -> Result<String, StoreError> {
        self.follow_file(false);
        let keys = self.keys();
        let key = &keys.configured[0];
        let nonce = Nonce::generate();
        let ciphertext = key
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .map_err(|_| StoreError::Secret("encryption failed".into()))?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        Ok(format!("v1:{}:{}", key.id, BASE64.encode(blob)))
    }

    /// The key with id `id`, looking at the key file again if the ring does not hold it.
    fn key(&self, id: &str) -> Option<SecretKey> {
        let find = |keys: Keys| {
            keys.configured
                .iter()
                .chain(keys.retired.iter())
                .find(|key| key.id == id)
                .cloned()
        };
        find(self.keys()).or_else(|| {
            self.follow_file(true);
            find(self.keys())
        })
    }

    /// True when the ring holds (or, after looking at its key file again, now holds) the key
    /// with id `id`.
    pub fn holds(&self, id: &str) -> bool {
        self.key(id).is_some()
    }

    /// Opens a sealed value with the key named in it.
    pub fn open(&self, sealed: &str) -> Result<String, StoreError> {
        let corrupt = || StoreError::Secret("a sealed value is malformed".into());
        let mut parts = sealed.splitn(3, ':');
        let (Some("v1"), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(corrupt());
        };
        let key = self.key(id).ok_or_else(|| {
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

fn read_key_file(path: &Path) -> Result<(SecretKey, Vec<SecretKey>), StoreError> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        StoreError::Secret(format!(
            "cannot read the key file {}: {error}",
            path.display()
        ))
    })?;
    parse_keys(&text, &path.display().to_string())
}

fn parse_keys(text: &str, source: &str) -> Result<(SecretKey, Vec<SecretKey>), StoreError> {
    let mut keys = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            SecretKey::from_base64(line).map_err(|error| match error {
                StoreError::Secret(why) => StoreError::Secret(format!("a key in {source}: {why}")),
                other => other,
            })
        });
    let primary = keys
        .next()
        .ok_or_else(|| StoreError::Secret(format!("{source} holds no key")))??;
    let older = keys.collect::<Result<Vec<_>, _>>()?;
    Ok((primary, older))
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

    /// Replaces the file the way `secrets rotate-key` does: a new file renamed over it.
    fn replace(path: &Path, keys: &[&str]) {
        let temporary = path.with_extension("new");
        std::fs::write(&temporary, keys.join("\n")).unwrap();
        std::fs::rename(&temporary, path).unwrap();
    }

    #[test]
    fn a_ring_from_a_key_file_follows_the_file_and_keeps_the_keys_it_held() {
        let dir = std::env::temp_dir().join(format!("idp-ring-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ring.key");
        let (k1, k2, k3) = (
            SecretKey::generate_base64(),
            SecretKey::generate_base64(),
            SecretKey::generate_base64(),
        );
        let id = |text: &str| SecretKey::from_base64(text).unwrap().id().to_owned();
        replace(&path, &[&k1]);
        let ring = SecretBox::from_file(&path).unwrap();
        let under_k1 = ring.seal("one").unwrap();
        assert_eq!(SecretBox::key_id_of(&under_k1), Some(id(&k1).as_str()));

        // Another process rotates: new key on top. Sealing uses it at once; what it sealed
        // opens here.
        replace(&path, &[&k2, &k1]);
        let elsewhere = SecretBox::from_text(&k2, "test").unwrap();
        let under_k2 = elsewhere.seal("two").unwrap();
        assert_eq!(ring.open(&under_k2).unwrap(), "two");
        assert_eq!(ring.primary_id(), id(&k2));
        assert_eq!(
            SecretBox::key_id_of(&ring.seal("x").unwrap()),
            Some(id(&k2).as_str())
        );

        // The old keys leave the file: what they sealed still opens in this process.
        replace(&path, &[&k3]);
        assert_eq!(ring.primary_id(), id(&k3));
        assert_eq!(ring.open(&under_k1).unwrap(), "one");
        assert_eq!(ring.open(&under_k2).unwrap(), "two");
        assert!(ring.holds(&id(&k1)));

        // A file that cannot be read leaves the ring as it was.
        replace(&path, &["not a key"]);
        assert_eq!(ring.primary_id(), id(&k3));
        assert_eq!(ring.open(&under_k1).unwrap(), "one");

        // A key nobody configured is not found, and says which.
        let stranger = SecretBox::from_text(&SecretKey::generate_base64(), "test").unwrap();
        let error = ring.open(&stranger.seal("z").unwrap()).unwrap_err();
        assert!(
            error.to_string().contains(&stranger.primary_id()),
            "{error}"
        );
        assert!(!ring.holds(&stranger.primary_id()));
        std::fs::remove_dir_all(&dir).unwrap();
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
