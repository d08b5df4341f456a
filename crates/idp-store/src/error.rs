//! The store's one error type.

/// What can go wrong when reading or writing the registry.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this store understands.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// No connection could be had in time: the database is down or the pool is exhausted.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A provider with this name already exists.
    #[error("identity provider already exists")]
    Duplicate,
    /// The row changed since it was read (its version differs).
    #[error("the row was changed by another request")]
    Conflict,
    /// The row does not exist (any more).
    #[error("not found")]
    NotFound,
    /// A client secret could not be sealed or opened.
    #[error("secret sealing failed: {0}")]
    Secret(String),
    /// A stored value could not be read back.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// Migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        if let Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _,
        ) = &error
        {
            // The server went away: make the pool test its connections for a while.
            crate::conn::connections_suspect();
        }
        StoreError::Database(error)
    }
}

impl StoreError {
    /// True for errors that mean "try again later" rather than a bug or bad data.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(diesel::result::Error::DatabaseError(kind, _)) => matches!(
                kind,
                diesel::result::DatabaseErrorKind::ClosedConnection
                    | diesel::result::DatabaseErrorKind::SerializationFailure
            ),
            StoreError::Database(diesel::result::Error::BrokenTransactionManager) => true,
            _ => false,
        }
    }
}
