//! `token create`, `token list` and `token revoke`.

use anyhow::{Result, bail};
use chrono::{Duration, Utc};
use clap::Subcommand;

use crate::config::{DatabaseArgs, LogArgs};

/// API token administration.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token (and the user, if new) and print its 40-hex key on standard output.
    Create {
        /// The user the token belongs to.
        #[arg(long)]
        username: String,
        /// Make the user staff (may change providers and see hidden fields).
        #[arg(long)]
        staff: bool,
        /// Days until the token expires; it never expires without this.
        #[arg(long)]
        expires_in: Option<u32>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// List every token: id, user, created, expiry, last use (recorded by the servers about
    /// once a minute) and, for tokens made by a login, its provider. Keys are never shown.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Revoke one token by its key or its id (from `token list`), or every token of a user.
    Revoke {
        /// The token's key.
        key: Option<String>,
        /// Revoke the token with this id instead.
        #[arg(long, conflicts_with_all = ["key", "username"])]
        id: Option<i64>,
        /// Revoke all tokens of this user instead.
        #[arg(long, conflicts_with = "key")]
        username: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
}

/// Runs a token command.
pub fn run(command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create {
            username,
            staff,
            expires_in,
            database,
            log,
        } => {
            log.init();
            if username.trim().is_empty() {
                bail!("--username must not be empty");
            }
            if username.trim() != username || username.chars().any(char::is_control) {
                bail!("--username must not start or end with spaces or hold control characters");
            }
            if expires_in == Some(0) {
                bail!(
                    "--expires-in is a number of days, at least 1 (leave it out for a token that does not expire)"
                );
            }
            let store = database.open()?;
            store.migrate()?;
            let user = store.ensure_user(&username, staff)?;
            let expires_at =
                expires_in.map(|days| Utc::now().naive_utc() + Duration::days(i64::from(days)));
            let token = store.create_token(&user, expires_at)?;
            println!("{}", token.key);
            Ok(())
        }
        TokenCommand::List { database, log } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            let time = |at: Option<chrono::NaiveDateTime>, none: &str| {
                at.map_or_else(
                    || none.to_owned(),
                    |at| at.format("%Y-%m-%d %H:%M:%S").to_string(),
                )
            };
            println!("ID\tUSER\tCREATED\tEXPIRES\tLAST USED\tLOGIN");
            for token in store.list_tokens()? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.username,
                    time(Some(token.created_at), ""),
                    time(token.expires_at, "never"),
                    time(token.last_used_at, "-"),
                    token.provider.as_deref().unwrap_or("-"),
                );
            }
            Ok(())
        }
        TokenCommand::Revoke {
            key,
            id,
            username,
            database,
            log,
        } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            if let Some(id) = id {
                if !store.revoke_token_id(id)? {
                    bail!("no token has the id {id}");
                }
                eprintln!("revoked token {id}");
                return Ok(());
            }
            match (key, username) {
                (Some(key), None) => {
                    if !store.revoke_token(key.trim())? {
                        bail!("no token has that key");
                    }
                    eprintln!("revoked 1 token");
                }
                (None, Some(username)) => {
                    let count = store.revoke_user_tokens(&username)?;
                    eprintln!("revoked {count} token(s) of {username}");
                }
                _ => bail!("give a token key, --id or --username"),
            }
            Ok(())
        }
    }
}
