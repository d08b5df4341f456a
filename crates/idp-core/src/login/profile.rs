//! The user profile a login fills: the 22 writable fields, their kinds and limits.
//!
//! Limits and choices are those of the reference's `User` model (waldur-mastermind
//! `waldur_core.core.models.User` and its migrations up to 2026), since a portal written
//! against it expects values that fit:
//!
//! | field | kind | max length |
//! |---|---|---|
//! | `first_name` | text | 100 |
//! | `last_name` | text | 100 |
//! | `identity_source` | text | 50 |
//! | `organization` | text | 255 |
//! | `affiliations` | list | – |
//! | `civil_number` | civil number (text, schac parsing) | 50 |
//! | `email` | text | 320 |
//! | `phone_number` | text | 255 |
//! | `birth_date` | date `YYYY-MM-DD` | – |
//! | `gender` | choice of [`GENDER_CHOICES`] | 10 |
//! | `personal_title` | text | 50 |
//! | `place_of_birth` | text | 255 |
//! | `address` | text | 255 |
//! | `country_of_residence` | text | 2 |
//! | `nationality` | text | 2 |
//! | `nationalities` | list | – |
//! | `organization_country` | text | 2 |
//! | `organization_type` | text | 255 |
//! | `organization_registry_code` | text | 255 |
//! | `organization_vat_code` | text | 20 |
//! | `organization_address` | text | 255 |
//! | `eduperson_assurance` | list | – |
//!
//! `username` (128 in the reference) is not writable by a mapping: it comes from the lookup
//! or is random. Lengths count characters (Unicode scalar values), as Python's `len` does.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

/// How a claim value becomes a field value; see [`crate::login::coerce_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One text value.
    Text,
    /// A list of text values.
    List,
    /// A calendar date, stored as `YYYY-MM-DD`.
    Date,
    /// One of [`GENDER_CHOICES`], lower-cased.
    Gender,
    /// Text; a schacPersonalUniqueID URN becomes country code and identifier.
    CivilNumber,
}

/// One writable user field: its name, kind and maximum length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ProfileField {
    /// The field name, as in [`crate::USER_FIELDS`].
    pub name: &'static str,
    /// How claim values are coerced into it.
    pub kind: FieldKind,
    /// The longest value it takes, in characters; `None` for lists and dates.
    pub max_length: Option<usize>,
}

const fn text(name: &'static str, max_length: usize) -> ProfileField {
    ProfileField {
        name,
        kind: FieldKind::Text,
        max_length: Some(max_length),
    }
}

const fn list(name: &'static str) -> ProfileField {
    ProfileField {
        name,
        kind: FieldKind::List,
        max_length: None,
    }
}

/// The 22 writable fields in the catalogue order of [`crate::USER_FIELDS`].
pub const PROFILE_FIELDS: [ProfileField; 22] = [
    text("first_name", 100),
    text("last_name", 100),
    text("identity_source", 50),
    text("organization", 255),
    list("affiliations"),
    ProfileField {
        name: "civil_number",
        kind: FieldKind::CivilNumber,
        max_length: Some(50),
    },
    text("email", 320),
    text("phone_number", 255),
    ProfileField {
        name: "birth_date",
        kind: FieldKind::Date,
        max_length: None,
    },
    ProfileField {
        name: "gender",
        kind: FieldKind::Gender,
        max_length: Some(10),
    },
    text("personal_title", 50),
    text("place_of_birth", 255),
    text("address", 255),
    text("country_of_residence", 2),
    text("nationality", 2),
    list("nationalities"),
    text("organization_country", 2),
    text("organization_type", 255),
    text("organization_registry_code", 255),
    text("organization_vat_code", 20),
    text("organization_address", 255),
    list("eduperson_assurance"),
];

/// The values `gender` takes (the reference's choices since 2026).
pub const GENDER_CHOICES: [&str; 3] = ["female", "male", "unknown"];

/// The fields synced on every login even when the sync setting leaves them out.
pub const CORE_SYNC_FIELDS: [&str; 3] = ["first_name", "last_name", "email"];

/// Fields stored as NULL rather than `""` when unset (nullable in the reference's model;
/// `civil_number` must be, to be unique).
const NULLABLE: [&str; 3] = ["civil_number", "birth_date", "gender"];

/// Looks a writable field up by name.
pub fn profile_field(name: &str) -> Option<&'static ProfileField> {
    PROFILE_FIELDS.iter().find(|field| field.name == name)
}

/// A value a login writes into a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A text, date or choice value.
    Text(String),
    /// A list value.
    List(Vec<String>),
}

impl FieldValue {
    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            FieldValue::Text(text) => Value::String(text.clone()),
            FieldValue::List(items) => items.iter().cloned().map(Value::String).collect(),
        }
    }
}

