//! The provider model and the parsing of create, update and partial-update bodies.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::catalogue::user_field;
use crate::defaults::defaults_for;
use crate::errors::{FieldError, ValidationErrors};
use crate::names::ProviderNamePolicy;
use crate::parse::{REQUIRED, Text, boolean, required_text, string_list, text, type_name};
use crate::redirects::normalise_redirects;
use crate::url_rules::check_discovery_url_for_provider;

/// A user-field → claims mapping, kept in the order it was given.
///
/// Each value is a whitespace-separated list of claim names; the first claim present at login
/// wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeMapping(pub Vec<(String, String)>);

impl AttributeMapping {
    /// The claims mapped to `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == field)
            .map(|(_, value)| value.as_str())
    }

    /// Parses a JSON object whose keys are writable user fields and whose values are non-empty
    /// strings; the messages are the API's.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let object = match value {
            Value::Object(object) => object,
            Value::Null => return Err(crate::parse::NULL.into()),
            other => {
                return Err(format!(
                    "Expected a dictionary of items but got type \"{}\".",
                    type_name(other)
                ));
            }
        };
        let invalid: Vec<&str> = object
            .keys()
            .map(String::as_str)
            .filter(|key| user_field(key).is_none())
            .collect();
        if !invalid.is_empty() {
            return Err(format!(
                "Invalid attribute mapping keys: {}",
                invalid.join(",")
            ));
        }
        let mut pairs = Vec::with_capacity(object.len());
        for (key, value) in object {
            match value {
                Value::String(s) if s.trim().is_empty() => {
                    return Err(format!(
                        "Attribute mapping value for '{key}' is empty string."
                    ));
                }
                Value::String(s) => pairs.push((key.clone(), s.clone())),
                _ => {
                    return Err(format!(
                        "Attribute mapping value for '{key}' must be a string."
                    ));
                }
            }
        }
        Ok(Self(pairs))
    }

    /// The mapping as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }
}

impl Serialize for AttributeMapping {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The endpoints read from a provider's discovery document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderEndpoints {
    /// `authorization_endpoint`.
    pub auth_url: String,
    /// `token_endpoint`.
    pub token_url: String,
    /// `userinfo_endpoint`.
    pub userinfo_url: String,
    /// `end_session_endpoint`, or empty.
    pub logout_url: String,
}

/// One identity provider's configuration, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The provider's unique name, also its URL key.
    pub provider: String,
    /// Inactive providers are shown to staff only.
    pub is_active: bool,
    /// ID of the application used for OAuth authentication.
    pub client_id: String,
    /// The application's secret key.
    pub client_secret: String,
    /// Whether TLS certificates of the provider are verified.
    pub verify_ssl: bool,
    /// Whether users are sent back after signing out.
    pub enable_post_logout_redirect: bool,
    /// Whether PKCE is used in the authorization request.
    pub enable_pkce: bool,
    /// The discovery document's URL.
    pub discovery_url: String,
    /// The endpoints taken from the discovery document.
    pub endpoints: ProviderEndpoints,
    /// Human-readable label; lists are ordered by it.
    pub label: String,
    /// Where users manage their details, or empty.
    pub management_url: String,
    /// User fields the portal must not let users edit.
    pub protected_fields: Vec<String>,
    /// Space-separated scopes to request besides `openid`.
    pub extra_scope: Option<String>,
    /// The user field used to look the user up.
    pub user_field: String,
    /// Whitespace-separated claims whose first present value is the lookup value.
    pub user_claim: String,
    /// User field → claims.
    pub attribute_mapping: AttributeMapping,
    /// Space-separated extra claims to persist.
    pub extra_fields: Option<String>,
    /// Origins a login may return to, normalised.
    pub allowed_redirects: Vec<String>,
}

/// The fields hidden from anyone but staff.
pub const HIDDEN_FIELDS: [&str; 5] = [
    "client_secret",
    "user_field",
    "user_claim",
    "attribute_mapping",
    "extra_fields",
];

impl Provider {
    /// The provider as a JSON object in the API's key order.
    ///
    /// `staff` shows the fields hidden from others; `with_secret` (staff only) includes
    /// `client_secret`.
    pub fn to_json(&self, staff: bool, with_secret: bool) -> Value {
        serde_json::to_value(self.view(staff, with_secret)).unwrap_or_default()
    }

    /// The provider as the API shows it to a caller, serialised straight from the fields (no
    /// intermediate JSON value): the same keys in the same order as [`Provider::to_json`].
    pub fn view(&self, staff: bool, with_secret: bool) -> ProviderView<'_> {
        ProviderView {
            provider: self,
            staff,
            with_secret: staff && with_secret,
        }
    }
}

