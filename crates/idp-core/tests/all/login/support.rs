//! Building mapping configurations and claims for the tests.

use idp_core::Provider;
use idp_core::login::{MappingConfig, MappingOptions, MappingTrace, SyncFields, map_claims};
use serde_json::{Map, Value};

use crate::common::{create_body, created};

/// A table row's input: a pair of optional strings (a return URL and a Referer, a stored
/// and a returned state).
pub type Pair<'a> = (Option<&'a str>, Option<&'a str>);

/// A JSON object value as a claims map.
pub fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        other => panic!("expected an object, got {other}"),
    }
}

/// A stored provider named `name` with the per-provider defaults and test endpoints.
pub fn provider(name: &str) -> Provider {
    created(&create_body(name))
}

/// A mapping configuration and deployment settings, built up field by field.
#[derive(Debug, Clone)]
pub struct Setup {
    pub user_field: String,
    pub user_claim: String,
    pub mapping: Vec<(String, String)>,
    pub extra_fields: Option<String>,
    pub sync: SyncFields,
    pub role_claim: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            user_field: "username".into(),
            user_claim: "sub".into(),
            mapping: Vec::new(),
            extra_fields: None,
            sync: SyncFields::Mapped,
            role_claim: None,
        }
    }
}

impl Setup {
    /// The configuration of a stored provider (its defaults included).
    pub fn of(provider: &Provider) -> Self {
        Self {
            user_field: provider.user_field.clone(),
            user_claim: provider.user_claim.clone(),
            mapping: provider.attribute_mapping.0.clone(),
            extra_fields: provider.extra_fields.clone(),
            ..Self::default()
        }
    }

    /// Maps `field` from `claims`.
    pub fn map(mut self, field: &str, claims: &str) -> Self {
        self.mapping.retain(|(key, _)| key != field);
        self.mapping.push((field.into(), claims.into()));
        self
    }

    /// Looks users up by `field` from `claims`.
    pub fn lookup(mut self, field: &str, claims: &str) -> Self {
        self.user_field = field.into();
        self.user_claim = claims.into();
        self
    }

    /// Syncs the core fields plus `fields` only.
    pub fn sync_only(mut self, fields: &str) -> Self {
        self.sync = SyncFields::parse(fields).expect("valid field list");
        self
    }

    /// Reads roles from `claim`.
    pub fn roles(mut self, claim: &str) -> Self {
        self.role_claim = Some(claim.into());
        self
    }

    /// Keeps `claims` in `details`.
    pub fn extra(mut self, claims: &str) -> Self {
        self.extra_fields = Some(claims.into());
        self
    }

    /// Maps `claims` (a JSON object).
    pub fn trace(&self, claims: Value) -> MappingTrace {
        let config = MappingConfig {
            user_field: &self.user_field,
            user_claim: &self.user_claim,
            attribute_mapping: &self.mapping,
            extra_fields: self.extra_fields.as_deref(),
        };
        let options = MappingOptions {
            sync_fields: &self.sync,
            role_claim: self.role_claim.as_deref(),
        };
        map_claims(&config, &options, &object(claims))
    }
}
