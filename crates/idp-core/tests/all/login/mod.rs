//! The login flow's pure logic (`idp_core::login`), checked against the reference's own test
//! cases and our additions (`docs/decisions.md`, "Logging people in"): claim
//! addressing, coercions, the mapping trace, choosing and updating users, redirects and the
//! authorization and logout URLs. Each module is one concept.

mod support;

mod authorize;
mod claims;
mod coercions;
mod mapping;
mod preview;
mod properties;
mod redirects;
mod users;
