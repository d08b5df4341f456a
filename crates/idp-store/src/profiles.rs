//! The profiles logins fill: looking users up by any single-value field (inactive users
//! included), counting them by email, storing what a login computed, and reading a profile.
//!
//! What a login changes is computed by `idp_core::login`; this module only finds and stores.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use idp_core::login::{ProfileFields, UserProfile};
use serde_json::{Map, Value};

use crate::conn::DbConnection;
use crate::error::StoreError;
use crate::schema::users;
use crate::store::Store;

diesel::define_sql_function! {
    /// SQL `lower()`, for the case-insensitive email count.
    fn lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// A user a login found, with its stored profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginUser {
    /// Row id.
    pub id: i64,
    /// The profile as stored.
    pub profile: UserProfile,
}

/// What a lookup by a user field found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Nobody has that value.
    None,
    /// Exactly one user has it.
    One(Box<LoginUser>),
    /// Several users have it, so none can be chosen.
    Many,
}

/// The users with one email address, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailCount {
    /// How many there are (counted up to 2: more says nothing new).
    pub count: usize,
    /// The one user, when there is exactly one.
    pub user: Option<LoginUser>,
}

/// Declares the profile's row and changeset over the `users` columns, and the lookup by field.
macro_rules! profile_columns {
    (
        text: [$($text:ident),* $(,)?],
        nullable: [$($nullable:ident),* $(,)?],
        list: [$($list:ident),* $(,)?] $(,)?
    ) => {
        #[derive(Queryable, Selectable)]
        #[diesel(table_name = users)]
        struct ProfileRow {
            id: i64,
            username: String,
            is_staff: bool,
            is_active: bool,
            is_support: bool,
            registration_method: String,
            $($text: String,)*
            $($nullable: Option<String>,)*
            $($list: String,)*
            details: String,
        }

        #[derive(Insertable, AsChangeset)]
        #[diesel(table_name = users, treat_none_as_null = true)]
        struct ProfileChanges {
            username: String,
            is_staff: bool,
            is_active: bool,
            is_support: bool,
            registration_method: String,
            last_login: Option<NaiveDateTime>,
            $($text: String,)*
            $($nullable: Option<String>,)*
            $($list: String,)*
            details: String,
        }

        impl ProfileRow {
            fn into_user(self) -> Result<LoginUser, StoreError> {
                let corrupt = |what: &str, cause| StoreError::Corrupt {
                    what: format!("{what} of user {}", self.id),
                    cause: Some(cause),
                };
                let fields = ProfileFields {
                    $($text: self.$text,)*
                    $($nullable: self.$nullable.unwrap_or_default(),)*
                    $($list: serde_json::from_str(&self.$list)
                        .map_err(|cause| corrupt(stringify!($list), cause))?,)*
                };
                let details: Map<String, Value> = serde_json::from_str(&self.details)
                    .map_err(|cause| corrupt("details", cause))?;
                Ok(LoginUser {
                    id: self.id,
                    profile: UserProfile {
                        username: self.username,
                        is_active: self.is_active,
                        is_staff: self.is_staff,
                        is_support: self.is_support,
                        registration_method: self.registration_method,
                        fields,
                        details,
                    },
                })
            }
        }

        impl ProfileChanges {
            /// The columns of `profile`; NUL characters, which PostgreSQL text cannot hold,
            /// are dropped.
            fn new(profile: &UserProfile, last_login: Option<NaiveDateTime>) -> Self {
                let fields = &profile.fields;
                Self {
                    username: storable(&profile.username),
                    is_staff: profile.is_staff,
                    is_active: profile.is_active,
                    is_support: profile.is_support,
                    registration_method: storable(&profile.registration_method),
                    last_login,
                    $($text: storable(&fields.$text),)*
                    $($nullable: Some(storable(&fields.$nullable)).filter(|v| !v.is_empty()),)*
                    $($list: storable(&Value::from(fields.$list.clone()).to_string()),)*
                    details: storable(&Value::Object(profile.details.clone()).to_string()),
                }
            }
        }

        /// Users whose `field` equals `value` exactly, inactive ones included (at most two).
        fn find_by(
            conn: &mut DbConnection,
            field: &str,
            value: &str,
        ) -> QueryResult<Vec<ProfileRow>> {
            let query = users::table.select(ProfileRow::as_select()).order(users::id).limit(2);
            match field {
                "username" => query.filter(users::username.eq(value)).load(conn),
                $(stringify!($text) => query.filter(users::$text.eq(value)).load(conn),)*
                $(stringify!($nullable) => query.filter(users::$nullable.eq(value)).load(conn),)*
                _ => Ok(Vec::new()),
            }
        }
    };
}

