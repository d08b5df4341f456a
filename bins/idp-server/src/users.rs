//! `users list`, `users set-staff` and `users deactivate`.

use anyhow::{Result, bail};
use clap::Subcommand;

use crate::config::{DatabaseArgs, LogArgs};

/// User administration.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List every user: name, staff, active.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Make a user staff (`--staff true`, the default) or not (`--staff false`).
    SetStaff {
        /// The user.
        username: String,
        /// Whether the user is staff.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        staff: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Deactivate a user (`--active true` activates again): its tokens stop working at once,
    /// on every instance within the snapshot check interval.
    Deactivate {
        /// The user.
        username: String,
        /// Activate instead.
        #[arg(long, default_value_t = false, action = clap::ArgAction::Set)]
        active: bool,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
}

/// Runs a users command.
pub fn run(command: UsersCommand) -> Result<()> {
    match command {
        UsersCommand::List { database, log } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            println!("USER\tSTAFF\tACTIVE");
            for user in store.list_users()? {
                println!(
                    "{}\t{}\t{}",
                    user.username,
                    if user.is_staff { "yes" } else { "no" },
                    if user.is_active { "yes" } else { "no" }
                );
            }
            Ok(())
        }
        UsersCommand::SetStaff {
            username,
            staff,
            database,
            log,
        } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            if !store.set_user_staff(&username, staff)? {
                bail!("no user is named {username:?}");
            }
            eprintln!(
                "{username} is {}staff",
                if staff { "" } else { "no longer " }
            );
            Ok(())
        }
        UsersCommand::Deactivate {
            username,
            active,
            database,
            log,
        } => {
            log.init();
            let store = database.open()?;
            store.migrate()?;
            if !store.set_user_active(&username, active)? {
                bail!("no user is named {username:?}");
            }
            eprintln!(
                "{username} is {}",
                if active { "active" } else { "deactivated" }
            );
            Ok(())
        }
    }
}
