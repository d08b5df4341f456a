//! The parsing of create, update (`PUT`) and partial-update (`PATCH`) bodies.

use serde_json::{Map, Value};

use super::fields::{Access, FieldRule, PROVIDER_FIELDS, Presence, ProviderField};
use super::model::{Provider, ProviderEndpoints};
use super::rules::{Context, ProviderName};
use crate::defaults::{ProviderDefaults, defaults_for};
use crate::errors::{FieldError, ValidationErrors};
use crate::names::ProviderNamePolicy;
use crate::parse::{REQUIRED, type_name};
use crate::url_rules::check_discovery_url_for_provider;

/// The message of a create whose provider name is taken.
pub const DUPLICATE_PROVIDER: &str = "identity provider with this provider already exists.";

/// Whether a body replaces the writable fields (`PUT`) or changes some of them (`PATCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateKind {
    /// `PUT`: the fields the definition marks required on `PUT` (`client_id`, `client_secret`,
    /// `discovery_url` and `label`) must be present.
    Replace,
    /// `PATCH`: every field is optional.
    Partial,
}

/// What a body is for.
#[derive(Debug, Clone, Copy)]
enum Mode {
    Create,
    Update(UpdateKind),
}

impl Mode {
    /// Whether a body in this mode must carry a writable field.
    fn presence(self, on_create: Presence, on_put: Presence) -> Presence {
        match (self, on_put) {
            (Mode::Create, _) => on_create,
            (Mode::Update(_), Presence::Ignored) => Presence::Ignored,
            (Mode::Update(UpdateKind::Replace), presence) => presence,
            (Mode::Update(UpdateKind::Partial), _) => Presence::Optional,
        }
    }
}

/// Calls a field's create default with the value given and the provider's defaults.
fn create_default<T>(
    given: Option<T>,
    defaults: Option<&ProviderDefaults>,
    default: impl FnOnce(Option<T>, Option<&ProviderDefaults>) -> T,
) -> T {
    default(given, defaults)
}

/// The value of a field on create: the one given, or the definition's default.
macro_rules! create_value {
    ($given:expr, $defaults:expr, $missing:ident, $name:ident, Required) => {{
        let given = $given;
        if given.is_none() {
            $missing.add(stringify!($name), REQUIRED);
        }
        given
    }};
    ($given:expr, $defaults:expr, $missing:ident, $name:ident, Optional($default:expr)) => {
        Some(create_default($given, $defaults, $default))
    };
}

macro_rules! define_fields {
    (
        writable: [$({
            $(#[doc = $_doc:literal])* $name:ident: $ty:ty {
                kind: $_kind:ident, show: $_show:ident, first: $_first:literal,
                description: $_description:expr,
                rule: $_rule:expr, create: $create:ident $(($default:expr))?, put: $_put:ident
            }
        })*]
        read_only: [$($_read_only:tt)*]
        all: [$($_all:tt)*]
    ) => {
        /// The writable fields present in a body, each already parsed.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub(crate) struct Fields {
            $(pub(crate) $name: Option<$ty>,)*
        }

        impl Fields {
            /// The provider a create body makes: the values given, the definition's defaults
            /// for the others (some depend on `defaults`, the provider's own), no endpoints yet.
            /// A required field that is missing is reported as such.
            fn into_new(
                self,
                defaults: Option<&ProviderDefaults>,
            ) -> Result<Provider, ValidationErrors> {
                let mut missing = ValidationErrors::new();
                $(let $name = create_value!(
                    self.$name, defaults, missing, $name, $create $(($default))?
                );)*
                let provider = || {
                    Some(Provider {
                        $($name: $name?,)*
                        endpoints: ProviderEndpoints::default(),
                    })
                };
                provider().ok_or(missing)
            }

            /// Sets the fields present on `provider`.
            fn apply_to(self, provider: &mut Provider) {
                $(if let Some(value) = self.$name {
                    provider.$name = value;
                })*
            }
        }
    };
}

crate::provider_fields!(define_fields);

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

