//! The provider model and the view of it that each caller is served.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::fields::ProviderField;

macro_rules! define_model {
    (
        writable: [$({ $(#[doc = $doc:literal])* $name:ident: $ty:ty { $($_keys:tt)* } })*]
        read_only: [$({
            $(#[doc = $endpoint_doc:literal])* $endpoint:ident: $endpoint_ty:ty { $($_endpoint_keys:tt)* }
        })*]
        all: [$($_all:tt)*]
    ) => {
        /// One identity provider's configuration, as stored and served.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Provider {
            $($(#[doc = $doc])* pub $name: $ty,)*
            /// The endpoints taken from the discovery document.
            pub endpoints: ProviderEndpoints,
        }

        /// The endpoints read from a provider's discovery document.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct ProviderEndpoints {
            $($(#[doc = $endpoint_doc])* pub $endpoint: $endpoint_ty,)*
        }
    };
}

crate::provider_fields!(define_model);

impl Provider {
    /// The provider as a JSON object in the API's key order.
    ///
    /// `staff` shows the fields hidden from others; `with_secret` (staff only) includes
    /// `client_secret`.
    pub fn to_json(&self, staff: bool, with_secret: bool) -> Value {
        serde_json::to_value(self.view(staff, with_secret)).unwrap_or_default()
    }

    /// One field's value as the API shows it: for callers that assemble the answers of several
    /// visibilities from one serialisation of each field (the read path's snapshot).
    pub fn field_value<'p>(&'p self, field: &ProviderField) -> impl Serialize + 'p {
        (field.view)(self)
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

impl ProviderView<'_> {
    fn fields(&self) -> impl Iterator<Item = &'static ProviderField> + Clone {
        let (staff, with_secret) = (self.staff, self.with_secret);
        ProviderField::api_order().filter(move |field| field.shown_to(staff, with_secret))
    }
}

impl Serialize for ProviderView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = self.fields();
        let mut map = serializer.serialize_map(Some(fields.clone().count()))?;
        for field in fields {
            map.serialize_entry(field.name, &(field.view)(self.provider))?;
        }
        map.end()
    }
}
