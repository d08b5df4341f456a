//! The identity provider: its fields, defined once by [`provider_fields!`](crate::provider_fields),
//! the model and the view served to each caller, and the parsing of request bodies.

mod attribute_mapping;
mod definition;
mod fields;
mod input;
mod model;
mod rules;

pub use attribute_mapping::AttributeMapping;
pub use fields::{
    Access, FieldRule, HIDDEN_FIELDS, PROVIDER_FIELDS, Presence, ProviderField, ValueKind,
    Visibility,
};
pub(crate) use input::draft_provider;
pub use input::{
    DRAFT_MAPPING_FIELDS, DUPLICATE_PROVIDER, NewProvider, ProviderUpdate, UpdateKind,
};
pub use model::{Provider, ProviderEndpoints, ProviderView};