/// A provider as one caller may see it; see [`Provider::view`].
#[derive(Debug, Clone, Copy)]
pub struct ProviderView<'a> {
    provider: &'a Provider,
    staff: bool,
    with_secret: bool,
}

impl Serialize for ProviderView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.provider;
        let len = 16 + usize::from(self.with_secret) + if self.staff { 4 } else { 0 };
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("protected_fields", &p.protected_fields)?;
        map.serialize_entry("allowed_redirects", &p.allowed_redirects)?;
        map.serialize_entry("provider", &p.provider)?;
        map.serialize_entry("is_active", &p.is_active)?;
        map.serialize_entry("client_id", &p.client_id)?;
        if self.with_secret {
            map.serialize_entry("client_secret", &p.client_secret)?;
        }
        map.serialize_entry("verify_ssl", &p.verify_ssl)?;
        map.serialize_entry(
            "enable_post_logout_redirect",
            &p.enable_post_logout_redirect,
        )?;
        map.serialize_entry("enable_pkce", &p.enable_pkce)?;
        map.serialize_entry("discovery_url", &p.discovery_url)?;
        map.serialize_entry("userinfo_url", &p.endpoints.userinfo_url)?;
        map.serialize_entry("token_url", &p.endpoints.token_url)?;
        map.serialize_entry("auth_url", &p.endpoints.auth_url)?;
        map.serialize_entry("logout_url", &p.endpoints.logout_url)?;
        map.serialize_entry("label", &p.label)?;
        map.serialize_entry("management_url", &p.management_url)?;
        map.serialize_entry("extra_scope", &p.extra_scope)?;
        if self.staff {
            map.serialize_entry("user_field", &p.user_field)?;
            map.serialize_entry("user_claim", &p.user_claim)?;
            map.serialize_entry("attribute_mapping", &p.attribute_mapping)?;
            map.serialize_entry("extra_fields", &p.extra_fields)?;
        }
        map.end()
    }
}

/// Whether a body replaces the writable fields (`PUT`) or changes some of them (`PATCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// `PUT`: `client_id`, `client_secret`, `discovery_url` and `label` are required.
    Replace,
    /// `PATCH`: every field is optional.
    Partial,
}

/// The writable fields present in a body, each already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Fields {
    provider: Option<String>,
    is_active: Option<bool>,
    client_id: Option<String>,
    client_secret: Option<String>,
    verify_ssl: Option<bool>,
    enable_post_logout_redirect: Option<bool>,
    enable_pkce: Option<bool>,
    discovery_url: Option<String>,
    label: Option<String>,
    management_url: Option<String>,
    protected_fields: Option<Vec<String>>,
    extra_scope: Option<Option<String>>,
    user_field: Option<String>,
    user_claim: Option<String>,
    attribute_mapping: Option<AttributeMapping>,
    extra_fields: Option<Option<String>>,
    allowed_redirects: Option<Vec<String>>,
}

/// Keys that are part of the resource but never written by a request; they are ignored so that
/// a client may send back what it read.
const READ_ONLY: [&str; 4] = ["userinfo_url", "token_url", "auth_url", "logout_url"];

/// The order in which fields are checked and their errors reported.
const WRITABLE: [&str; 17] = [
    "protected_fields",
    "allowed_redirects",
    "provider",
    "is_active",
    "client_id",
    "client_secret",
    "verify_ssl",
    "enable_post_logout_redirect",
    "enable_pkce",
    "discovery_url",
    "label",
    "management_url",
    "extra_scope",
    "user_field",
    "user_claim",
    "attribute_mapping",
    "extra_fields",
];

const SECRET_MAX: u64 = 200;

/// The message of a create whose provider name is taken.
pub const DUPLICATE_PROVIDER: &str = "identity provider with this provider already exists.";

fn body_object(body: &Value) -> Result<&Map<String, Value>, ValidationErrors> {
    match body {
        Value::Object(object) => Ok(object),
        Value::Null => Err(ValidationErrors::non_field("No data provided")),
        other => Err(ValidationErrors::non_field(format!(
            "Invalid data. Expected a dictionary, but got {}.",
            type_name(other)
        ))),
    }
}