/// Parses the fields of a body: unknown keys first, in the body's order, then each field the
/// mode reads, in the API's order.
fn parse_fields(
    object: &Map<String, Value>,
    mode: Mode,
    context: &Context<'_>,
) -> Result<Fields, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    for key in object.keys() {
        if !PROVIDER_FIELDS.iter().any(|field| field.name == key) {
            errors.add(key, "Unknown field.");
        }
    }
    let mut fields = Fields::default();
    for field in ProviderField::api_order() {
        let (
            Access::Writable {
                on_create, on_put, ..
            },
            Some(read),
        ) = (field.access, field.read)
        else {
            continue;
        };
        let presence = mode.presence(on_create, on_put);
        if presence == Presence::Ignored {
            continue;
        }
        match object.get(field.name) {
            Some(value) => {
                if let Err(error) = read(value, context, &mut fields) {
                    errors.set(field.name, error);
                }
            }
            None if presence == Presence::Required => errors.add(field.name, REQUIRED),
            None => {}
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
        let context = Context { names, name_taken };
        let fields = parse_fields(object, Mode::Create, &context)?;
        let defaults = fields.provider.as_deref().and_then(defaults_for);
        let provider = fields.into_new(defaults)?;
        check_discovery_url_for_provider(&provider.provider, &provider.discovery_url)?;
        Ok(Self(provider))
    }

    /// The provider name a create body asks for, read as the field rules read it, when it is a
    /// usable string; the caller checks whether it is taken before parsing.
    pub fn requested_name(body: &Value) -> Option<String> {
        let object = body.as_object()?;
        PROVIDER_FIELDS.iter().find_map(|field| match field.access {
            Access::Writable {
                rule: FieldRule::ProviderName { max },
                ..
            } => ProviderName(max).text(object.get(field.name)?).ok(),
            _ => None,
        })
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
        let context = Context {
            names,
            name_taken: false,
        };
        let fields = parse_fields(object, Mode::Update(kind), &context)?;
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
        self.0.apply_to(provider);
        if let Some(endpoints) = endpoints {
            provider.endpoints = endpoints;
        }
    }
}

/// The provider fields a mapping reads, which a mapping preview's draft may carry besides its
/// claims.
pub const DRAFT_MAPPING_FIELDS: [&str; 5] = [
    "provider",
    "user_field",
    "user_claim",
    "attribute_mapping",
    "extra_fields",
];

/// The provider a draft mapping makes: [`DRAFT_MAPPING_FIELDS`] read by the create rules
/// (`provider` read as text, neither checked for uniqueness nor against the name policy), and
/// everything else, with the named provider's defaults, as a create that leaves it out gets
/// it. The fields a create requires and a mapping does not read are blank. Keys that are not
/// in [`DRAFT_MAPPING_FIELDS`] are not read. `errors` are those found in the body before,
/// which this adds to.
pub(crate) fn draft_provider(
    object: &Map<String, Value>,
    mut errors: ValidationErrors,
) -> Result<Provider, ValidationErrors> {
    let names = ProviderNamePolicy::AnySlug;
    let context = Context {
        names: &names,
        name_taken: false,
    };
    let mut fields = Fields::default();
    for field in ProviderField::api_order() {
        let Some(value) = object.get(field.name) else {
            continue;
        };
        if !DRAFT_MAPPING_FIELDS.contains(&field.name) {
            continue;
        }
        if let Access::Writable {
            rule: FieldRule::ProviderName { max },
            ..
        } = field.access
        {
            match ProviderName(max).text(value) {
                Ok(name) => fields.provider = Some(name),
                Err(messages) => errors.set(field.name, FieldError::Messages(messages)),
            }
        } else if let Some(read) = field.read
            && let Err(error) = read(value, &context, &mut fields)
        {
            errors.set(field.name, error);
        }
    }
    errors.into_result(())?;
    let defaults = fields.provider.as_deref().and_then(defaults_for);
    for required in [
        &mut fields.provider,
        &mut fields.client_id,
        &mut fields.client_secret,
        &mut fields.discovery_url,
        &mut fields.label,
    ] {
        required.get_or_insert_with(String::new);
    }
    fields.into_new(defaults)
}
