//! How each kind of provider field (`idp_core::ValueKind`) is kept in a column, on both
//! backends.
//!
//! The backends share only a few SQL types (`docs/decisions.md`, "Storage"), so lists and the
//! attribute mapping are kept as JSON text. The column types are named per kind, not computed from
//! the field's type: `diesel::table!` does not compile with a trait's associated type as a column
//! type.

use idp_core::AttributeMapping;

/// The SQL type of a column, by the kind of the field it holds.
pub(crate) mod sql {
    /// A string.
    pub type Text = diesel::sql_types::Text;
    /// A string or `NULL`.
    pub type NullableText = diesel::sql_types::Nullable<diesel::sql_types::Text>;
    /// A boolean.
    pub type Boolean = diesel::sql_types::Bool;
    /// A JSON array of strings.
    pub type List = diesel::sql_types::Text;
    /// A JSON object.
    pub type Mapping = diesel::sql_types::Text;
}

/// What diesel reads and writes for a column, by the kind of the field it holds.
pub(crate) mod raw {
    /// A string.
    pub type Text = String;
    /// A string or `NULL`.
    pub type NullableText = Option<String>;
    /// A boolean.
    pub type Boolean = bool;
    /// JSON text.
    pub type List = String;
    /// JSON text.
    pub type Mapping = String;
}

/// A provider field's type as it is written to and read from its column.
pub(crate) trait ColumnValue: Sized {
    /// What diesel reads and writes; the `raw` alias of the field's kind.
    type Raw;
    /// The value to write.
    fn to_raw(&self) -> Self::Raw;
    /// The field's value, or why the column holds something this type cannot be (the
    /// parser's error, when there is one).
    fn from_raw(raw: Self::Raw) -> Result<Self, Option<serde_json::Error>>;
}

impl ColumnValue for String {
    type Raw = String;
    fn to_raw(&self) -> String {
        self.clone()
    }
    fn from_raw(raw: String) -> Result<Self, Option<serde_json::Error>> {
        Ok(raw)
    }
}

impl ColumnValue for Option<String> {
    type Raw = Option<String>;
    fn to_raw(&self) -> Option<String> {
        self.clone()
    }
    fn from_raw(raw: Option<String>) -> Result<Self, Option<serde_json::Error>> {
        Ok(raw)
    }
}

impl ColumnValue for bool {
    type Raw = bool;
    fn to_raw(&self) -> bool {
        *self
    }
    fn from_raw(raw: bool) -> Result<Self, Option<serde_json::Error>> {
        Ok(raw)
    }
}

/// A JSON array of strings.
impl ColumnValue for Vec<String> {
    type Raw = String;
    fn to_raw(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "[]".into())
    }
    fn from_raw(raw: String) -> Result<Self, Option<serde_json::Error>> {
        serde_json::from_str(&raw).map_err(Some)
    }
}

/// A JSON object, in the mapping's order.
impl ColumnValue for AttributeMapping {
    type Raw = String;
    fn to_raw(&self) -> String {
        self.to_json().to_string()
    }
    fn from_raw(raw: String) -> Result<Self, Option<serde_json::Error>> {
        let json: serde_json::Value = serde_json::from_str(&raw).map_err(Some)?;
        let pairs = json
            .as_object()
            .ok_or(None)?
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
        Ok(AttributeMapping(pairs))
    }
}
