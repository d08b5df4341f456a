//! The integration tests of idp-store, in one test binary (one link instead of one per file),
//! each on SQLite and PostgreSQL.

mod audit;
mod login_profiles;
mod login_state;
mod store;
