//! End-to-end tests of the Identity Providers API: the real app bound on a loopback port, a real
//! database (a SQLite file and a PostgreSQL database per test) and a real loopback HTTP server
//! serving discovery documents. Every test runs once per backend.

mod helpers;

mod audit;
mod bad_input;
mod check_order;
mod concurrency;
mod crud;
mod discovery_actions;
mod discovery_failures;
mod ops;
mod pagination;
mod permissions;
mod refresh;
mod snapshot;