/// Parses the fields of a body; `required` names the fields that must be present and
/// `with_provider` whether `provider` is writable.
fn parse_fields(
    object: &Map<String, Value>,
    required: &[&str],
    with_provider: bool,
    names: &ProviderNamePolicy,
    name_taken: bool,
) -> Result<Fields, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for key in object.keys() {
        let known = WRITABLE.contains(&key.as_str()) || READ_ONLY.contains(&key.as_str());
        if !known {
            errors.add(key, "Unknown field.");
        }
    }
    let mut fields = Fields::default();
    for name in WRITABLE {
        if name == "provider" && !with_provider {
            continue;
        }
        let Some(value) = object.get(name) else {
            if required.contains(&name) {
                errors.add(name, REQUIRED);
            }
            continue;
        };
        let result: Result<(), FieldError> = (|| {
            let one = |m: String| FieldError::Messages(vec![m]);
            let all = FieldError::Messages;
            match name {
                "protected_fields" => fields.protected_fields = Some(string_list(value)?),
                "allowed_redirects" => {
                    let urls = string_list(value)?;
                    fields.allowed_redirects = Some(normalise_redirects(&urls).map_err(one)?);
                }
                "provider" => {
                    let provider = required_text(value, Text::required(32)).map_err(all)?;
                    // Uniqueness is checked before the name rule, as the reference does.
                    if name_taken {
                        return Err(one(DUPLICATE_PROVIDER.into()));
                    }
                    if !names.allows(&provider) {
                        return Err(one("Invalid provider.".into()));
                    }
                    fields.provider = Some(provider);
                }
                "is_active" => fields.is_active = Some(boolean(value).map_err(one)?),
                "verify_ssl" => fields.verify_ssl = Some(boolean(value).map_err(one)?),
                "enable_post_logout_redirect" => {
                    fields.enable_post_logout_redirect = Some(boolean(value).map_err(one)?);
                }
                "enable_pkce" => fields.enable_pkce = Some(boolean(value).map_err(one)?),
                "client_id" => {
                    fields.client_id = Some(required_text(value, Text::required(200)).map_err(all)?)
                }
                "client_secret" => {
                    fields.client_secret =
                        Some(required_text(value, Text::required(SECRET_MAX)).map_err(all)?);
                }
                "discovery_url" => {
                    fields.discovery_url =
                        Some(required_text(value, Text::required(200)).map_err(all)?);
                }
                "label" => {
                    fields.label = Some(required_text(value, Text::required(200)).map_err(all)?)
                }
                "management_url" => {
                    fields.management_url =
                        Some(required_text(value, Text::blank(200)).map_err(all)?);
                }
                "extra_scope" => {
                    fields.extra_scope = Some(text(value, Text::nullable(200)).map_err(all)?)
                }
                "extra_fields" => {
                    fields.extra_fields = Some(text(value, Text::nullable(200)).map_err(all)?)
                }
                "user_field" => {
                    fields.user_field =
                        Some(required_text(value, Text::required(100)).map_err(all)?)
                }
                "user_claim" => {
                    fields.user_claim =
                        Some(required_text(value, Text::required(100)).map_err(all)?)
                }
                "attribute_mapping" => {
                    fields.attribute_mapping = Some(AttributeMapping::parse(value).map_err(one)?)
                }
                _ => unreachable!("every writable field is handled"),
            }
            Ok(())
        })();
        if let Err(error) = result {
            errors.set(name, error);
        }
    }
    errors.into_result(fields)
}

/// A validated create body, with the per-provider defaults merged in; the endpoints come from
/// the discovery document and are added by [`NewProvider::into_provider`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProvider(Provider);

impl NewProvider {
    /// Parses and validates a create body: field rules, then the discovery-URL host rule, then
    /// the per-provider defaults for keys the body does not set.
    pub fn parse(body: &Value, names: &ProviderNamePolicy) -> Result<Self, ValidationErrors> {
        Self::parse_unique(body, names, false)
    }

