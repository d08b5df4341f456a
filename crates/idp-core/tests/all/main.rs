//! The integration tests of idp-core, in one test binary (one link instead of one per file):
//! each module is one concept, and `login` is the login flow's pure logic.

#[path = "../common/mod.rs"]
mod common;

mod claim_pointer_rules;
mod create_defaults;
mod field_rules;
mod login;
mod mapping_rules;
mod properties;
mod protected_fields;
mod provider_json;
mod provider_rules;
mod redirect_rules;
mod type_rules;
mod update_rules;
