//! `providers export` and `providers import`: moving configurations between deployments.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use idp_core::{Provider, ProviderNamePolicy, provider_from_export};
use idp_oidc::guard::check_url_offline;
use idp_oidc::parse_networks;
use idp_store::{AuditEvent, ImportOutcome};
use ipnet::IpNet;
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
        /// Check and report without writing anything: no database, key file or migration is
        /// created or applied.
        #[arg(long)]
        dry_run: bool,
        /// Largest import file accepted, in MiB.
        #[arg(long, value_name = "MIB", default_value_t = 64)]
        max_size: u64,
        /// Allowed provider names, as for the server.
        #[arg(long, env = "IDP_PROVIDER_NAMES", default_value = "")]
        provider_names: String,
        /// Comma-separated CIDRs the providers' URLs may name although the SSRF guard refuses
        /// them, as for the server. Every URL (discovery, authorization, token, userinfo,
        /// logout) is checked by the guard's rules without being fetched.
        #[arg(long, env = "IDP_DISCOVERY_ALLOW_NETWORKS", default_value = "")]
        discovery_allow_networks: String,
        /// The client secrets of an export made without `--with-secrets`: a JSON file holding
        /// an object of provider name to client secret (mode 0600 advised). Used for the
        /// entries that hold no `client_secret`.
        #[arg(long, value_name = "FILE")]
        secrets: Option<PathBuf>,
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
            max_size,
            provider_names,
            discovery_allow_networks,
            secrets,
            database,
            log,
        } => {
            log.init();
            let secrets = match &secrets {
                Some(path) => read_secrets(path)?,
                None => serde_json::Map::new(),
            };
            let names =
                ProviderNamePolicy::from_setting(&provider_names).map_err(anyhow::Error::msg)?;
            let networks = parse_networks(&discovery_allow_networks)
                .map_err(anyhow::Error::msg)
                .context("IDP_DISCOVERY_ALLOW_NETWORKS")?;
            let text = read_limited(&file, max_size)?;
            let (entries, history) = read_export(&text)?;
            let store = if dry_run {
                // A database without the registry's tables (never migrated) holds no provider:
                // every one would be created.
                database
                    .open_without_writing()?
                    .filter(idp_store::Store::has_registry_tables)
            } else {
                let store = database.open()?;
                store.migrate()?;
                Some(store)
            };
            let mut providers = Vec::with_capacity(entries.len());
            let mut failures = Vec::new();
            for (index, entry) in entries.iter().enumerate() {
                let name = entry.get("provider").and_then(Value::as_str).unwrap_or("?");
                let existing = match (entry.get("provider").and_then(Value::as_str), &store) {
                    (Some(name), Some(store)) => store
                        .get_provider(name.trim(), false)?
                        .map(|stored| stored.provider),
                    _ => None,
                };
                let mut entry = entry.clone();
                let holds_secret = entry.get("client_secret").is_some_and(|v| !v.is_null());
                if let (false, Some(object)) = (holds_secret, entry.as_object_mut()) {
                    match secrets.get(name) {
                        Some(secret) => {
                            object.insert("client_secret".to_owned(), secret.clone());
                        }
                        None if existing.is_none() => {
                            failures.push(format!(
                                "entry {index} ({name}): no client secret: the file was exported \
                                 without --with-secrets and no provider {name:?} exists here to \
                                 keep its secret; give the secrets with --secrets FILE (a JSON \
                                 object of provider name to client secret) or import an export \
                                 made with --with-secrets"
                            ));
                            continue;
                        }
                        None => {}
                    }
                }
                match provider_from_export(&entry, existing.as_ref(), &names) {
                    Ok(provider) => {
                        for (field, url) in refused_urls(&provider, &networks) {
                            failures.push(format!("entry {index} ({name}): {field}: {url}"));
                        }
                        providers.push(provider);
                    }
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
            let outcomes = match &store {
                Some(store) => store.import_with_history(&providers, &history, dry_run)?,
                // A dry run without a database: every provider would be created.
                None => vec![ImportOutcome::Created; providers.len()],
            };
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

/// The import file (`-`: standard input), refused past `max_mib` MiB before it is parsed.
fn read_limited(file: &Path, max_mib: u64) -> Result<String> {
    let limit = max_mib.saturating_mul(1 << 20);
    let too_large = || {
        anyhow::anyhow!(
            "the import file is larger than {max_mib} MiB; nothing was imported \
             (raise the limit with --max-size MIB)"
        )
    };
    let reader: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        if opened.metadata().is_ok_and(|m| m.len() > limit) {
            return Err(too_large());
        }
        Box::new(opened)
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(reader, limit.saturating_add(1)),
        &mut bytes,
    )
    .with_context(|| format!("cannot read {}", file.display()))?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).context("the file is not UTF-8 text")
}

/// Each URL of `provider` the SSRF guard refuses, with why; nothing is fetched or looked up
/// (host names are checked when the server makes a request).
fn refused_urls(provider: &Provider, networks: &[IpNet]) -> Vec<(&'static str, String)> {
    [
        ("discovery_url", &provider.discovery_url),
        ("auth_url", &provider.endpoints.auth_url),
        ("token_url", &provider.endpoints.token_url),
        ("userinfo_url", &provider.endpoints.userinfo_url),
        ("logout_url", &provider.endpoints.logout_url),
    ]
    .into_iter()
    .filter(|(_, url)| !url.is_empty())
    .filter_map(|(field, url)| {
        check_url_offline(url, networks)
            .err()
            .map(|error| (field, error.to_string()))
    })
    .collect()
}

/// The client secrets given to an import: a JSON object of provider name to secret (a string).
fn read_secrets(path: &Path) -> Result<serde_json::Map<String, Value>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // The file's text is never quoted in a message: it holds secrets.
    let Ok(Value::Object(secrets)) = serde_json::from_str::<Value>(&text) else {
        bail!(
            "{} is not a JSON object of provider name to client secret",
            path.display()
        );
    };
    if let Some((name, _)) = secrets.iter().find(|(_, secret)| !secret.is_string()) {
        bail!("{}: the secret of {name:?} is not a string", path.display());
    }
    Ok(secrets)
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

/// Writes `text` to `path` through a new file (mode 0600) in the same directory, renamed into
/// place: an existing file's mode is not kept and a symbolic link at `path` is replaced, not
/// followed, so the secrets never land in a file others can read.
fn write_private(path: &Path, text: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".idp-export-");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut file = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path)
        .map_err(|error| error.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
