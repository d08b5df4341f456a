//! `token create` and `token revoke`.

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
    /// Revoke one token by its key, or every token of a user.
    Revoke {
        /// The token's key.
        key: Option<String>,
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
            let store = database.open()?;
            store.migrate()?;
            let user = store.ensure_user(&username, staff)?;
            let expires_at =
                expires_in.map(|days| Utc::now().naive_utc() + Duration::days(i64::from(days)));
            let token = store.create_token(&user, expires_at)?;
            println!("{}", token.key);
            Ok(())
        }
        TokenCommand::Revoke {
            key,
            username,
            database,
            log,
        } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
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
                _ => bail!("give a token key or --username"),
            }
            Ok(())
        }
    }
}
