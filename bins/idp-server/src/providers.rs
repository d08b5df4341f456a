//! `providers export` and `providers import`: moving configurations between deployments.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use idp_core::{ProviderNamePolicy, provider_from_export};
use idp_store::{AuditEvent, ImportOutcome};
use serde_json::Value;

use crate::config::{DatabaseArgs, LogArgs};

/// Provider configuration transfer.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Write every provider as a JSON array (the API's staff view), without client secrets
    /// unless asked.
    Export {
        /// Include each provider's client secret in plaintext.
        #[arg(long)]
        with_secrets: bool,
        /// Write `{"providers": [...], "history": [...]}`, the history being every audit event
        /// (oldest first), instead of the bare array.
        #[arg(long)]
        with_history: bool,
        /// Write to this file instead of standard output (created with mode 0600).
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Create or update providers from an exported JSON array (or an export with history, whose
    /// events are kept), matched by `provider`. Every entry is checked with the API's rules before anything is written; then all are written in
    /// one transaction, or none.
    Import {
        /// The exported JSON file (`-` for standard input).
        file: PathBuf,
        /// Check and report without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Allowed provider names, as for the server.
        #[arg(long, env = "IDP_PROVIDER_NAMES", default_value = "")]
        provider_names: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
}

/// Runs a providers command.
pub fn run(command: ProvidersCommand) -> Result<()> {
    match command {
        ProvidersCommand::Export {
            with_secrets,
            with_history,
            output,
            database,
            log,
        } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            let providers: Vec<Value> = store
                .all_providers()?
                .iter()
                .map(|p| p.provider.to_json(true, with_secrets))
                .collect();
            let count = providers.len();
            let document = if with_history {
                let history: Vec<Value> = store
                    .all_audit_events(None)?
                    .iter()
                    .map(AuditEvent::to_json)
                    .collect();
                eprintln!("exported {} audit event(s)", history.len());
                serde_json::json!({"providers": providers, "history": history})
            } else {
                Value::Array(providers)
            };
            let text = serde_json::to_string_pretty(&document)? + "\n";
            match output {
                Some(path) => write_private(&path, &text)?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
            eprintln!("exported {count} provider(s)");
            Ok(())
        }
        ProvidersCommand::Import {
            file,
            dry_run,
            provider_names,
            database,
            log,
        } => {
            log.init();
            let names =
                ProviderNamePolicy::from_setting(&provider_names).map_err(anyhow::Error::msg)?;
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let (entries, history) = read_export(&text)?;
            let store = database.open()?;
            store.migrate()?;
            let mut providers = Vec::with_capacity(entries.len());
            let mut failures = Vec::new();
            for (index, entry) in entries.iter().enumerate() {
                let name = entry.get("provider").and_then(Value::as_str).unwrap_or("?");
                let existing = match entry.get("provider").and_then(Value::as_str) {
                    Some(name) => store
                        .get_provider(name.trim(), false)?
                        .map(|stored| stored.provider),
                    None => None,
                };
                match provider_from_export(entry, existing.as_ref(), &names) {
                    Ok(provider) => providers.push(provider),
                    Err(errors) => failures.push(format!("entry {index} ({name}): {errors}")),
                }
            }
            let mut seen = std::collections::HashSet::new();
            for provider in &providers {
                if !seen.insert(provider.provider.as_str()) {
                    failures.push(format!(
                        "provider {} appears more than once",
                        provider.provider
                    ));
                }
            }
            if !failures.is_empty() {
                for failure in &failures {
                    eprintln!("{failure}");
                }
                bail!(
                    "nothing was imported: {} invalid entr(y/ies)",
                    failures.len()
                );
            }
            let outcomes = store.import_with_history(&providers, &history, dry_run)?;
            let mut counts = [0usize; 3];
            for (provider, outcome) in providers.iter().zip(&outcomes) {
                let (word, slot) = match outcome {
                    ImportOutcome::Created => ("created", 0),
                    ImportOutcome::Updated => ("updated", 1),
                    ImportOutcome::Unchanged => ("unchanged", 2),
                };
                counts[slot] += 1;
                println!("{word}\t{}", provider.provider);
            }
            let prefix = if dry_run {
                "dry run, nothing written: would have "
            } else {
                ""
            };
            eprintln!(
                "{prefix}created {}, updated {}, left {} unchanged",
                counts[0], counts[1], counts[2]
            );
            Ok(())
        }
    }
}

/// The providers of an export, and its audit history (empty for a bare array).
fn read_export(text: &str) -> Result<(Vec<Value>, Vec<AuditEvent>)> {
    let value: Value = serde_json::from_str(text).context("the file is not JSON")?;
    match value {
        Value::Array(entries) => Ok((entries, Vec::new())),
        Value::Object(mut object) => {
            let Some(Value::Array(entries)) = object.remove("providers") else {
                bail!("the file is neither a JSON array nor an object with a \"providers\" array");
            };
            let history = match object.remove("history") {
                None => Vec::new(),
                Some(Value::Array(events)) => events
                    .iter()
                    .enumerate()
                    .map(|(index, event)| {
                        AuditEvent::from_json(event)
                            .with_context(|| format!("history entry {index} is not an audit event"))
                    })
                    .collect::<Result<_>>()?,
                Some(_) => bail!("\"history\" is not an array"),
            };
            Ok((entries, history))
        }
        _ => bail!("the file is neither a JSON array nor an object with a \"providers\" array"),
    }
}

fn write_private(path: &PathBuf, text: &str) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}
