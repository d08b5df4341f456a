//! The mapping from claims to a user, field by field, with the reasons behind every value.
//!
//! [`map_claims`] is the one computation both a login and the admin's mapping preview run,
//! so a preview never disagrees with a login. Its [`MappingTrace`] holds claim values: it is
//! shown to staff and applied to users, and must never be logged.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::Provider;
use crate::login::claims::{ClaimPath, claim_names, is_truthy};
use crate::login::coerce::{Skip, SkipReason, coerce_value};
use crate::login::identity::{
    ClaimSkip, LookupTrace, RolesTrace, email_verified, lookup, read_claim, roles,
};
use crate::login::profile::{CORE_SYNC_FIELDS, FieldValue, PROFILE_FIELDS, profile_field};

/// The parts of a provider's configuration the mapping reads.
#[derive(Debug, Clone, Copy)]
pub struct MappingConfig<'a> {
    /// The user field to look users up by (`user_field`).
    pub user_field: &'a str,
    /// Claims giving the lookup value, first present wins (`user_claim`).
    pub user_claim: &'a str,
    /// User field → whitespace-separated claims (`attribute_mapping`).
    pub attribute_mapping: &'a [(String, String)],
    /// Whitespace-separated claims kept raw in `details` (`extra_fields`).
    pub extra_fields: Option<&'a str>,
}

impl<'a> From<&'a Provider> for MappingConfig<'a> {
    fn from(provider: &'a Provider) -> Self {
        Self {
            user_field: &provider.user_field,
            user_claim: &provider.user_claim,
            attribute_mapping: &provider.attribute_mapping.0,
            extra_fields: provider.extra_fields.as_deref(),
        }
    }
}

/// Which mapped fields a login writes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SyncFields {
    /// Every field the provider maps (the default).
    #[default]
    Mapped,
    /// `first_name`, `last_name` and `email` (always synced, as in the reference) plus
    /// these fields.
    Listed(BTreeSet<String>),
}

impl SyncFields {
    /// Parses a setting listing writable user fields, separated by commas or whitespace;
    /// an empty list leaves the three core fields.
    pub fn parse(setting: &str) -> Result<Self, String> {
        let mut fields = BTreeSet::new();
        for name in setting.split(|c: char| c == ',' || c.is_whitespace()) {
            if name.is_empty() {
                continue;
            }
            if profile_field(name).is_none() {
                return Err(format!("{name} is not a writable user field."));
            }
            fields.insert(name.to_owned());
        }
        Ok(SyncFields::Listed(fields))
    }

    /// Whether a login writes `field` when the provider maps it.
    pub fn includes(&self, field: &str) -> bool {
        match self {
            SyncFields::Mapped => true,
            SyncFields::Listed(fields) => {
                CORE_SYNC_FIELDS.contains(&field) || fields.contains(field)
            }
        }
    }
}

/// Deployment settings the mapping follows.
#[derive(Debug, Clone, Copy)]
pub struct MappingOptions<'a> {
    /// Which mapped fields are written.
    pub sync_fields: &'a SyncFields,
    /// The claim holding roles (`staff`, `support`), if any; a name or a JSON Pointer.
    pub role_claim: Option<&'a str>,
}

/// One mapped field: its value and where it came from.
///
/// Serialised as `{"field", "claims", "synced", "value", "claim", "skipped"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldTrace {
    /// The user field.
    pub field: &'static str,
    /// The configured claim list.
    pub claims: String,
    /// Whether the field is synced; an unsynced field never gets a value.
    pub synced: bool,
    /// The value a login writes, if any.
    pub value: Option<FieldValue>,
    /// The claim that gave the value.
    pub claim: Option<String>,
    /// The claims tried before it (or all of them) and why each was skipped.
    pub skipped: Vec<ClaimSkip>,
}