    /// Like [`NewProvider::parse`], where `name_taken` tells whether a provider named
    /// [`NewProvider::requested_name`] already exists: the uniqueness rule is a field rule, so its
    /// message is reported in its place among the others.
    pub fn parse_unique(
        body: &Value,
        names: &ProviderNamePolicy,
        name_taken: bool,
    ) -> Result<Self, ValidationErrors> {
        let object = body_object(body)?;
        let required = [
            "provider",
            "client_id",
            "client_secret",
            "discovery_url",
            "label",
        ];
        let fields = parse_fields(object, &required, true, names, name_taken)?;
        let provider = fields.provider.expect("required");
        let discovery_url = fields.discovery_url.expect("required");
        check_discovery_url_for_provider(&provider, &discovery_url)?;

        let defaults = defaults_for(&provider);
        let mut attribute_mapping = fields.attribute_mapping.unwrap_or_default();
        if let Some(defaults) = defaults {
            for (key, value) in defaults.attribute_mapping {
                if attribute_mapping.get(key).is_none() {
                    attribute_mapping
                        .0
                        .push(((*key).to_owned(), (*value).to_owned()));
                }
            }
        }
        Ok(Self(Provider {
            provider,
            is_active: fields.is_active.unwrap_or(true),
            client_id: fields.client_id.expect("required"),
            client_secret: fields.client_secret.expect("required"),
            verify_ssl: fields.verify_ssl.unwrap_or(true),
            enable_post_logout_redirect: fields.enable_post_logout_redirect.unwrap_or(true),
            enable_pkce: fields.enable_pkce.unwrap_or(false),
            discovery_url,
            endpoints: ProviderEndpoints::default(),
            label: fields.label.expect("required"),
            management_url: fields.management_url.unwrap_or_default(),
            protected_fields: fields.protected_fields.unwrap_or_default(),
            extra_scope: fields
                .extra_scope
                .unwrap_or_else(|| defaults.and_then(|d| d.extra_scope).map(str::to_owned)),
            user_field: fields
                .user_field
                .unwrap_or_else(|| defaults.map_or("username", |d| d.user_field).to_owned()),
            user_claim: fields
                .user_claim
                .unwrap_or_else(|| defaults.map_or("sub", |d| d.user_claim).to_owned()),
            attribute_mapping,
            extra_fields: fields
                .extra_fields
                .unwrap_or_else(|| defaults.map(|d| d.extra_fields.to_owned())),
            allowed_redirects: fields.allowed_redirects.unwrap_or_default(),
        }))
    }

    /// The provider name a create body asks for, read as the field rules read it, when it is a
    /// usable string; the caller checks whether it is taken before parsing.
    pub fn requested_name(body: &Value) -> Option<String> {
        let value = body.as_object()?.get("provider")?;
        required_text(value, Text::required(32)).ok()
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        &self.0.provider
    }

    /// The discovery URL to fetch.
    pub fn discovery_url(&self) -> &str {
        &self.0.discovery_url
    }

    /// Whether the discovery fetch verifies TLS.
    pub fn verify_ssl(&self) -> bool {
        self.0.verify_ssl
    }

    /// The complete provider, with the endpoints read from its discovery document.
    pub fn into_provider(self, endpoints: ProviderEndpoints) -> Provider {
        Provider {
            endpoints,
            ..self.0
        }
    }
}

/// A validated update body: the fields it sets, to apply on a stored provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUpdate(Fields);

impl ProviderUpdate {
    /// Parses and validates an update body for the stored provider named `provider`.
    ///
    /// `provider` in the body is ignored: a provider cannot be renamed. The discovery-URL host
    /// rule applies to a `discovery_url` in the body, against the stored name.
    pub fn parse(
        body: &Value,
        provider: &str,
        kind: UpdateKind,
        names: &ProviderNamePolicy,
    ) -> Result<Self, ValidationErrors> {
        let object = body_object(body)?;
        let required: &[&str] = match kind {
            UpdateKind::Replace => &["client_id", "client_secret", "discovery_url", "label"],
            UpdateKind::Partial => &[],
        };
        let mut ignoring_provider = object.clone();
        ignoring_provider.remove("provider");
        let fields = parse_fields(&ignoring_provider, required, false, names, false)?;
        if let Some(url) = &fields.discovery_url {
            check_discovery_url_for_provider(provider, url)?;
        }
        Ok(Self(fields))
    }

    /// The new discovery URL, when the body sets one; the document must then be fetched again.
    pub fn discovery_url(&self) -> Option<&str> {
        self.0.discovery_url.as_deref()
    }

    /// `verify_ssl` as set by the body, if it sets it.
    pub fn verify_ssl(&self) -> Option<bool> {
        self.0.verify_ssl
    }

    /// Applies the update; `endpoints` replace the stored ones when given.
    pub fn apply(self, provider: &mut Provider, endpoints: Option<ProviderEndpoints>) {
        let f = self.0;
        macro_rules! set {
            ($($field:ident),*) => { $( if let Some(value) = f.$field { provider.$field = value; } )* };
        }
        set!(
            is_active,
            client_id,
            client_secret,
            verify_ssl,
            enable_post_logout_redirect,
            enable_pkce,
            discovery_url,
            label,
            management_url,
            protected_fields,
            extra_scope,
            user_field,
            user_claim,
            attribute_mapping,
            extra_fields,
            allowed_redirects
        );
        if let Some(endpoints) = endpoints {
            provider.endpoints = endpoints;
        }
    }
}
