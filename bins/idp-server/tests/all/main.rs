//! The integration tests of the idp-server binary, in one test binary (one link instead of one
//! per file). Each runs the binary as a process. `tests/faults.rs` stays a binary of its own:
//! it freezes a PostgreSQL instance and kills servers under write load, and its time limits
//! should not compete with the other tests for the machine.

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod inspect;
mod instances;
mod login_settings;
mod operations;
mod secrets;
