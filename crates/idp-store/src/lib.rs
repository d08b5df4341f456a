//! Persistence of the identity-provider registry on SQLite and PostgreSQL.
//!
//! One diesel code path serves both backends through a `MultiConnection`; the backend is chosen
//! at run time by the database URL's scheme. Migrations are embedded and applied by
//! [`Store::migrate`]. Client secrets are sealed with AES-256-GCM before they reach a row, and
//! API tokens are kept only as SHA-256 hashes, and so are the
//! login flow's states, browser bindings and exchange codes.
//!
//! This crate knows the domain model of `idp-core` and nothing above it: no HTTP, no OIDC.

mod audit;
mod bulk;
mod cached;
mod checks;
mod columns;
mod conn;
mod error;
mod liveness;
mod login;
mod login_metadata;
mod profiles;
mod provider_rows;
mod providers;
mod schema;
mod secrets;
mod store;
mod sync;
mod token_cache;
mod users;

#[cfg(feature = "test-support")]
pub mod testing;

pub use audit::{
    AuditAction, AuditContext, AuditEvent, AuditFilter, AuditPage, SYSTEM_ACTOR, provider_changes,
    token_fingerprint,
};
pub use bulk::ImportOutcome;
pub use checks::{CheckOutcome, ProviderCheck, RefreshApplied, RefreshLock};
pub use conn::{Backend, DatabaseUrl, DbConnection, PoolConfig};
pub use error::StoreError;
pub use login::{LoginTransaction, NewLoginTransaction, Purged, Redeemed, TokenLogin, login_hash};
pub use login_metadata::StoredLoginMetadata;
pub use profiles::{EmailCount, LoginUser, Lookup};
pub use providers::{Page, StoredProvider};
pub use secrets::{SecretBox, SecretKey};
pub use store::Store;
pub use sync::{CHANNEL, ChangedProvider, ProviderChanges, Versions};
pub use users::{Authentication, NewToken, TokenInfo, User};