/// What `extra_fields` puts into `details`.
///
/// Serialised as `{"claims", "value", "skipped"}`; `value` is `null` when no extra claim has
/// a truthy value, and then `details` is left as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DetailsTrace {
    /// The configured claim list (`extra_fields`), `""` when none.
    pub claims: String,
    /// Claim name → raw value, replacing the user's `details` when present.
    pub value: Option<Map<String, Value>>,
    /// Extra claims that were absent or falsy.
    pub skipped: Vec<ClaimSkip>,
}

/// The whole computation from claims to user, as a login applies it and a preview shows it.
/// It holds claim values, so neither it nor its `Debug` form belongs in a log line.
///
/// Serialised with these keys, in this order:
///
/// * `fields`: one [`FieldTrace`] per mapped writable field, in catalogue order;
/// * `lookup`: the [`LookupTrace`];
/// * `details`: the [`DetailsTrace`];
/// * `roles`: the [`RolesTrace`], or `null` when no role claim is configured;
/// * `email_verified`: whether `email_verified` is `true`;
/// * `unused_claims`: top-level claims nothing reads, sorted;
/// * `unknown_fields`: `attribute_mapping` keys that are not writable fields (ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MappingTrace {
    /// Mapped fields in catalogue order.
    pub fields: Vec<FieldTrace>,
    /// The lookup.
    pub lookup: LookupTrace,
    /// The `details` from `extra_fields`.
    pub details: DetailsTrace,
    /// The roles, when a role claim is configured.
    pub roles: Option<RolesTrace>,
    /// Whether the provider says the email is verified.
    pub email_verified: bool,
    /// Claims present that no mapping, lookup, extra field or role claim reads.
    pub unused_claims: Vec<String>,
    /// Mapping keys that are not writable user fields.
    pub unknown_fields: Vec<String>,
}

impl MappingTrace {
    /// The value a login writes into `field`, if any.
    pub fn value(&self, field: &str) -> Option<&FieldValue> {
        self.fields
            .iter()
            .find(|trace| trace.field == field)
            .and_then(|trace| trace.value.as_ref())
    }

    /// The fields a login writes, with their values, in catalogue order.
    pub fn payload(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> {
        self.fields
            .iter()
            .filter_map(|trace| trace.value.as_ref().map(|value| (trace.field, value)))
    }
}

/// Maps claims to a user the way a login does.
///
/// `claims` are the verified ID token's claims overlaid by userinfo's (see
/// [`crate::login::merge_claims`]).
///
/// ```
/// use idp_core::login::{MappingConfig, MappingOptions, SyncFields, map_claims};
/// use serde_json::json;
///
/// let mapping = vec![
///     ("email".to_owned(), "mail email".to_owned()),
///     ("country_of_residence".to_owned(), "/address/country".to_owned()),
/// ];
/// let config = MappingConfig {
///     user_field: "username",
///     user_claim: "sub",
///     attribute_mapping: &mapping,
///     extra_fields: None,
/// };
/// let options = MappingOptions { sync_fields: &SyncFields::Mapped, role_claim: None };
/// let claims = json!({"sub": "u1", "email": "a@example.org", "address": {"country": "EE"}, "iss": "x"});
/// let trace = map_claims(&config, &options, claims.as_object().unwrap());
///
/// assert_eq!(trace.lookup.value.as_deref(), Some("u1"));
/// let email = &trace.fields[0];
/// assert_eq!(email.claim.as_deref(), Some("email"));
/// assert_eq!(email.skipped[0].claim, "mail");
/// assert_eq!(trace.unused_claims, ["iss"]);
/// assert_eq!(serde_json::to_value(&trace).unwrap()["fields"][1]["value"], "EE");
/// ```
pub fn map_claims(
    config: &MappingConfig<'_>,
    options: &MappingOptions<'_>,
    claims: &Map<String, Value>,
) -> MappingTrace {
    let mapped = |name: &str| {
        config
            .attribute_mapping
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, claims)| claims.as_str())
    };
    let fields = PROFILE_FIELDS
        .iter()
        .filter_map(|field| {
            let list = mapped(field.name)?;
            let synced = options.sync_fields.includes(field.name);
            let mut trace = FieldTrace {
                field: field.name,
                claims: list.to_owned(),
                synced,
                value: None,
                claim: None,
                skipped: Vec::new(),
            };
            for name in claim_names(list) {
                let value = read_claim(name, claims).and_then(|value| coerce_value(field, value));
                match value {
                    Ok(_) if !synced => {
                        let skip = Skip::new(
                            SkipReason::NotSynced,
                            "The claim has a value, but the field is not synced.",
                        );
                        trace.skipped.push(ClaimSkip::new(name, skip));
                        break;
                    }
                    Ok(value) => {
                        trace.value = Some(value);
                        trace.claim = Some(name.to_owned());
                        break;
                    }
                    Err(skip) => trace.skipped.push(ClaimSkip::new(name, skip)),
                }
            }
            Some(trace)
        })
        .collect();
    let unknown_fields = config
        .attribute_mapping
        .iter()
        .filter(|(key, _)| profile_field(key).is_none())
        .map(|(key, _)| key.clone())
        .collect();
    MappingTrace {
        fields,
        lookup: lookup(config.user_field, config.user_claim, claims),
        details: details(config.extra_fields.unwrap_or(""), claims),
        roles: roles(options.role_claim, claims),
        email_verified: email_verified(claims),
        unused_claims: unused_claims(config, options, claims),
        unknown_fields,
    }
}

