//! End-to-end tests of logging people in: the real app on a loopback port, a real database (a
//! SQLite file and a PostgreSQL database per test), and a real OpenID Provider
//! (`fixtures/oidc-provider`) or a hostile one on loopback. The server's logs are captured and
//! searched for every value of a login.

mod helpers;

mod begin_and_state;
mod hostile_login;
mod id_tokens;
mod operations;
mod preview;
mod probe;
mod provider_failures;
mod real_provider;
mod redirects_and_codes;
mod test_login;
mod users;