profile_columns! {
    text: [
        first_name, last_name, identity_source, organization, email, phone_number,
        personal_title, place_of_birth, address, country_of_residence, nationality,
        organization_country, organization_type, organization_registry_code,
        organization_vat_code, organization_address,
    ],
    nullable: [civil_number, birth_date, gender],
    list: [affiliations, nationalities, eduperson_assurance],
}

/// `text` without NUL characters.
fn storable(text: &str) -> String {
    text.replace('\0', "")
}

fn is_unique_violation(error: &diesel::result::Error) -> bool {
    matches!(
        error,
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)
    )
}

impl Store {
    /// Looks a login's user up: `field` (`username` or a single-value profile field) equal to
    /// `value`, exactly and case-sensitively, among all users, inactive ones included.
    pub fn find_login_user(&self, field: &str, value: &str) -> Result<Lookup, StoreError> {
        // No stored value holds NUL (it is dropped on write), and PostgreSQL refuses it.
        if value.contains('\0') {
            return Ok(Lookup::None);
        }
        let mut conn = self.conn()?;
        let mut rows = find_by(&mut conn, field, value)?;
        Ok(match rows.len() {
            0 => Lookup::None,
            1 => Lookup::One(Box::new(rows.remove(0).into_user()?)),
            _ => Lookup::Many,
        })
    }

    /// The users whose email equals `email`, case-insensitively.
    pub fn count_users_by_email(&self, email: &str) -> Result<EmailCount, StoreError> {
        if email.contains('\0') {
            return Ok(EmailCount {
                count: 0,
                user: None,
            });
        }
        let mut conn = self.conn()?;
        let mut rows: Vec<ProfileRow> = users::table
            .select(ProfileRow::as_select())
            .filter(lower(users::email).eq(lower(email)))
            .order(users::id)
            .limit(2)
            .load(&mut conn)?;
        let count = rows.len();
        let user = if count == 1 {
            Some(rows.remove(0).into_user()?)
        } else {
            None
        };
        Ok(EmailCount { count, user })
    }

    /// Stores the user a login computed: updates user `id`, or creates a user when `id` is
    /// `None`; `last_login` is set to `now`. Returns the user's id;
    /// [`StoreError::Duplicate`] when the user name is taken (a concurrent first login).
    pub fn save_login_user(
        &self,
        id: Option<i64>,
        profile: &UserProfile,
        now: NaiveDateTime,
    ) -> Result<i64, StoreError> {
        let changes = ProfileChanges::new(profile, Some(now));
        let mut conn = self.conn()?;
        let duplicate = |error: diesel::result::Error| {
            if is_unique_violation(&error) {
                StoreError::Duplicate
            } else {
                error.into()
            }
        };
        match id {
            Some(id) => {
                let updated = diesel::update(users::table.find(id))
                    .set(&changes)
                    .execute(&mut conn)
                    .map_err(duplicate)?;
                if updated == 1 {
                    // A login may grant or revoke staff (roles claim): cached token checks of
                    // this instance must not keep the old flags (see `Store::tokens_changed`).
                    self.tokens_changed();
                    Ok(id)
                } else {
                    Err(StoreError::NotFound)
                }
            }
            None => diesel::insert_into(users::table)
                .values((users::created_at.eq(now), &changes))
                .returning(users::id)
                .get_result(&mut conn)
                .map_err(duplicate),
        }
    }

    /// The profile of user `id`.
    pub fn user_profile(&self, id: i64) -> Result<Option<UserProfile>, StoreError> {
        let mut conn = self.conn()?;
        let row: Option<ProfileRow> = users::table
            .select(ProfileRow::as_select())
            .find(id)
            .first(&mut conn)
            .optional()?;
        row.map(|row| row.into_user().map(|user| user.profile))
            .transpose()
    }

    /// When user `id` last logged in, if ever.
    pub fn last_login(&self, id: i64) -> Result<Option<NaiveDateTime>, StoreError> {
        let mut conn = self.conn()?;
        Ok(users::table
            .select(users::last_login)
            .find(id)
            .first::<Option<NaiveDateTime>>(&mut conn)
            .optional()?
            .flatten())
    }
}
