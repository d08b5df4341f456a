//! Finding the key ring that seals client secrets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use idp_store::{DatabaseUrl, SecretBox, SecretKey, StoreError};

/// `IDP_SECRET_KEY` (`keys`), else `IDP_SECRET_KEY_FILE` (`key_file`), else (SQLite only)
/// `idp-secret.key` beside the database file. PostgreSQL needs an explicit key: instances
/// sharing a database must share it. Only the SQLite default is created when missing: a key
/// file named explicitly must exist, since a fresh key there could open none of the stored
/// secrets (a wrong path, a volume not mounted, a key not yet restored).
pub fn load_key_ring(
    keys: Option<&str>,
    key_file: Option<&Path>,
    url: &DatabaseUrl,
) -> Result<SecretBox> {
    if let Some(keys) = keys {
        return SecretBox::from_text(keys, "IDP_SECRET_KEY").map_err(ring_error);
    }
    let path = match (key_file, url) {
        (Some(path), _) => {
            require_named_key_file(path)?;
            path.to_owned()
        }
        (None, DatabaseUrl::Sqlite(db)) => {
            let path = default_key_path(db);
            if !path.exists() {
                create_key_file(&path, &SecretKey::generate_base64())?;
                tracing::warn!(path = %path.display(), "created a new secret key file; back it up with the database");
            }
            path
        }
        (None, DatabaseUrl::Postgres(_)) => bail!(
            "on PostgreSQL a secret key must be configured: set IDP_SECRET_KEY or IDP_SECRET_KEY_FILE \
             (every instance sharing the database needs the same key)"
        ),
    };
    // The ring follows the file: a rotation while the server runs is picked up.
    SecretBox::from_file(&path).map_err(ring_error)
}

/// A key ring's error without the store's "sealing failed" prefix: it is a setting's fault.
fn ring_error(error: StoreError) -> anyhow::Error {
    match error {
        StoreError::Secret(why) => anyhow::anyhow!(why),
        other => other.into(),
    }
}

/// An error unless the key file named by `IDP_SECRET_KEY_FILE` exists.
pub fn require_named_key_file(path: &Path) -> Result<()> {
    if !path.exists() {
        bail!(
            "IDP_SECRET_KEY_FILE names {}, which does not exist: restore the key file that goes \
             with the database, or create one with `idp-server secrets generate-key --output {}`",
            path.display(),
            path.display()
        );
    }
    Ok(())
}

/// `idp-secret.key` in the SQLite database's directory.
pub fn default_key_path(db: &Path) -> PathBuf {
    db.parent()
        .unwrap_or_else(|| Path::new(""))
        .join("idp-secret.key")
}

/// Writes `key` to a new file at `path` (never over an existing one), readable by its owner
/// only.
pub fn create_key_file(path: &Path, key: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the key file {}", path.display()))?;
    writeln!(file, "{key}")?;
    file.sync_all()?;
    Ok(())
}

/// Replaces the key file's content atomically (write beside it, then rename), mode 0600.
pub fn write_key_file(path: &Path, content: &str) -> Result<()> {
    let temporary = path.with_extension("key.new");
    let _ = fs::remove_file(&temporary);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    writeln!(file, "{}", content.trim())?;
    file.sync_all()?;
    fs::rename(&temporary, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
