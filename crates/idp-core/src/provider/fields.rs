//! The provider's fields as data, generated from [`provider_fields!`](crate::provider_fields):
//! what the OpenAPI document, the tests and the generic parts of parsing and viewing read.

use serde_json::Value;

use super::input::Fields;
use super::model::Provider;
use super::rules::{
    Boolean, ClaimList, Context, FieldRef, FieldType, Mapping, NullableClaimList, NullableText,
    ProviderName, Redirects, Rule, StringList, Text,
};
use crate::errors::FieldError;

/// Who sees a field in the API's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Anyone who may see the provider.
    Everyone,
    /// Staff only.
    Staff,
    /// Staff only, and only where the deployment exposes secrets; stored sealed.
    Secret,
}

/// Whether a request body must carry a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// The body must carry it.
    Required,
    /// The body may leave it out.
    Optional,
    /// The body may carry it, but it is not read (a provider's name on update).
    Ignored,
}

/// The JSON value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A string.
    Text,
    /// A string or `null`.
    NullableText,
    /// A boolean.
    Boolean,
    /// A list of strings.
    List,
    /// An object of user fields to claims.
    Mapping,
}

/// How a request body's value of a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// A string, trimmed, of at most `max` characters, without NUL; numbers are read as
    /// strings. `blank` allows an empty string, `null` allows `null`.
    Text {
        /// The maximum length in characters.
        max: u64,
        /// Whether an empty (or all-space) string is allowed.
        blank: bool,
        /// Whether `null` is allowed.
        null: bool,
    },
    /// A non-blank string of at most `max` characters that no other provider has and that the
    /// deployment's name policy allows.
    ProviderName {
        /// The maximum length in characters.
        max: u64,
    },
    /// A boolean: `true`/`false`, 1/0 or the usual string spellings.
    Boolean,
    /// A list of non-blank strings.
    List,
    /// A list of redirect origins, each normalised.
    Redirects,
    /// An object mapping writable user fields to non-empty claim lists.
    Mapping,
}

impl FieldRule {
    /// The string rules as `(max, blank, null)`, for the rules that read a string.
    pub fn text_limits(&self) -> Option<(u64, bool, bool)> {
        match *self {
            FieldRule::Text { max, blank, null } => Some((max, blank, null)),
            FieldRule::ProviderName { max } => Some((max, false, false)),
            _ => None,
        }
    }
}

/// Whether requests write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Set by requests, read by `rule`.
    Writable {
        /// How the value is read.
        rule: FieldRule,
        /// Whether a create body must carry it.
        on_create: Presence,
        /// Whether a `PUT` body must carry it; on `PATCH`, every field not `Ignored` is
        /// optional.
        on_put: Presence,
    },
    /// Read from the discovery document; a request may carry it, and it is ignored.
    ReadOnly,
}

/// One field of a provider.
#[derive(Debug, Clone, Copy)]
pub struct ProviderField {
    /// The key in bodies and answers, and the column name.
    pub name: &'static str,
    /// The JSON value it holds.
    pub kind: ValueKind,
    /// Who sees it.
    pub visibility: Visibility,
    /// Whether requests write it, and how.
    pub access: Access,
    /// Whether answers and error bodies list it before the other fields.
    pub first: bool,
    /// Its description in the OpenAPI document.
    pub description: Option<&'static str>,
    /// The field's value in a provider.
    pub(crate) view: for<'p> fn(&'p Provider) -> FieldRef<'p>,
    /// Reads a body's value into the parsed fields (writable fields only).
    pub(crate) read: Option<ReadField>,
}

/// Reads a body's value of one field into the parsed fields.
pub(crate) type ReadField = fn(&Value, &Context<'_>, &mut Fields) -> Result<(), FieldError>;

impl ProviderField {
    /// The fields in the order of the API's answers and error bodies: those listed `first`,
    /// then the others in model order.
    pub fn api_order() -> impl Iterator<Item = &'static ProviderField> + Clone {
        let first = PROVIDER_FIELDS.iter().filter(|field| field.first);
        first.chain(PROVIDER_FIELDS.iter().filter(|field| !field.first))
    }

    /// Whether a caller sees the field; `with_secret` applies to staff only.
    pub fn shown_to(&self, staff: bool, with_secret: bool) -> bool {
        match self.visibility {
            Visibility::Everyone => true,
            Visibility::Staff => staff,
            Visibility::Secret => staff && with_secret,
        }
    }
}

/// What a field definition's `access` becomes in [`ProviderField`].
macro_rules! field_access {
    (writable { rule: $rule:expr, create: $create:ident, put: $put:ident }) => {
        Access::Writable {
            rule: ($rule).describe(),
            on_create: Presence::$create,
            on_put: Presence::$put,
        }
    };
    (read_only {}) => {
        Access::ReadOnly
    };
}

/// How a field definition's value is read into [`Fields`]; read-only fields are not read.
macro_rules! field_read {
    ($name:ident: $ty:ty, writable { rule: $rule:expr, $($_rest:tt)* }) => {
        Some(|value, context, fields| {
            fields.$name = Some(<_ as Rule<$ty>>::read(&$rule, value, context)?);
            Ok(())
        })
    };
    ($name:ident: $ty:ty, read_only {}) => {
        None
    };
}

macro_rules! define_field_table {
    (
        writable: [$($_writable:tt)*]
        read_only: [$($_read_only:tt)*]
        all: [$({
            name: $name:ident, ty: $ty:ty, kind: $kind:ident, place: [$($place:tt)+], show: $show:ident,
            first: $first:literal, description: $description:expr,
            access: $access:ident { $($access_keys:tt)* }
        })*]
    ) => {
        /// Every field of a provider, writable and read-only, in model order (the order of the
        /// OpenAPI schemas); [`ProviderField::api_order`] gives the order of answers.
        pub const PROVIDER_FIELDS: &[ProviderField] = &[$(
            ProviderField {
                name: stringify!($name),
                kind: ValueKind::$kind,
                visibility: Visibility::$show,
                access: field_access!($access { $($access_keys)* }),
                first: $first,
                description: $description,
                view: |provider| FieldType::view(&provider.$($place)+),
                read: field_read!($name: $ty, $access { $($access_keys)* }),
            },
        )*];
    };
}

crate::provider_fields!(define_field_table);

const fn hidden_count() -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < PROVIDER_FIELDS.len() {
        if !matches!(PROVIDER_FIELDS[i].visibility, Visibility::Everyone) {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The fields hidden from anyone but staff, in model order.
pub const HIDDEN_FIELDS: [&str; hidden_count()] = {
    let mut names = [""; hidden_count()];
    let (mut i, mut n) = (0, 0);
    while i < PROVIDER_FIELDS.len() {
        if !matches!(PROVIDER_FIELDS[i].visibility, Visibility::Everyone) {
            names[n] = PROVIDER_FIELDS[i].name;
            n += 1;
        }
        i += 1;
    }
    names
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_unique() {
        for (i, field) in PROVIDER_FIELDS.iter().enumerate() {
            assert!(
                PROVIDER_FIELDS[..i].iter().all(|f| f.name != field.name),
                "{} is defined twice",
                field.name
            );
        }
    }

    #[test]
    fn only_writable_fields_are_read() {
        for field in PROVIDER_FIELDS {
            let writable = matches!(field.access, Access::Writable { .. });
            assert_eq!(field.read.is_some(), writable, "{}", field.name);
        }
    }
}
