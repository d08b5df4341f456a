//! Finding the key ring that seals client secrets.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use idp_store::{DatabaseUrl, SecretBox, SecretKey};

/// `IDP_SECRET_KEY` (`keys`), else `IDP_SECRET_KEY_FILE` (`key_file`), else (SQLite only)
/// `idp-secret.key` beside the database file. PostgreSQL needs an explicit key: instances
/// sharing a database must share it.
pub fn load_key_ring(
    keys: Option<&str>,
    key_file: Option<&Path>,
    url: &DatabaseUrl,
) -> Result<SecretBox> {
    if let Some(keys) = keys {
        return ring_from_text(keys, "IDP_SECRET_KEY");
    }
    let path = match (key_file, url) {
        (Some(path), _) => path.to_owned(),
        (None, DatabaseUrl::Sqlite(db)) => default_key_path(db),
        (None, DatabaseUrl::Postgres(_)) => bail!(
            "on PostgreSQL a secret key must be configured: set IDP_SECRET_KEY or IDP_SECRET_KEY_FILE \
             (every instance sharing the database needs the same key)"
        ),
    };
    if !path.exists() {
        create_key_file(&path)?;
        tracing::warn!(path = %path.display(), "created a new secret key file; back it up with the database");
    }
    let text = fs::read_to_string(&path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    ring_from_text(&text, &path.display().to_string())
}

/// `idp-secret.key` in the SQLite database's directory.
pub fn default_key_path(db: &Path) -> PathBuf {
    db.parent()
        .unwrap_or_else(|| Path::new(""))
        .join("idp-secret.key")
}

fn ring_from_text(text: &str, source: &str) -> Result<SecretBox> {
    let mut keys = text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| SecretKey::from_base64(line).with_context(|| format!("a key in {source}")));
    let primary = keys
        .next()
        .with_context(|| format!("{source} holds no key"))??;
    let older = keys.collect::<Result<Vec<_>>>()?;
    Ok(SecretBox::new(primary, older))
}

/// Writes a fresh key to `path`, readable by its owner only.
pub fn create_key_file(path: &Path) -> Result<()> {
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
    writeln!(file, "{}", SecretKey::generate_base64())?;
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
