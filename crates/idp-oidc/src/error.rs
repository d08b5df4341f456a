//! Why a discovery document could not be fetched or read.
//!
//! A [`FetchError`] says what happened: its [`FetchErrorKind`] with the details a caller may act
//! on, and the underlying error, when there is one, as its
//! [`source`](std::error::Error::source). `Display` is a short description for people (the
//! `inspect` command prints it with its chain of causes). How an API words each kind for its own
//! clients is the API's business, decided from the kind alone.

use std::fmt;

use crate::cause::Cause;
use crate::guard::GuardError;

/// What went wrong when fetching or reading a discovery document, with its details.
///
/// No kind carries a secret: URLs are kept without their user name and password, and nothing of
/// a request's headers or a response's body is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchErrorKind {
    /// The SSRF guard refused the URL or a redirect target.
    Guard(GuardError),
    /// The TLS handshake failed, usually because the certificate could not be verified.
    Tls,
    /// No connection could be made, or it broke before a response arrived.
    Connect,
    /// The whole fetch took longer than [`FetchPolicy::timeout`](crate::FetchPolicy::timeout).
    Timeout,
    /// The server answered with an error status (4xx or 5xx).
    Status {
        /// The HTTP status code.
        code: u16,
        /// The status's canonical reason phrase, e.g. `Not Found` (empty when it has none).
        reason: String,
        /// The URL that answered, without user name and password.
        url: String,
    },
    /// The body is longer than [`FetchPolicy::max_body_bytes`](crate::FetchPolicy::max_body_bytes).
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// More redirects than [`FetchPolicy::max_redirects`](crate::FetchPolicy::max_redirects).
    TooManyRedirects {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A redirect's `Location` is not a URL.
    InvalidRedirect,
    /// The HTTP client could not be set up (its TLS backend failed to start).
    ClientInit,
    /// The response body broke off or could not be decoded.
    Body,
    /// The request failed in a way none of the other kinds describes.
    Request,
    /// The fetch ended before it finished (its task was cancelled or its runtime shut down).
    Interrupted,
    /// The body is not JSON.
    InvalidJson,
    /// The body is JSON but not an object.
    NotAnObject,
    /// `claims_supported` or `scopes_supported` is present but not a list of strings
    /// (`null` included).
    NotAStringList {
        /// The offending key.
        key: &'static str,
    },
    /// An endpoint is present but not a string.
    InvalidEndpoint(&'static str),
    /// A required endpoint is absent, `null` or empty.
    MissingEndpoint(&'static str),
}

impl FetchErrorKind {
    /// Whether the failure is in the network exchange rather than in the document or the URL.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            Self::Tls
                | Self::Connect
                | Self::Timeout
                | Self::Status { .. }
                | Self::TooLarge { .. }
                | Self::TooManyRedirects { .. }
                | Self::InvalidRedirect
                | Self::ClientInit
                | Self::Body
                | Self::Request
                | Self::Interrupted
        )
    }
}

impl fmt::Display for FetchErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Guard(_) => f.write_str("the SSRF guard refused the URL"),
            Self::Tls => f.write_str("the TLS handshake failed"),
            Self::Connect => f.write_str("no connection could be made"),
            Self::Timeout => f.write_str("the fetch did not finish in time"),
            Self::Status { code, reason, url } if reason.is_empty() => {
                write!(f, "the server answered {code} for {url}")
            }
            Self::Status { code, reason, url } => {
                write!(f, "the server answered {code} {reason} for {url}")
            }
            Self::TooLarge { limit } => write!(f, "the response is larger than {limit} bytes"),
            Self::TooManyRedirects { limit } => write!(f, "more than {limit} redirects"),
            Self::InvalidRedirect => f.write_str("the server redirected to an invalid location"),
            Self::ClientInit => f.write_str("the HTTP client could not be initialised"),
            Self::Body => f.write_str("the response body could not be read"),
            Self::Request => f.write_str("the request failed"),
            Self::Interrupted => f.write_str("the fetch was interrupted"),
            Self::InvalidJson => f.write_str("the document is not JSON"),
            Self::NotAnObject => f.write_str("the document is not a JSON object"),
            Self::NotAStringList { key } => write!(f, "'{key}' is not a list of strings"),
            Self::InvalidEndpoint(key) => write!(f, "the endpoint '{key}' is not a string"),
            Self::MissingEndpoint(key) => write!(f, "the required endpoint '{key}' is missing"),
        }
    }
}

/// Why a discovery document could not be fetched or used: a [`FetchErrorKind`] and, when there
/// is one, the underlying error as the source.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{kind}")]
pub struct FetchError {
    kind: FetchErrorKind,
    #[source]
    cause: Option<Cause>,
}

impl FetchError {
    /// A failure of `kind` caused by `cause`.
    pub(crate) fn caused_by(
        kind: FetchErrorKind,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            kind,
            cause: Some(Cause::new(cause)),
        }
    }

    /// What went wrong, with its details.
    pub fn kind(&self) -> &FetchErrorKind {
        &self.kind
    }

    /// Whether the SSRF guard refused the URL (the reference reports these during request
    /// validation, before any fetch).
    pub fn is_guard(&self) -> bool {
        matches!(self.kind, FetchErrorKind::Guard(_))
    }

    /// Whether the failure is in the network exchange rather than in the document.
    pub fn is_transport(&self) -> bool {
        self.kind.is_transport()
    }
}

impl From<FetchErrorKind> for FetchError {
    fn from(kind: FetchErrorKind) -> Self {
        Self { kind, cause: None }
    }
}

impl From<GuardError> for FetchError {
    fn from(error: GuardError) -> Self {
        Self::caused_by(FetchErrorKind::Guard(error.clone()), error)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The error and its causes, one after the other, as a log prints them.
    fn chain(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    }

    #[test]
    fn a_guard_refusal_keeps_the_guard_error_as_its_kind_and_its_cause() {
        let error = FetchError::from(GuardError::MissingHost);
        assert!(error.is_guard());
        assert!(!error.is_transport());
        assert_eq!(
            error.kind(),
            &FetchErrorKind::Guard(GuardError::MissingHost)
        );
        assert_eq!(
            chain(&error),
            "the SSRF guard refused the URL: URL must include a host."
        );
    }

    #[test]
    fn the_cause_is_the_source_and_never_part_of_the_message() {
        let json = serde_json::from_str::<serde_json::Value>("{oops").unwrap_err();
        let error = FetchError::caused_by(FetchErrorKind::InvalidJson, json);
        assert_eq!(error.to_string(), "the document is not JSON");
        let source = error.source().expect("the parse error is kept");
        assert!(source.to_string().contains("line 1"), "{source}");
        // A shared fetch hands every caller a clone; the cause goes with it.
        assert!(error.clone().source().is_some());
    }

    #[test]
    fn kinds_describe_what_happened_with_their_details() {
        let status = FetchErrorKind::Status {
            code: 404,
            reason: "Not Found".into(),
            url: "https://idp.example.com/x".into(),
        };
        assert!(status.is_transport());
        assert_eq!(
            FetchError::from(status).to_string(),
            "the server answered 404 Not Found for https://idp.example.com/x"
        );
        assert_eq!(
            FetchError::from(FetchErrorKind::MissingEndpoint("token_endpoint")).to_string(),
            "the required endpoint 'token_endpoint' is missing"
        );
        assert!(!FetchErrorKind::InvalidJson.is_transport());
        assert!(FetchErrorKind::Interrupted.is_transport());
    }
}