macro_rules! profile_fields {
    (
        text: [$($(#[$tdoc:meta])* $text:ident),* $(,)?],
        list: [$($(#[$ldoc:meta])* $list:ident),* $(,)?] $(,)?
    ) => {
        /// The 22 writable fields of a user. Unset text fields are `""` and unset lists are
        /// empty, as in the reference's model; see [`ProfileFields::to_json`] for NULLs.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct ProfileFields {
            $($(#[$tdoc])* pub $text: String,)*
            $($(#[$ldoc])* pub $list: Vec<String>,)*
        }

        impl ProfileFields {
            /// The value of the field called `name`; `None` for a name that is not a field.
            pub fn get(&self, name: &str) -> Option<FieldValue> {
                match name {
                    $(stringify!($text) => Some(FieldValue::Text(self.$text.clone())),)*
                    $(stringify!($list) => Some(FieldValue::List(self.$list.clone())),)*
                    _ => None,
                }
            }

            /// Sets the field called `name`; false (and no change) when there is no such
            /// field or the value's shape does not fit it.
            pub fn set(&mut self, name: &str, value: FieldValue) -> bool {
                match (name, value) {
                    $((stringify!($text), FieldValue::Text(v)) => self.$text = v,)*
                    $((stringify!($list), FieldValue::List(v)) => self.$list = v,)*
                    _ => return false,
                }
                true
            }
        }
    };
}

profile_fields! {
    text: [
        /// Given name.
        first_name,
        /// Family name.
        last_name,
        /// Where the identity comes from.
        identity_source,
        /// Organisation name.
        organization,
        /// National identity number, e.g. `EE60001019906`; `""` is stored as NULL.
        civil_number,
        /// Email address.
        email,
        /// Phone number.
        phone_number,
        /// Date of birth, `YYYY-MM-DD`; `""` is stored as NULL.
        birth_date,
        /// One of [`GENDER_CHOICES`]; `""` is stored as NULL.
        gender,
        /// Honorific title.
        personal_title,
        /// Place of birth.
        place_of_birth,
        /// Postal address.
        address,
        /// ISO 3166-1 alpha-2 country of residence.
        country_of_residence,
        /// ISO 3166-1 alpha-2 primary citizenship.
        nationality,
        /// ISO 3166-1 alpha-2 country of the organisation.
        organization_country,
        /// SCHAC organisation type URN.
        organization_type,
        /// Registry code of the organisation.
        organization_registry_code,
        /// VAT code of the organisation.
        organization_vat_code,
        /// Postal address of the organisation.
        organization_address,
    ],
    list: [
        /// Affiliations within the organisation.
        affiliations,
        /// All citizenships.
        nationalities,
        /// REFEDS assurance URIs.
        eduperson_assurance,
    ],
}

impl ProfileFields {
    /// The field called `name` as JSON: a string or list, or `null` for an unset nullable
    /// field (`civil_number`, `birth_date`, `gender`).
    pub fn to_json(&self, name: &str) -> Value {
        match self.get(name) {
            Some(FieldValue::Text(text)) if text.is_empty() && NULLABLE.contains(&name) => {
                Value::Null
            }
            Some(value) => value.to_json(),
            None => Value::Null,
        }
    }
}

/// Serialised as an object with the 22 fields in catalogue order (see
/// [`ProfileFields::to_json`]).
impl Serialize for ProfileFields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(PROFILE_FIELDS.len()))?;
        for field in &PROFILE_FIELDS {
            map.serialize_entry(field.name, &self.to_json(field.name))?;
        }
        map.end()
    }
}

/// A user as the login flow reads and writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserProfile {
    /// The unique user name.
    pub username: String,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Staff status, which a role claim may grant or revoke.
    pub is_staff: bool,
    /// Support status, which a role claim may grant or revoke.
    pub is_support: bool,
    /// How the user first came: the provider's name for users a login created.
    pub registration_method: String,
    /// The 22 writable fields, flattened into the object when serialised.
    #[serde(flatten)]
    pub fields: ProfileFields,
    /// Extra claims from `extra_fields`, replaced as a whole by a login that brings any.
    pub details: Map<String, Value>,
}

/// The registration method of a user a login creates: the provider's name, except that
/// `remote-eduteams` users count as `eduteams` users (as in the reference).
pub fn registration_method(provider: &str) -> &str {
    if provider == "remote-eduteams" {
        "eduteams"
    } else {
        provider
    }
}

/// Parses an ISO date: a four-digit year (1-9999), a month and a day of one or two digits
/// each, that name a real calendar day; the result is zero-padded `YYYY-MM-DD`.
///
/// This accepts what the reference's date field accepts from a string, without a date
/// library.
pub fn parse_date(text: &str) -> Option<String> {
    let mut parts = text.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || !(1..=2).contains(&month.len()) {
        return None;
    }
    if !(1..=2).contains(&day.len()) {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(year) && digits(month) && digits(day)) {
        return None;
    }
    let (year, month, day): (u32, u32, u32) =
        (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year == 0 || day == 0 || day > days_in_month {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}
