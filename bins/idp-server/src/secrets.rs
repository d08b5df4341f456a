//! `secrets generate-key` and `secrets rotate-key`.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use idp_store::{DatabaseUrl, SecretKey};

use crate::config::{DatabaseArgs, LogArgs};

/// Key management for sealed client secrets.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Print a fresh key (base64 of 32 random bytes), or write it to a new key file.
    GenerateKey {
        /// Write the key to this new file (mode 0600) instead of printing it; an existing file
        /// is never overwritten.
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
    },
    /// Seal every client secret again under the first key of the ring, in one transaction.
    ///
    /// With IDP_SECRET_KEY, list the new key first and the old ones after it
    /// (`IDP_SECRET_KEY=NEW,OLD`), run this, then drop the old keys. With a key file, a new key is
    /// added at the top of the file first; `--drop-old` then removes the old keys from the file.
    RotateKey {
        /// After re-sealing, remove the old keys from the key file.
        #[arg(long)]
        drop_old: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
}

/// Runs a secrets command.
pub fn run(command: SecretsCommand) -> Result<()> {
    match command {
        SecretsCommand::GenerateKey { output: None } => {
            println!("{}", SecretKey::generate_base64());
            Ok(())
        }
        SecretsCommand::GenerateKey { output: Some(path) } => {
            crate::keys::create_key_file(&path, &SecretKey::generate_base64())?;
            eprintln!("wrote a new key to {}", path.display());
            Ok(())
        }
        SecretsCommand::RotateKey {
            drop_old,
            database,
            log,
        } => {
            log.init();
            let key_file = match (
                &database.secret_key,
                &database.secret_key_file,
                database.url()?,
            ) {
                (Some(_), _, _) => None,
                (None, Some(path), _) => Some(path.clone()),
                (None, None, DatabaseUrl::Sqlite(db)) => Some(crate::keys::default_key_path(&db)),
                (None, None, DatabaseUrl::Postgres(_)) => None,
            };
            if let Some(path) = &database.secret_key_file {
                crate::keys::require_named_key_file(path)?;
            }
            if let Some(path) = &key_file {
                let old = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                crate::keys::write_key_file(
                    path,
                    &format!("{}\n{}", SecretKey::generate_base64(), old.trim()),
                )?;
                eprintln!("added a new key at the top of {}", path.display());
            } else if drop_old {
                bail!(
                    "--drop-old works on a key file; with IDP_SECRET_KEY, remove the old keys from it yourself"
                );
            }
            let store = database.open()?;
            store.migrate()?;
            let mut count = store.reseal_secrets()?;
            if drop_old {
                // A running instance that sealed a secret under an old key just before it saw
                // the new file, and committed after the pass above: sealed again here, before
                // the old keys go.
                count += store.reseal_secrets()?;
            }
            eprintln!(
                "re-sealed {count} stored secret(s) under key {}",
                store.secrets().primary_id()
            );
            if let (Some(path), true) = (&key_file, drop_old) {
                let text = std::fs::read_to_string(path)?;
                let first = text
                    .lines()
                    .map(str::trim)
                    .find(|line| !line.is_empty() && !line.starts_with('#'));
                crate::keys::write_key_file(path, first.context("the key file is empty")?)?;
                eprintln!("removed the old keys from {}", path.display());
            }
            Ok(())
        }
    }
}