/// Extra claims with a truthy value, raw, keyed by the claim name as configured.
fn details(extra_fields: &str, claims: &Map<String, Value>) -> DetailsTrace {
    let mut value = Map::new();
    let mut skipped = Vec::new();
    for name in claim_names(extra_fields) {
        match read_claim(name, claims) {
            Ok(raw) if is_truthy(raw) => {
                value.insert(name.to_owned(), raw.clone());
            }
            Ok(_) => skipped.push(ClaimSkip::new(
                name,
                Skip::new(SkipReason::Empty, "The value is empty."),
            )),
            Err(skip) => skipped.push(ClaimSkip::new(name, skip)),
        }
    }
    DetailsTrace {
        claims: extra_fields.to_owned(),
        value: (!value.is_empty()).then_some(value),
        skipped,
    }
}

/// The top-level claims a mapping reads, sorted: those of `attribute_mapping`, `user_claim`,
/// `extra_fields` and the role claim (a pointer reads its first token's claim), and
/// `email_verified`. Malformed pointers read nothing.
///
/// ```
/// use idp_core::login::{MappingConfig, claims_read};
///
/// let mapping = vec![("email".to_owned(), "mail email".to_owned())];
/// let config = MappingConfig {
///     user_field: "username",
///     user_claim: "sub",
///     attribute_mapping: &mapping,
///     extra_fields: Some("/realm_access/roles"),
/// };
/// assert_eq!(claims_read(&config, None), ["email", "email_verified", "mail", "realm_access", "sub"]);
/// ```
pub fn claims_read(config: &MappingConfig<'_>, role_claim: Option<&str>) -> Vec<String> {
    let lists = config
        .attribute_mapping
        .iter()
        .map(|(_, list)| list.as_str())
        .chain([config.user_claim, config.extra_fields.unwrap_or("")])
        .chain(role_claim);
    let used: BTreeSet<String> = lists
        .flat_map(claim_names)
        .filter_map(|name| ClaimPath::parse(name).ok())
        .map(|path| path.top_level().to_owned())
        .chain(["email_verified".to_owned()])
        .collect();
    used.into_iter().collect()
}

/// Top-level claims that nothing reads.
fn unused_claims(
    config: &MappingConfig<'_>,
    options: &MappingOptions<'_>,
    claims: &Map<String, Value>,
) -> Vec<String> {
    let used: BTreeSet<String> = claims_read(config, options.role_claim)
        .into_iter()
        .collect();
    let unused: BTreeSet<&String> = claims.keys().filter(|key| !used.contains(*key)).collect();
    unused.into_iter().cloned().collect()
}
