//! A provider's row and the values written to it, generated from the field definition in
//! idp-core (`idp_core::provider_fields!`): a column per field, the client secret sealed.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use idp_core::{Provider, ProviderEndpoints};

use crate::columns::{ColumnValue, raw};
use crate::error::StoreError;
use crate::providers::StoredProvider;
use crate::schema::identity_providers as ip;
use crate::secrets::SecretBox;

/// The value written for a field: sealed for secrets, as its type is kept otherwise.
macro_rules! to_column {
    (Secret, $value:expr, $secrets:expr) => {
        $secrets.seal($value)?
    };
    ($show:ident, $value:expr, $secrets:expr) => {
        ColumnValue::to_raw($value)
    };
}

/// The field's value read back from its column; a secret is opened only when `$secrets` is
/// given, and left empty otherwise (for readers who are never shown it).
macro_rules! from_column {
    (Secret, $raw:expr, $secrets:expr, $corrupt:expr) => {
        match $secrets {
            Some(secrets) => secrets.open(&$raw)?,
            None => String::new(),
        }
    };
    ($show:ident, $raw:expr, $secrets:expr, $corrupt:expr) => {
        ColumnValue::from_raw($raw).map_err($corrupt)?
    };
}

macro_rules! provider_rows {
    (
        writable: [$({
            $(#[doc = $_doc:literal])* $name:ident: $_ty:ty {
                kind: $kind:ident, show: $show:ident, $($_keys:tt)*
            }
        })*]
        read_only: [$({
            $(#[doc = $_endpoint_doc:literal])* $endpoint:ident: $_endpoint_ty:ty {
                kind: $endpoint_kind:ident, show: $endpoint_show:ident, $($_endpoint_keys:tt)*
            }
        })*]
        all: [$($_all:tt)*]
    ) => {
        /// A provider's row as read.
        #[derive(Queryable, Selectable)]
        #[diesel(table_name = ip)]
        pub(crate) struct Row {
            $($name: raw::$kind,)*
            $($endpoint: raw::$endpoint_kind,)*
            version: i64,
        }

        /// What a create or an update writes.
        #[derive(Insertable, AsChangeset)]
        #[diesel(table_name = ip, treat_none_as_null = true)]
        pub(crate) struct Changes {
            $($name: raw::$kind,)*
            $($endpoint: raw::$endpoint_kind,)*
            pub(crate) updated_at: NaiveDateTime,
        }

        /// The values to write for `provider`, its client secret sealed.
        pub(crate) fn changes(
            provider: &Provider,
            secrets: &SecretBox,
        ) -> Result<Changes, StoreError> {
            Ok(Changes {
                $($name: to_column!($show, &provider.$name, secrets),)*
                $($endpoint: to_column!($endpoint_show, &provider.endpoints.$endpoint, secrets),)*
                updated_at: now(),
            })
        }

        impl Row {
            /// The stored provider; its client secret is opened only when `secrets` is given,
            /// and left empty otherwise (for readers who are never shown it).
            pub(crate) fn into_stored(
                self,
                secrets: Option<&SecretBox>,
            ) -> Result<StoredProvider, StoreError> {
                let name = self.provider.clone();
                let corrupt = |what: &'static str| {
                    let name = &name;
                    move |cause| StoreError::Corrupt {
                        what: format!("{what} of provider {name}"),
                        cause,
                    }
                };
                Ok(StoredProvider {
                    version: self.version,
                    provider: Provider {
                        $($name: from_column!(
                            $show, self.$name, secrets, corrupt(stringify!($name))
                        ),)*
                        endpoints: ProviderEndpoints {
                            $($endpoint: from_column!(
                                $endpoint_show,
                                self.$endpoint,
                                secrets,
                                corrupt(stringify!($endpoint))
                            ),)*
                        },
                    },
                })
            }
        }
    };
}

idp_core::provider_fields!(provider_rows);

type Backend = <crate::conn::DbConnection as Connection>::Backend;

impl Row {
    /// The row's columns, for `RETURNING`: the column tuple [`Selectable`] derives from the
    /// row's fields. `Row::as_returning()` does not compile with the MultiConnection backend
    /// (`docs/decisions.md`, "Storage"), and `Row::as_select()` serves the selects.
    pub(crate) fn columns() -> <Row as Selectable<Backend>>::SelectExpression {
        <Row as Selectable<Backend>>::construct_selection()
    }
}

pub(crate) fn now() -> NaiveDateTime {
    // Microseconds: what both backends keep.
    let now = Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos() % 1000))
}
