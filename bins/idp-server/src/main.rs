//! `idp-server`: the identity-provider registry's server and its administration commands.
//!
//! This binary only wires things together: it reads the configuration, opens the store, and
//! hands the HTTP surface its listener. The behaviour lives in the library crates.

mod config;
mod inspect;
mod keys;
mod login;
mod providers;
mod secrets;
mod serve;
mod token;
mod users;

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, LogArgs};

/// The identity-provider registry: stores how a portal talks to its OpenID Connect providers
/// and serves the Identity Providers API.
#[derive(Debug, Parser)]
#[command(name = "idp-server", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: serve::ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the API server (the default): applies pending migrations, then serves.
    Serve(Box<serve::ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Create, list or revoke API tokens.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Export or import provider configurations.
    Providers {
        #[command(subcommand)]
        command: providers::ProvidersCommand,
    },
    /// List users, make them staff or not, deactivate them.
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
    /// Manage the keys that seal client secrets.
    Secrets {
        #[command(subcommand)]
        command: secrets::SecretsCommand,
    },
    /// Print the discovery report of any provider: claims, scopes, endpoints, suggested mapping.
    /// Needs no database.
    Inspect(inspect::InspectArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve::run(cli.serve),
        Some(Command::Serve(args)) => serve::run(*args),
        Some(Command::Migrate { database, log }) => {
            log.init();
            serve::migrate(&database)
        }
        Some(Command::Token { command }) => token::run(command),
        Some(Command::Providers { command }) => providers::run(command),
        Some(Command::Users { command }) => users::run(command),
        Some(Command::Secrets { command }) => secrets::run(command),
        Some(Command::Inspect(args)) => inspect::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
