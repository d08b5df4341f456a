//! The store's one error type.

/// What can go wrong when reading or writing the registry.
///
/// Where a failure has an underlying error, it is kept as the [`source`](std::error::Error::source)
/// rather than copied into the message, so a log shows the whole chain and callers can still
/// tell the causes apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one this store understands.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// No connection could be had in time: the database is down or the pool is exhausted.
    #[error("database unavailable")]
    Unavailable(#[source] diesel::r2d2::PoolError),
    /// A provider with this name already exists.
    #[error("identity provider already exists")]
    Duplicate,
    /// The row changed since it was read (its version differs).
    #[error("the row was changed by another request")]
    Conflict,
    /// The row does not exist (any more).
    #[error("not found")]
    NotFound,
    /// A client secret could not be sealed or opened. The underlying errors are dropped on
    /// purpose: they describe key or plaintext bytes (a UTF-8 error even holds the opened
    /// secret), and none of that may reach a log.
    #[error("secret sealing failed: {0}")]
    Secret(String),
    /// A stored value could not be read back.
    #[error("corrupt stored value: {what}")]
    Corrupt {
        /// Which value of which row.
        what: String,
        /// Why it could not be read, when a parser said so.
        #[source]
        cause: Option<serde_json::Error>,
    },
    /// Migrations could not be applied.
    #[error("migration failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other database error.
    #[error("database error")]
    Database(#[source] diesel::result::Error),
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
            crate::liveness::connections_suspect();
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
